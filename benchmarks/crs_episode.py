"""Time assess_crs (with its episode view) on a long, busy multi-day CRS course.

Run: .venv/bin/python -m benchmarks.crs_episode [VITALS PRESSOR_ENTRIES DAYS]
(default 1500 vitals and 120 pressor rate entries over 5 days). Prints figures only.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from criteria.crs import assess_crs
from criteria.model import (
    DrugClass,
    DrugExposure,
    DrugSource,
    Measurement,
    OxygenModality,
    OxygenSupport,
    PatientInfo,
    PatientTimeline,
)
from criteria.rules import load_rules

DAY0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def busy_course(vitals: int, pressor_entries: int, days: int) -> tuple[PatientTimeline, datetime]:
    """Return a CAR-T patient febrile from day +1 with BP, O2 and charted pressor rates."""
    start = DAY0 + timedelta(days=1)
    span = timedelta(days=days)
    now = start + span
    step = span / vitals
    temps, sbps, dbps = [], [], []
    for i in range(vitals):
        t = start + step * i
        if i % 2 == 0:
            value = Decimal("38.9") if (i // 40) % 3 else Decimal("37.2")
            temps.append(Measurement("temperature", t, value, "Cel", f"Observation/t{i}"))
        else:
            value = Decimal("84") if (i // 25) % 4 == 0 else Decimal("112")
            sbps.append(Measurement("systolic_bp", t, value, "mm[Hg]", f"Observation/b{i}"))
            dbps.append(Measurement("diastolic_bp", t, value - 30, "mm[Hg]", f"Observation/d{i}"))
    drugs = [DrugExposure(DrugClass.CAR_T, "axicabtagene ciloleucel", DAY0,
                          DrugSource.ADMINISTRATION, "completed", "MedicationAdministration/c")]
    gap = span / pressor_entries
    for i in range(pressor_entries):
        agent = "norepinephrine" if (i // 10) % 2 == 0 else "vasopressin"
        cls = DrugClass.VASOPRESSOR if agent == "norepinephrine" else DrugClass.VASOPRESSIN_CLASS
        drugs.append(DrugExposure(cls, agent, start + gap * i, DrugSource.ADMINISTRATION,
                                  "completed", f"MedicationAdministration/p{i}",
                                  rate=Decimal(8 + i % 15), rate_unit="ug/min",
                                  is_continuous=True))
    drugs.append(DrugExposure(DrugClass.ANTIPYRETIC, "acetaminophen", start + timedelta(hours=3),
                              DrugSource.ADMINISTRATION, "completed",
                              "MedicationAdministration/a"))
    oxygen = [OxygenSupport(start + timedelta(hours=6 * k),
                            OxygenModality.LOW_FLOW_CANNULA if k % 3 else
                            OxygenModality.HIGH_FLOW_CANNULA,
                            Decimal(2 + k % 9), None, (f"Observation/o{k}",))
              for k in range(days * 4)]
    oxygen[-1] = replace(oxygen[-1], running=True)
    timeline = PatientTimeline(
        PatientInfo("Patient/bench", DAY0.date().replace(year=1960)),
        {"temperature": tuple(temps), "systolic_bp": tuple(sbps), "diastolic_bp": tuple(dbps)},
        tuple(oxygen), tuple(sorted(drugs, key=lambda d: d.start)))
    return timeline, now


def main(vitals: int, pressor_entries: int, days: int) -> None:
    """Print the median wall time of assess_crs and the episode it finds."""
    rules = load_rules()
    timeline, now = busy_course(vitals, pressor_entries, days)
    runs = []
    result = None
    for _ in range(5):
        began = time.perf_counter()
        result = assess_crs(timeline, now, rules)
        runs.append(time.perf_counter() - began)
    assert result is not None
    ep = result.episode
    print(f"{vitals} vitals, {pressor_entries} pressor entries, {days} d")
    print(f"assess_crs: median {statistics.median(runs) * 1000:.0f} ms, "
          f"min {min(runs) * 1000:.0f} ms over {len(runs)} runs")
    if ep is not None:
        print(f"grade {result.astct.grade}, peak {ep.peak_grade}, current {ep.current_grade}, "
              f"trend {ep.trend}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]] or [1500, 120, 5]
    main(*args)
