"""A draft tocilizumab order against the §3.1 dose arithmetic and repeat limits (issue 7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from criteria.model import DrugSource
from criteria.order_checks import assess_orders
from criteria.rules import RuleSet
from criteria.tocilizumab_order import check_tocilizumab_order, ordered_mg
from tests.unit.criteria.builders import Patient, day, hours, minutes
from tests.unit.criteria.test_order_checks import draft, with_data

NOW = day(3, 2)


def toci(dose: str | None = "560", unit: str = "mg", ref: str = "MedicationRequest/t1"):  # noqa: ANN201
    return draft("tocilizumab", "tocilizumab", ref=ref, dose=dose, unit=unit, at=NOW)


def adult(kg: str = "70") -> Patient:
    return Patient().car_t().weight(day(2), kg)


def check(patient: Patient, order=None, onset=None, rules: RuleSet | None = None):  # noqa: ANN001, ANN201
    from criteria.rules import load_rules

    order = order or toci()
    timeline = with_data(patient.build(), drafts=(order,))
    return check_tocilizumab_order(timeline, order, NOW, rules or load_rules(), onset)


def status(result, name: str) -> str:  # noqa: ANN001
    return next(r.status for r in result.results if r.check == name)


# --- dose arithmetic ----------------------------------------------------------------------------

def test_unchanged_draft_when_dose_and_limits_are_fine() -> None:
    result = check(adult())
    assert [r.status for r in result.results] == ["pass", "pass"]
    assert result.corrected_mg is None
    assert not result.blocked


@pytest.mark.parametrize(("dose", "expected"), [
    ("616", "pass"),  # 560 + 10 % tolerance (order.tocilizumab_dose_tolerance): allowed
    ("617", "fail"),
    ("504", "pass"),  # 560 - 10 %
    ("503", "fail"),
])
def test_dose_tolerance_boundaries(dose: str, expected: str) -> None:
    result = check(adult(), toci(dose))
    assert status(result, "dose") == expected
    if expected == "fail":
        assert result.corrected_mg == Decimal(560)


def test_dose_over_the_800_mg_cap_is_critical_with_the_capped_dose() -> None:
    # 110 kg -> 880 mg, capped at 800 (CC §3.1 example)
    assert status(check(adult("110"), toci("800")), "dose") == "pass"
    over = check(adult("110"), toci("801"))
    assert status(over, "dose") == "critical"
    assert over.corrected_mg == Decimal(800)
    assert "801 mg exceeds the 800 mg cap" in over.results[0].finding


def test_12_mg_per_kg_under_30_kg() -> None:
    # 22 kg, age 6 -> 12 mg/kg -> 264 mg (CC §3.1 example); 8 mg/kg there is a wrong dose
    child = Patient(date(2019, 1, 1)).car_t().weight(day(2), "22")
    assert status(check(child, toci("264")), "dose") == "pass"
    low = check(child, toci("176"))
    assert (status(low, "dose"), low.corrected_mg) == ("fail", Decimal(264))
    assert "below the weight-based dose 12 mg/kg × 22 kg = 264 mg" in low.results[0].finding
    assert status(check(adult("30"), toci("240")), "dose") == "pass"  # 8 mg/kg at 30 kg


def test_no_labelled_dose_under_2_years() -> None:
    infant = Patient(date(2024, 6, 1)).car_t().weight(day(2), "11")
    result = check(infant, toci("132"))
    assert status(result, "dose") == "fail"
    assert "no labelled tocilizumab dose under 2 years" in result.results[0].finding
    assert result.corrected_mg is None


def test_no_weight_means_the_dose_cannot_be_checked() -> None:
    result = check(Patient().car_t(), toci("560"))
    assert status(result, "dose") == "fail"
    assert "dosing weight" in result.results[0].missing


@pytest.mark.parametrize(("dose", "unit", "mg"), [
    ("560", "mg", "560"), ("0.56", "g", "560"), ("8", "mg/kg", "560"), ("560000", "ug", "560")])
def test_ordered_dose_units(dose: str, unit: str, mg: str) -> None:
    assert ordered_mg(toci(dose, unit), Decimal(70)) == Decimal(mg)


def test_dose_without_mg_is_fixed_by_a_dose() -> None:
    result = check(adult(), toci("1", "{pill}"))
    assert status(result, "dose") == "fail"
    assert result.corrected_mg == Decimal(560)
    assert check(adult(), toci(None)).corrected_mg == Decimal(560)


# --- repeat limits: counted doses, 8 h, closed 24 h window, episode ----------------------------

def test_exactly_8_h_allowed_and_7_h_59_blocked() -> None:
    assert status(check(adult().tocilizumab(NOW - hours(8)), onset=day(2)), "limits") == "pass"
    blocked = check(adult().tocilizumab(NOW - hours(8) + minutes(1)), onset=day(2))
    assert status(blocked, "limits") == "fail"
    assert blocked.blocked
    assert "at least 8 h required" in blocked.results[1].finding
    assert blocked.corrected_mg is None or status(blocked, "dose") != "pass"


def test_closed_24_h_window_example() -> None:
    # CC §3.1: doses at 02:00, 10:00, 18:00; a new order at 02:00 next day is blocked (three
    # in the closed window); at 02:10 allowed, the fourth and last of the episode.
    def patient() -> Patient:
        return adult().tocilizumab(day(2, 2)).tocilizumab(day(2, 10)).tocilizumab(day(2, 18))

    order = toci()
    at_02 = with_data(patient().build(), drafts=(order,))
    from criteria.rules import load_rules

    rules = load_rules()
    blocked = check_tocilizumab_order(at_02, order, day(3, 2), rules, day(2, 1))
    assert blocked.blocked
    assert "3 doses in the last 24 h" in blocked.results[1].finding
    allowed = check_tocilizumab_order(at_02, order, day(3, 2, 10), rules, day(2, 1))
    assert not allowed.blocked
    assert any("dose 4 of 4" in a for a in allowed.results[0].assumptions)


def test_fifth_dose_in_an_episode_is_blocked() -> None:
    patient = adult()
    for n in range(4):
        patient.tocilizumab(day(1, 0) + hours(10 * n))
    result = check(patient, onset=day(1, 0))
    assert result.blocked
    assert "4 doses in this CRS episode; at most 4" in result.results[1].finding


def test_signed_order_not_charted_counts_and_charted_counts_once() -> None:
    signed = adult().tocilizumab(NOW - hours(3), status="active", source=DrugSource.ORDER,
                                 reference="MedicationRequest/old")
    assert check(signed, onset=day(2)).blocked
    charted = adult().tocilizumab(NOW - hours(9), status="active", source=DrugSource.ORDER,
                                  reference="MedicationRequest/old").tocilizumab(
        NOW - hours(9), request="MedicationRequest/old")
    result = check(charted, onset=day(2))
    assert result.check.counted_24h == 1
    assert not result.blocked


def test_the_draft_being_signed_is_the_candidate_not_a_prior_dose() -> None:
    # A revised order re-signed: the same id arrives as a signed order in medorders.
    same = adult().tocilizumab(NOW - hours(1), status="active", source=DrugSource.ORDER,
                               reference="MedicationRequest/t1")
    result = check(same, toci(ref="MedicationRequest/t1"), onset=day(2))
    assert not result.blocked
    assert result.check.counted_24h == 0


def test_two_tocilizumab_drafts_in_one_signing_are_flagged(rules: RuleSet) -> None:
    first, second = toci(ref="MedicationRequest/a"), toci(ref="MedicationRequest/b")
    timeline = with_data(adult().build(), drafts=(first, second))
    result = check_tocilizumab_order(timeline, first, NOW, rules, None)
    assert result.blocked
    assert "2 tocilizumab orders in this signing" in result.results[1].finding


def test_not_checked_outside_car_t_or_bispecific_care(rules: RuleSet) -> None:
    order = toci("162")
    timeline = with_data(Patient().weight(day(2), "70").build(), drafts=(order,))
    found = assess_orders(timeline, NOW, rules)[0]
    assert not found.applicable
    assert found.worst == "note"
    with_cart = with_data(Patient().weight(day(2), "70").build(), drafts=(
        order, draft("car-t", "tisagenlecleucel", ref="MedicationRequest/k")))
    assert assess_orders(with_cart, NOW, rules)[0].applicable
