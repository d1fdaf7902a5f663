"""ASTCT 2019 fever rule: T >= 38.0 °C on the 24 h maximum (clinical-criteria.md §1.1 item 1)."""

from __future__ import annotations

from criteria.crs import assess_crs
from criteria.model import OxygenModality
from criteria.rules import RuleSet
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(2, 14)


def febrile(celsius: str) -> Patient:
    return (Patient().car_t().temp(NOW - hours(2), celsius)
            .o2(NOW - hours(1), OxygenModality.ROOM_AIR).bp(NOW - hours(1), 118))


def test_temperature_of_38_0_is_fever_grade_1(rules: RuleSet) -> None:
    # ASTCT 2019 (Lee 2019) grade 1: T >= 38.0 °C; clinical-criteria.md §1.1 item 1
    result = assess_crs(febrile("38.0").build(), NOW, rules)
    assert result.astct.met is True
    assert result.astct.grade == 1
    assert result.findings.fever is not None


def test_temperature_of_37_9_is_not_fever_and_not_crs(rules: RuleSet) -> None:
    # ASTCT 2019: below 38.0 °C there is no fever; without prior CRS treatment, not CRS (§1.1)
    result = assess_crs(febrile("37.9").build(), NOW, rules)
    assert result.astct.met is False
    assert result.astct.grade == 0
    assert result.findings.fever is None


def test_fever_is_read_on_the_24_h_maximum(rules: RuleSet) -> None:
    # clinical-criteria.md §0 Defaults (Temperature: maximum in the last 24 h)
    timeline = febrile("37.2").temp(NOW - hours(20), "38.6").temp(NOW - hours(10), "38.1").build()
    result = assess_crs(timeline, NOW, rules)
    assert result.astct.grade == 1
    assert result.findings.max_temperature is not None
    assert str(result.findings.max_temperature.value) == "38.6"


def test_a_fever_exactly_24_h_ago_still_counts(rules: RuleSet) -> None:
    # §0 Defaults: closed 24 h window; both sides of the boundary
    base = Patient().car_t().temp(NOW - hours(1), "37.0").o2(NOW, OxygenModality.ROOM_AIR)
    inside = assess_crs(base.temp(NOW - hours(24), "38.4").build(), NOW, rules)
    assert inside.astct.grade == 1
    outside = (Patient().car_t().temp(NOW - hours(1), "37.0").o2(NOW, OxygenModality.ROOM_AIR)
               .temp(NOW - hours(24) - minutes(1), "38.4").build())
    assert assess_crs(outside, NOW, rules).astct.grade == 0


def test_no_temperature_in_24_h_and_no_crs_treatment_is_insufficient_data(rules: RuleSet) -> None:
    # Conventions §0: missing data is unknown, never negative -> met null
    timeline = Patient().car_t().o2(NOW, OxygenModality.LOW_FLOW_CANNULA, flow=2).build()
    result = assess_crs(timeline, NOW, rules)
    assert result.astct.met is None
    assert result.astct.grade is None
    assert "temperature in the last 24 h" in result.astct.missing


def test_nccn_strict_greater_than_is_not_used(rules: RuleSet) -> None:
    # §1.1 item 1: NCCN prints ">38"; ASTCT says >=38. The threshold and its tag live in data.
    assert str(rules.decimal("astct.fever_min")) == "38.0"
    assert rules.confidence("astct.fever_min") == "V"
