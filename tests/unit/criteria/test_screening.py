"""Who is screened for CRS (clinical-criteria.md §0 Defaults; issue 4 "Who is screened")."""

from __future__ import annotations

from datetime import datetime

from criteria.crs import assess_crs
from criteria.model import DrugClass, DrugSource, OxygenModality
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.builders import DAY0, Patient, hours, minutes

FEVER = "39.1"


def febrile(patient: Patient, now: datetime) -> Patient:
    return patient.temp(now - hours(1), FEVER).o2(now - hours(1), OxygenModality.ROOM_AIR)


def test_fever_without_car_t_or_bispecific_is_not_crs(rules: RuleSet) -> None:
    # ASTCT grading is defined only after IEC / T-cell engaging therapy (issue 4; §0 Defaults)
    now = DAY0
    result = assess_crs(febrile(Patient(), now).build(), now, rules)
    assert result.screened is False
    assert (result.astct.met, result.astct.grade) == (False, 0)
    assert result.astct.assumptions[0].startswith("not screened for CRS")
    assert (result.lee.met, result.ctcae.met) == (False, False)


def test_car_t_30_days_ago_is_screened_30_days_and_1_minute_is_not(rules: RuleSet) -> None:
    # §0 Defaults: CAR-T infusion in the last 30 d (assumption, configurable)
    now = DAY0 + hours(24 * 30)
    inside = assess_crs(febrile(Patient().car_t(), now).build(), now, rules)
    assert inside.screened is True
    assert inside.astct.grade == 1
    later = now + minutes(1)
    outside = assess_crs(febrile(Patient().car_t(), later).build(), later, rules)
    assert outside.screened is False
    assert outside.astct.met is False


def test_bispecific_14_days_after_the_last_dose(rules: RuleSet) -> None:
    # §0 Defaults: bispecific dose in the last 14 d
    patient = Patient().bispecific(DAY0).bispecific(DAY0 + hours(24 * 7))
    now = DAY0 + hours(24 * 21)
    assert assess_crs(febrile(patient, now).build(), now, rules).screened is True
    later = now + minutes(1)
    assert assess_crs(febrile(patient, later).build(), later, rules).screened is False


def test_site_may_screen_everyone() -> None:
    # Issue 4: "or for everyone when a site turns that on"
    rules = load_rules({"screening.everyone": True})
    result = assess_crs(febrile(Patient(), DAY0).build(), DAY0, rules)
    assert result.screened is True
    assert result.astct.grade == 1
    assert any("screening.everyone" in a for a in result.astct.assumptions)


def test_screening_window_is_configurable_and_named() -> None:
    rules = load_rules({"screening.car_t_window": 60})
    now = DAY0 + hours(24 * 45)
    result = assess_crs(febrile(Patient().car_t(), now).build(), now, rules)
    assert result.screened is True
    assert any("60 d, site setting" in a for a in result.astct.assumptions)


def test_an_unsigned_or_ordered_car_t_is_not_an_infusion(rules: RuleSet) -> None:
    # §1.1 item 2 / §0: only administrations completed or in-progress are given
    patient = Patient().drug(DrugClass.CAR_T, "tisagenlecleucel", DAY0, status="active",
                             source=DrugSource.ORDER)
    assert assess_crs(febrile(patient, DAY0 + hours(5)).build(), DAY0 + hours(5),
                      rules).screened is False


def test_unavailable_medication_data_is_insufficient(rules: RuleSet) -> None:
    # Conventions §0: unknown is never negative -> met null
    patient = febrile(Patient(), DAY0)
    patient.unavailable = ("medadmin",)
    result = assess_crs(patient.build(), DAY0, rules)
    assert result.astct.met is None
    assert "medication administrations (CAR-T or bispecific therapy)" in result.astct.missing
