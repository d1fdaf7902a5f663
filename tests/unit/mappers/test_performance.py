"""A 1,000-Observation bundle maps completely (timing lives in benchmarks/mapping.py)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from fhir_mappers.timeline import build_timeline

from .conftest import EXPECTED, NOW, load


def _bundle(n: int) -> dict[str, Any]:
    """Repeat the US Core vitals fixture n times, 5 minutes apart, all in the window."""
    templates = [e["resource"] for e in load("vitals_us_core.json")["entry"]
                 if e["resource"]["resourceType"] == "Observation"]
    entries = []
    for i in range(n):
        res = copy.deepcopy(templates[i % len(templates)])
        res["id"] = f"bench-{i}"
        res["effectiveDateTime"] = (NOW - timedelta(minutes=5 * i)).isoformat()
        res["text"] = {"status": "generated",
                       "div": '<div xmlns="http://www.w3.org/1999/xhtml">vital sign</div>'}
        entries.append({"fullUrl": f"https://ehr.example.org/fhir/Observation/bench-{i}",
                        "resource": res})
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def test_mapping_1000_observations_keeps_every_relevant_one() -> None:
    bundle = _bundle(1000)
    timeline = build_timeline({"vitals": bundle}, now=NOW, expected=EXPECTED)
    assert len(timeline.series("temperature")) == 273  # 3 of every 11 templates
    assert not [w for w in timeline.warnings if w.code == "invalid-resource"]
