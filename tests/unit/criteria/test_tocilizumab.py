"""Tocilizumab dose and repeat limits (clinical-criteria.md §3.1; dosing weight §0 Defaults)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from criteria.model import DrugSource
from criteria.rules import RuleSet, load_rules
from criteria.tocilizumab import check_tocilizumab
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(3, 2)


DAY_0 = day(0)


def adult(kg: str = "70", weighed: datetime = DAY_0) -> Patient:
    return Patient().car_t().weight(weighed, kg)


def test_child_of_22_kg_gets_12_mg_per_kg_264_mg(rules: RuleSet) -> None:
    # §3.1 example: 22 kg, age 6 -> 12 mg/kg -> 264 mg (Kymriah/Actemra labels, < 30 kg)
    check = check_tocilizumab(Patient(date(2019, 1, 1)).car_t().weight(day(0), "22").build(),
                              NOW, rules, None)
    assert check.allowed is True
    assert (check.mg_per_kg, check.dose_mg) == (Decimal(12), Decimal(264))


def test_110_kg_is_capped_at_800_mg(rules: RuleSet) -> None:
    # §3.1 example: 110 kg -> 880 mg, capped at 800 mg
    check = check_tocilizumab(adult("110").build(), NOW, rules, None)
    assert (check.dose_mg, check.capped) == (Decimal(800), True)
    assert "880 mg capped at 800 mg" in check.flags


def test_30_kg_gets_8_mg_per_kg_and_29_9_kg_gets_12(rules: RuleSet) -> None:
    # §3.1: < 30 kg 12 mg/kg; >= 30 kg 8 mg/kg
    assert check_tocilizumab(adult("30").build(), NOW, rules, None).dose_mg == Decimal(240)
    assert check_tocilizumab(adult("29.9").build(), NOW, rules, None).dose_mg == Decimal("358.8")


def test_no_labelled_dose_under_2_years(rules: RuleSet) -> None:
    # §3.1: age < 2 y -> no dose suggestion; Actemra label wording [R]
    patient = Patient(date(2024, 1, 1)).car_t().weight(day(0), "11")
    check = check_tocilizumab(patient.build(), NOW, rules, None)
    assert check.allowed is False
    assert check.dose_mg is None
    assert "no labelled tocilizumab dose under 2 years" in check.blocks
    assert any(a.startswith("unconfirmed threshold") for a in check.assumptions)
    two = Patient(date(2023, 3, 6)).car_t().weight(day(0), "12").build()
    assert check_tocilizumab(two, NOW, rules, None).allowed is True


def test_exactly_8_h_after_the_last_dose_is_allowed(rules: RuleSet) -> None:
    # §3.1: block if now - last < 8 h; exactly 8 h is allowed
    check = check_tocilizumab(adult().tocilizumab(NOW - hours(8)).build(), NOW, rules, day(2))
    assert check.allowed is True


def test_5_h_10_min_after_the_last_dose_is_blocked_with_the_numbers(rules: RuleSet) -> None:
    # §3.1: at least 8 h between doses
    last = NOW - hours(5) - minutes(10)
    check = check_tocilizumab(adult().tocilizumab(last).build(), NOW, rules, day(2))
    assert check.allowed is False
    assert "last dose 5 h 10 min ago; at least 8 h required" in check.blocks


def test_closed_24_h_window_example(rules: RuleSet) -> None:
    # §3.1 example: doses 02:00, 10:00, 18:00 in one episode; new order 02:00 next day ->
    # blocked (3 in the closed window); at 02:10 -> allowed, the episode's 4th and last dose
    patient = (adult().tocilizumab(day(2, 2)).tocilizumab(day(2, 10))
               .tocilizumab(day(2, 18))).build()
    onset = day(2, 1)
    blocked = check_tocilizumab(patient, day(3, 2), rules, onset)
    assert blocked.allowed is False
    assert blocked.counted_24h == 3
    assert "3 doses in the last 24 h (closed window); at most 3" in blocked.blocks
    later = check_tocilizumab(patient, day(3, 2, 10), rules, onset)
    assert later.allowed is True
    assert (later.counted_24h, later.counted_episode) == (2, 3)
    assert "this would be dose 4 of 4, the last in this episode" in later.flags


def test_four_doses_in_the_episode_block_a_fifth(rules: RuleSet) -> None:
    # §3.1: "maximum total of 4" per episode (Kymriah label [V])
    patient = adult()
    for n in range(4):
        patient.tocilizumab(day(1, 8) + hours(9 * n))
    check = check_tocilizumab(patient.build(), day(3, 8), rules, day(1, 7))
    assert check.counted_episode == 4
    assert "4 doses in this CRS episode; at most 4" in check.blocks


def test_without_an_open_episode_doses_count_from_the_index_dose(rules: RuleSet) -> None:
    # §3.1 counted doses: no episode open -> count from the index dose (assumption)
    patient = adult().tocilizumab(day(-5)).tocilizumab(day(1))
    check = check_tocilizumab(patient.build(), NOW, rules, None)
    assert check.counted_episode == 1
    assert len(check.prior_doses) == 2
    assert "no CRS episode open: doses counted from the index dose" in check.flags
    assert any(a.startswith("assumption: with no CRS episode open") for a in check.assumptions)


def test_signed_order_not_yet_charted_counts_once(rules: RuleSet) -> None:
    # §3.1 counted doses: active/on-hold MedicationRequests not referenced by a counted
    # administration; a charted order is not counted twice; drafts never count
    patient = (adult().tocilizumab(day(2, 8), source=DrugSource.ORDER, status="active",
                                   reference="MedicationRequest/a")
               .tocilizumab(day(2, 9), request="MedicationRequest/a")
               .tocilizumab(day(2, 20), source=DrugSource.ORDER, status="on-hold")
               .tocilizumab(day(2, 21), source=DrugSource.ORDER, status="cancelled")
               .tocilizumab(day(2, 22), status="not-done"))
    check = check_tocilizumab(patient.build(), NOW, rules, day(2))
    assert [d.start for d in check.prior_doses] == [day(2, 9), day(2, 20)]
    assert "last dose 6 h ago; at least 8 h required" in check.blocks


def test_dosing_weight_up_to_7_days_old_is_used_without_flag(rules: RuleSet) -> None:
    # §0 Defaults: dosing weight = latest <= 7 d old; 7-30 d with a flag; else no dose
    check = check_tocilizumab(adult(weighed=NOW - hours(24 * 7)).build(), NOW, rules, None)
    assert check.weight is not None
    assert not any("weight" in f for f in check.flags)


def test_dosing_weight_8_days_old_is_used_with_a_flag(rules: RuleSet) -> None:
    check = check_tocilizumab(adult(weighed=NOW - hours(24 * 8)).build(), NOW, rules, None)
    assert check.allowed is True
    assert any(f.startswith("weight is 8 d old") for f in check.flags)


def test_weight_over_30_days_old_means_weight_missing_and_no_dose(rules: RuleSet) -> None:
    check = check_tocilizumab(adult(weighed=NOW - hours(24 * 30) - minutes(1)).build(), NOW,
                              rules, None)
    assert check.allowed is False
    assert check.dose_mg is None
    assert any(b.startswith("weight missing") for b in check.blocks)


def test_shortage_mode_allows_two_per_episode() -> None:
    # §3.1: shortage mode (NCCN; off by default): at most 2 per episode
    rules = load_rules({"tocilizumab.shortage_mode": True})
    patient = adult().tocilizumab(day(2, 2)).tocilizumab(day(2, 12)).build()
    check = check_tocilizumab(patient, NOW, rules, day(2, 1))
    assert "2 doses in this CRS episode; at most 2" in check.blocks
    assert any("siltuximab or anakinra" in f for f in check.flags)


def test_bispecific_8_mg_per_kg_override_is_off_by_default(rules: RuleSet) -> None:
    # §3.1: per-product 8 mg/kg under 30 kg, configurable, off by default [R]
    child = Patient(date(2015, 1, 1)).bispecific(day(0)).weight(day(0), "25").build()
    assert check_tocilizumab(child, NOW, rules, None).dose_mg == Decimal(300)
    on = load_rules({"tocilizumab.bispecific_8mg_light": "true"})
    check = check_tocilizumab(child, NOW, on, None)
    assert check.dose_mg == Decimal(200)
    assert any("tocilizumab.bispecific_8mg_light" in a for a in check.assumptions)
