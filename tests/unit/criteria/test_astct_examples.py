"""The worked examples of clinical-criteria.md §1.1, and the JSON form of the assessment."""

from __future__ import annotations

from criteria.crs import assess_crs
from criteria.model import OxygenModality
from criteria.rules import RuleSet
from criteria.vasopressors import CHANGEOVER
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(2, 16)


def test_example_1_changeover_is_grade_3_flagged(rules: RuleSet) -> None:
    # §1.1 example 1: T 39.2, NE for 5 h, phenylephrine started 25 min ago, room air -> 3
    timeline = (Patient().car_t().temp(NOW - hours(1), "39.2").bp(NOW - hours(6), 86)
                .infusion("norepinephrine", NOW - hours(5))
                .infusion("phenylephrine", NOW - minutes(25))
                .o2(NOW - minutes(10), OxygenModality.ROOM_AIR).build())
    result = assess_crs(timeline, NOW, rules)
    assert result.astct.grade == 3
    assert CHANGEOVER in result.astct.extra["flags"]


def test_example_3_cannula_without_flow_is_at_least_2(rules: RuleSet) -> None:
    # §1.1 example 3: T 38.8, standard nasal cannula, no flow, normotensive -> "≥2", flow missing
    timeline = (Patient().car_t().temp(NOW - hours(1), "38.8").bp(NOW - hours(1), 126)
                .o2(NOW - hours(1), OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW,
                    flags=("flow-missing",)).build())
    result = assess_crs(timeline, NOW, rules)
    assert (result.astct.grade, result.lower_bound) == (2, True)
    assert result.astct.to_json()["raiseHint"] == "≥2; 3 if flow >6 L/min"


def test_worse_event_sets_the_grade(rules: RuleSet) -> None:
    # §1.1 item 3: grade = max(hypotension tier, hypoxia tier), at least 1 with fever
    timeline = (Patient().car_t().temp(NOW - hours(1), "38.2")
                .infusion("norepinephrine", NOW - hours(2))
                .o2(NOW - hours(1), OxygenModality.BIPAP).build())
    assert assess_crs(timeline, NOW, rules).astct.grade == 4


def test_serialised_form_matches_the_issue(rules: RuleSet) -> None:
    # Issue 4: {"criteria", "met", "grade", "peakGrade", "onset", "evaluatedAt", "evidence", ...}
    timeline = (Patient().car_t().temp(NOW - hours(1), "39.4").bp(NOW, 120)
                .o2(NOW, OxygenModality.ROOM_AIR).build())
    out = assess_crs(timeline, NOW, rules).astct.to_json()
    assert out["criteria"] == "astct-2019-crs"
    assert (out["met"], out["grade"], out["peakGrade"]) == (True, 1, 1)
    assert out["onset"] == "2025-03-05T15:00:00Z"
    assert out["evaluatedAt"] == "2025-03-05T16:00:00Z"
    temperature = next(e for e in out["evidence"] if e["item"] == "temperature")
    assert temperature == {"item": "temperature", "value": 39.4, "unit": "Cel",
                           "time": "2025-03-05T15:00:00Z", "reference": "Observation/2",
                           "note": "24 h maximum; fever"}
    assert out["episode"]["currentGrade"] == 1
    assert out["caveats"][0].startswith("ASTCT counts fever")
    assert out["rulesVersion"] == rules.version


def test_evaluation_time_replays_the_past(rules: RuleSet) -> None:
    # Issue 4: evaluation time is an argument; later data are ignored
    timeline = (Patient().car_t().temp(day(2, 8), "37.0").temp(day(2, 20), "39.0")
                .o2(day(2, 8), OxygenModality.ROOM_AIR).build())
    assert assess_crs(timeline, day(2, 9), rules).astct.grade == 0
    assert assess_crs(timeline, day(2, 21), rules).astct.grade == 1


def test_naive_evaluation_time_is_refused(rules: RuleSet) -> None:
    import pytest

    with pytest.raises(ValueError, match="timezone-aware"):
        assess_crs(Patient().build(), NOW.replace(tzinfo=None), rules)
