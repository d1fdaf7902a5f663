"""Hypotension definition for ASTCT tier 2 (assumption; clinical-criteria.md §1.1 item 7)."""

from __future__ import annotations

from datetime import date

from criteria.crs import assess_crs
from criteria.model import OxygenModality
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(2, 20)
T = NOW - hours(3)


def febrile(birth: date | None = date(1970, 1, 1)) -> Patient:
    return (Patient(birth).car_t().temp(NOW - hours(1), "38.5")
            .o2(NOW - hours(1), OxygenModality.ROOM_AIR))


def test_sbp_89_confirmed_within_60_min_is_grade_2(rules: RuleSet) -> None:
    # §1.1 item 7: SBP < 90 (adult), confirmed by another low reading within 60 min
    result = assess_crs(febrile().bp(T, 89).bp(T + minutes(60), 88).build(), NOW, rules)
    assert result.astct.grade == 2
    assert any("hypotension.adult_sbp_below" in a for a in result.astct.assumptions)


def test_sbp_90_is_not_a_low_reading(rules: RuleSet) -> None:
    # §1.1 item 7: "SBP < 90" strictly
    result = assess_crs(febrile().bp(T, 90).bp(T + minutes(30), 90).build(), NOW, rules)
    assert result.astct.grade == 1


def test_a_second_low_reading_61_min_later_does_not_confirm(rules: RuleSet) -> None:
    # §1.1 item 7: confirmation within 60 min; a single low reading is flagged only
    result = assess_crs(febrile().bp(T, 85).bp(T + minutes(61), 86).build(), NOW, rules)
    assert result.astct.grade == 1
    assert any("not confirmed" in f for f in result.astct.extra["flags"])


def test_map_64_confirmed_is_grade_2_and_map_65_is_not(rules: RuleSet) -> None:
    # §1.1 item 7: MAP < 65 mmHg (>= 18 y)
    low = febrile().bp(T, 100).map(T, 64).bp(T + minutes(20), 100).map(T + minutes(20), 63)
    assert assess_crs(low.build(), NOW, rules).astct.grade == 2
    edge = febrile().bp(T, 100).map(T, 65).bp(T + minutes(20), 100).map(T + minutes(20), 65)
    assert assess_crs(edge.build(), NOW, rules).astct.grade == 1


def test_map_is_estimated_from_sbp_and_dbp_when_not_measured(rules: RuleSet) -> None:
    # §4.5: MAP = DBP + (SBP - DBP)/3; 92/50 -> 64
    result = assess_crs(febrile().bp(T, 92, 50).bp(T + minutes(30), 92, 50).build(), NOW, rules)
    assert result.astct.grade == 2


def test_a_250_ml_bolus_within_2_h_confirms_a_low_reading(rules: RuleSet) -> None:
    # §1.1 item 7: confirmed by a fluid bolus (>= 250 mL over <= 60 min) within 2 h
    result = assess_crs(febrile().bp(T, 84).fluids(T + hours(2), "250").build(), NOW, rules)
    assert result.astct.grade == 2


def test_a_249_ml_bolus_does_not_confirm(rules: RuleSet) -> None:
    # §1.1 item 7: bolus threshold >= 250 mL
    assert assess_crs(febrile().bp(T, 84).fluids(T, "249").build(), NOW, rules).astct.grade == 1


def test_a_bolus_more_than_2_h_after_does_not_confirm(rules: RuleSet) -> None:
    # §1.1 item 7: within 2 h before or after
    timeline = febrile().bp(T, 84).fluids(T + hours(2) + minutes(1), "500").build()
    assert assess_crs(timeline, NOW, rules).astct.grade == 1


def test_a_bolus_run_over_more_than_60_min_does_not_confirm(rules: RuleSet) -> None:
    # §1.1 item 7: over <= 60 min
    timeline = febrile().bp(T, 84).fluids(T, "1000", over=minutes(61)).build()
    assert assess_crs(timeline, NOW, rules).astct.grade == 1


def test_child_of_6_uses_pals_limit_70_plus_2_x_age(rules: RuleSet) -> None:
    # §1.1 item 7: PALS SBP < 70 + 2 x age (1-10 y): age 6 -> < 82
    child = date(2019, 1, 1)
    low = febrile(child).bp(T, 81).bp(T + minutes(15), 81).build()
    assert assess_crs(low, NOW, rules).astct.grade == 2
    edge = febrile(child).bp(T, 82).bp(T + minutes(15), 82).build()
    assert assess_crs(edge, NOW, rules).astct.grade == 1


def test_teenager_uses_sbp_90_and_no_map_limit(rules: RuleSet) -> None:
    # §1.1 item 7: PALS < 90 from 10 y; MAP < 65 is the adult rule only
    teen = date(2010, 1, 1)
    timeline = febrile(teen).bp(T, 95).map(T, 60).bp(T + minutes(15), 95).map(T + minutes(15), 60)
    assert assess_crs(timeline.build(), NOW, rules).astct.grade == 1


def test_neonate_limit_is_60(rules: RuleSet) -> None:
    # §1.1 item 7: PALS < 60 at 0-28 days
    born = (NOW - hours(24 * 20)).date()
    low = febrile(born).bp(T, 59).bp(T + minutes(10), 59).build()
    assert assess_crs(low, NOW, rules).astct.grade == 2
    edge = febrile(born).bp(T, 60).bp(T + minutes(10), 60).build()
    assert assess_crs(edge, NOW, rules).astct.grade == 1


def test_hypotension_with_a_vasopressor_is_graded_by_the_vasopressor(rules: RuleSet) -> None:
    # §1.1 item 7: tier 2 only without a vasopressor; tiers 3-4 rest on the infusions
    timeline = (febrile().bp(T, 80).infusion("norepinephrine", T + minutes(30)).build())
    assert assess_crs(timeline, NOW, rules).astct.grade == 3


def test_hypotension_definition_is_configurable() -> None:
    # §1.1 item 7 (assumption): a site may set its own limit
    rules = load_rules({"hypotension.adult_sbp_below": 95})
    timeline = febrile().bp(T, 92).bp(T + minutes(10), 93).build()
    result = assess_crs(timeline, NOW, rules)
    assert result.astct.grade == 2
    assert any("site setting" in a for a in result.astct.assumptions)
