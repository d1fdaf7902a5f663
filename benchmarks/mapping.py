"""Time build_timeline against fhir.resources Bundle.model_validate on the same bundle.

Run: .venv/bin/python -m benchmarks.mapping [N ...]   (default sizes 100 1000 10000)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fhir_mappers.r4 import Bundle
from fhir_mappers.timeline import build_timeline

NOW = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
EXPECTED = {"vitals": ("Observation", True)}


def vitals_bundle(n: int) -> dict[str, Any]:
    """Temperatures, BP panels and SpO2, one every 5 minutes back from NOW."""
    entries = []
    for i in range(n):
        t = (NOW - timedelta(minutes=5 * i)).isoformat()
        kind = i % 3
        code, value = (("8310-5", {"valueQuantity": {"value": 37.2, "unit": "Cel",
                        "system": "http://unitsofmeasure.org", "code": "Cel"}}) if kind == 0 else
                       ("8867-4", {"valueQuantity": {"value": 88, "unit": "/min",
                        "system": "http://unitsofmeasure.org", "code": "/min"}}) if kind == 1 else
                       ("9279-1", {"valueQuantity": {"value": 18, "unit": "/min",
                        "system": "http://unitsofmeasure.org", "code": "/min"}}))
        res = {"resourceType": "Observation", "id": f"o{i}", "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                   "observation-category",
                                         "code": "vital-signs"}]}],
               "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
               "subject": {"reference": "Patient/p1"}, "effectiveDateTime": t, **value}
        entries.append({"fullUrl": f"https://ehr.example.org/fhir/Observation/o{i}",
                        "resource": res})
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def timed(func: Callable[[], object], runs: int) -> list[float]:
    """Return wall times in ms."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main(sizes: list[int]) -> None:
    """Print median times and the ratio per size."""
    print(f"{'N':>6} {'model_validate ms':>18} {'build_timeline ms':>18} {'ratio':>6}")
    for n in sizes:
        bundle = vitals_bundle(n)
        runs = max(3, 3000 // n)
        naive = statistics.median(timed(lambda b=bundle: Bundle.model_validate(b), runs))
        ours = statistics.median(timed(
            lambda b=bundle: build_timeline({"vitals": b}, now=NOW, expected=EXPECTED), runs))
        print(f"{n:>6} {naive:>18.1f} {ours:>18.1f} {ours / naive:>6.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
