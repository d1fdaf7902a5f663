"""ASTCT 2019 hypotension tier from vasopressors (clinical-criteria.md §1.1 item 6, §0 Defaults)."""

from __future__ import annotations

from datetime import datetime

from criteria.crs import CrsResult, assess_crs
from criteria.model import DrugClass, OxygenModality
from criteria.rules import RuleSet, load_rules
from criteria.vasopressors import CHANGEOVER
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(3, 12)


def febrile() -> Patient:
    return (Patient().car_t().temp(NOW - hours(2), "38.9").bp(NOW - hours(3), 118)
            .o2(NOW - hours(1), OxygenModality.ROOM_AIR))


def grade(patient: Patient, rules: RuleSet) -> CrsResult:
    return assess_crs(patient.build(), NOW, rules)


def test_one_vasopressor_is_grade_3(rules: RuleSet) -> None:
    # ASTCT 2019 (Lee 2019) grade 3: hypotension needing a vasopressor; §1.1 item 6 [V]
    result = grade(febrile().infusion("norepinephrine", NOW - hours(3)), rules)
    assert result.astct.grade == 3
    assert [i.ingredient for i in result.findings.counted_pressors] == ["norepinephrine"]


def test_vasopressor_with_vasopressin_is_still_grade_3(rules: RuleSet) -> None:
    # ASTCT 2019: "with or without vasopressin"; multiple vasopressors EXCLUDE vasopressin [V]
    patient = febrile().infusion("norepinephrine", NOW - hours(5)).infusion(
        "vasopressin", NOW - hours(4))
    result = grade(patient, rules)
    assert result.astct.grade == 3
    assert [i.ingredient for i in result.findings.vasopressin_class] == ["vasopressin"]


def test_vasopressin_alone_is_grade_3_as_an_assumption(rules: RuleSet) -> None:
    # §1.1 item 6: vasopressin class alone -> tier 3 (assumption; ASTCT is silent)
    result = grade(febrile().infusion("vasopressin", NOW - hours(2)), rules)
    assert result.astct.grade == 3
    assert any("astct.vasopressin_alone_tier" in a and a.startswith("assumption:")
               for a in result.astct.assumptions)


def test_vasopressin_alone_tier_is_configurable() -> None:
    # §1.1 item 6: a named config option
    rules = load_rules({"astct.vasopressin_alone_tier": 2})
    assert grade(febrile().infusion("terlipressin", NOW - hours(2)), rules).astct.grade == 2


def test_two_vasopressors_overlapping_60_min_are_grade_4(rules: RuleSet) -> None:
    # ASTCT 2019 grade 4: multiple vasopressors; concurrent = overlap >= 60 min (§0 Defaults)
    patient = febrile().infusion("norepinephrine", NOW - hours(5)).infusion(
        "epinephrine", NOW - minutes(60))
    result = grade(patient, rules)
    assert result.astct.grade == 4
    assert result.findings.changeover is False


def test_two_vasopressors_overlapping_59_min_are_a_changeover_grade_3(rules: RuleSet) -> None:
    # §1.1 item 6: a shorter overlap is "vasopressor changeover; grade 4 if both continue 60 min"
    patient = febrile().infusion("norepinephrine", NOW - hours(5)).infusion(
        "epinephrine", NOW - minutes(59))
    result = grade(patient, rules)
    assert result.astct.grade == 3
    assert result.findings.changeover is True
    assert CHANGEOVER in result.astct.extra["flags"]


def test_changeover_after_the_first_agent_stopped_is_grade_3(rules: RuleSet) -> None:
    # §1.1 item 6: only infusions running now count; overlap of 30 min is no concurrency
    patient = febrile().infusion("norepinephrine", NOW - hours(5), end=NOW - hours(1)).infusion(
        "phenylephrine", NOW - minutes(90))
    assert grade(patient, rules).astct.grade == 3


def test_dobutamine_alone_is_not_a_vasopressor(rules: RuleSet) -> None:
    # §1.1 item 6: inotropes (dobutamine, milrinone) are shown only, never counted
    result = grade(febrile().infusion("dobutamine", NOW - hours(2)), rules)
    assert result.astct.grade == 1
    assert "dobutamine: not counted as a vasopressor" in result.astct.extra["flags"]


def test_dobutamine_with_confirmed_hypotension_is_grade_2(rules: RuleSet) -> None:
    # §1.1 item 7: tier 2 = hypotension without a vasopressor, with or without inotropes
    patient = (febrile().infusion("dobutamine", NOW - hours(2))
               .bp(NOW - hours(2), 82).bp(NOW - hours(1.5), 85))
    assert grade(patient, rules).astct.grade == 2


def test_inotrope_handling_is_configurable() -> None:
    # §1.1 item 6 (assumption): a site may count an inotrope alone as tier 3
    rules = load_rules({"astct.inotrope_alone_tier": 3})
    result = grade(febrile().infusion("milrinone", NOW - hours(2)), rules)
    assert result.astct.grade == 3
    assert any("astct.inotrope_alone_tier" in a for a in result.astct.assumptions)


def test_push_dose_phenylephrine_is_shown_not_counted(rules: RuleSet) -> None:
    # §1.1 item 6: boluses are shown, never counted
    result = grade(febrile().bolus("phenylephrine", NOW - minutes(20)), rules)
    assert result.astct.grade == 1
    assert [d.ingredient for d in result.findings.pressors.boluses] == ["phenylephrine"]


def test_rate_entries_2_h_apart_are_one_running_infusion(rules: RuleSet) -> None:
    # §0 Defaults: rate entries <= 2 h apart are one infusion, running while the last <= 2 h old
    patient = (febrile().rate_entry("norepinephrine", NOW - hours(6))
               .rate_entry("norepinephrine", NOW - hours(4))
               .rate_entry("norepinephrine", NOW - hours(2))
               .rate_entry("epinephrine", NOW - hours(2)))
    result = grade(patient, rules)
    assert result.astct.grade == 4  # both seen within 2 h; epinephrine counted from its entry
    (norepinephrine,) = [i for i in result.findings.counted_pressors
                         if i.ingredient == "norepinephrine"]
    assert norepinephrine.start == NOW - hours(6)


def test_an_infusion_whose_last_entry_is_over_2_h_old_has_stopped(rules: RuleSet) -> None:
    # §0 Defaults: running while the last entry is <= 2 h old
    patient = febrile().rate_entry("norepinephrine", NOW - hours(2) - minutes(1))
    assert grade(patient, rules).astct.grade == 1


def test_entries_more_than_2_h_apart_start_a_new_infusion(rules: RuleSet) -> None:
    # §0 Defaults: a gap over 2 h splits the infusion, so the new one starts later
    patient = (febrile().rate_entry("norepinephrine", NOW - hours(5))
               .rate_entry("norepinephrine", NOW - minutes(30)))
    (infusion,) = grade(patient, rules).findings.counted_pressors
    assert infusion.start == NOW - minutes(30)


def _in_progress_instant(patient: Patient, at: datetime) -> Patient:
    """An in-progress administration timed by effectiveDateTime (no period), with a rate."""
    return patient.drug(DrugClass.VASOPRESSOR, "norepinephrine", at, status="in-progress",
                        rate="8", rate_unit="ug/min", continuous=True)


def test_an_in_progress_entry_without_a_period_runs_only_while_it_is_2_h_old(
        rules: RuleSet) -> None:
    # §0 Defaults: rate entries are one infusion, "running while the last is <= 2 h old"; only
    # an open effectivePeriod runs until now (vasopressors.open_period_is_running). Review A3.
    assert grade(_in_progress_instant(febrile(), NOW - hours(2)), rules).astct.grade == 3
    stale = _in_progress_instant(febrile(), NOW - hours(2) - minutes(1))
    assert grade(stale, rules).astct.grade == 1


def test_a_stale_in_progress_entry_3_days_old_leaves_confirmed_hypotension_at_grade_2(
        rules: RuleSet) -> None:
    # Review A3 repro r03: one in-progress norepinephrine entry 3 days ago, low BP now -> 2, not 3
    patient = _in_progress_instant(febrile().bp(NOW - minutes(60), 80).bp(NOW - minutes(30), 82),
                                   NOW - hours(68))
    result = grade(patient, rules)
    assert result.astct.grade == 2
    assert result.findings.counted_pressors == ()


def test_an_open_period_runs_until_its_maximum_age_of_72_h(rules: RuleSet) -> None:
    # vasopressors.open_period_max_age (assumption, 72 h): an open period with no end and no
    # newer entry stops counting as running; the card names the assumption when it applies
    running = grade(febrile().infusion("norepinephrine", NOW - hours(72)), rules)
    assert running.astct.grade == 3
    assert not any("72 h" in a for a in running.astct.assumptions)
    stale = grade(febrile().infusion("norepinephrine", NOW - hours(72) - minutes(1)), rules)
    assert stale.astct.grade == 1
    assert stale.findings.counted_pressors == ()
    assert any(a.startswith("assumption: an in-progress infusion period with no end")
               and "72 h" in a for a in stale.astct.assumptions)
    assert any(f.startswith("norepinephrine: in-progress infusion period since") and
               "not counted as running" in f for f in stale.astct.extra["flags"])


def test_newer_rate_entries_keep_an_old_open_period_running(rules: RuleSet) -> None:
    # §0 Defaults: entries <= 2 h apart are one infusion; the cap applies with no newer entry
    patient = febrile().infusion("norepinephrine", NOW - hours(80))
    for k in range(10):
        patient.rate_entry("norepinephrine", NOW - hours(9) + hours(k))
    (infusion,) = grade(patient, rules).findings.counted_pressors
    assert infusion.running
    assert grade(patient, rules).astct.grade == 3
