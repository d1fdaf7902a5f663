"""ASTCT 2019 hypoxia tier by delivery mode (clinical-criteria.md §1.1 items 4 and 8, §4.2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from criteria.crs import assess_crs
from criteria.model import OxygenModality as O
from criteria.model import PatientTimeline
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(3, 10)


def febrile_on(modality: O, flow: str | None = None, fio2: str | None = None,
               flags: tuple[str, ...] = ()) -> PatientTimeline:
    return (Patient().car_t().temp(NOW - hours(3), "38.7").bp(NOW - hours(1), 112)
            .o2(NOW - hours(1), modality, flow, fio2, flags).build())


def test_flow_of_6_l_min_is_low_flow_grade_2(rules: RuleSet) -> None:
    # ASTCT 2019 (Lee 2019), clinical-criteria.md §1.1 item 4: "6.0 L/min is grade 2"
    result = assess_crs(febrile_on(O.LOW_FLOW_CANNULA, "6.0"), NOW, rules)
    assert result.astct.grade == 2
    assert result.lower_bound is False


def test_flow_above_6_l_min_is_high_flow_grade_3(rules: RuleSet) -> None:
    # ASTCT 2019, §1.1 item 4: high flow is > 6 L/min (CancerCalc's >= 6 is wrong, §5)
    assert assess_crs(febrile_on(O.HIGH_FLOW_CANNULA, "6.1"), NOW, rules).astct.grade == 3


def test_recorded_flow_wins_over_the_device_name(rules: RuleSet) -> None:
    # §1.1 item 8: an HFNC device running at 5 L/min is low flow
    assert assess_crs(febrile_on(O.HIGH_FLOW_CANNULA, "5"), NOW, rules).astct.grade == 2


@pytest.mark.parametrize(("modality", "grade"), [
    (O.ROOM_AIR, 1), (O.BLOW_BY, 2), (O.FACEMASK, 3), (O.NON_REBREATHER, 3), (O.VENTURI, 3),
    (O.CPAP, 4), (O.BIPAP, 4), (O.INVASIVE, 4),
])
def test_each_device_sets_its_astct_tier(rules: RuleSet, modality: O, grade: int) -> None:
    # ASTCT 2019 table, hypoxia column; clinical-criteria.md §1.1 item 8 and §4.2
    assert assess_crs(febrile_on(modality), NOW, rules).astct.grade == grade


def test_standard_cannula_without_flow_is_at_least_2_with_raise_hint(rules: RuleSet) -> None:
    # §1.1 item 8 and example 3: T 38.8, nasal cannula, no flow, normotensive -> "≥2"
    timeline = (Patient().car_t().temp(NOW - hours(1), "38.8").bp(NOW - hours(1), 124, 78)
                .o2(NOW - minutes(30), O.NASAL_CANNULA_UNKNOWN_FLOW, flags=("flow-missing",))
                .build())
    result = assess_crs(timeline, NOW, rules)
    assert result.astct.grade == 2
    assert result.lower_bound is True
    assert result.raise_hint == "≥2; 3 if flow >6 L/min"
    assert "flow missing; grade 3 if >6 L/min" in result.astct.extra["flags"]
    assert result.astct.to_json()["gradeIsLowerBound"] is True


def test_high_flow_cannula_without_flow_is_3_flagged(rules: RuleSet) -> None:
    # §1.1 item 8: HFNC with no flow -> 3, flag "flow missing" (assumption, exception to §0)
    result = assess_crs(febrile_on(O.HIGH_FLOW_CANNULA, flags=("flow-missing",)), NOW, rules)
    assert result.astct.grade == 3
    assert "flow missing" in result.astct.extra["flags"]
    assert any("oxygen.hfnc_without_flow_tier" in a for a in result.astct.assumptions)


def test_no_device_with_low_flow_is_at_least_2_device_missing(rules: RuleSet) -> None:
    # §1.1 item 8: no device, flow <= 6 L/min -> "≥2", flag "device missing"
    result = assess_crs(febrile_on(O.SUPPLEMENTAL_UNKNOWN_DEVICE, "4",
                                   flags=("device-missing",)), NOW, rules)
    assert result.astct.grade == 2
    assert result.lower_bound is True
    assert "device missing" in result.astct.extra["flags"]


def test_no_device_with_only_fio2_above_21_is_at_least_2(rules: RuleSet) -> None:
    # §1.1 item 8: no device, only FiO2 > 21 % -> "≥2", flag "device missing"
    result = assess_crs(febrile_on(O.SUPPLEMENTAL_UNKNOWN_DEVICE, fio2="35"), NOW, rules)
    assert (result.astct.grade, result.lower_bound) == (2, True)


def test_no_device_with_flow_above_6_is_3(rules: RuleSet) -> None:
    # §1.1 item 8: no device, flow > 6 -> 3
    result = assess_crs(febrile_on(O.SUPPLEMENTAL_UNKNOWN_DEVICE, "8",
                                   flags=("device-missing",)), NOW, rules)
    assert result.astct.grade == 3


def test_oxygen_record_12_h_old_is_used_older_is_unknown(rules: RuleSet) -> None:
    # §0 Defaults: O2 support is the latest record <= 12 h old, else unknown
    def at(age: timedelta) -> PatientTimeline:
        return (Patient().car_t().temp(NOW - hours(1), "38.5").bp(NOW, 120)
                .o2(NOW - age, O.FACEMASK).build())
    assert assess_crs(at(hours(12)), NOW, rules).astct.grade == 3
    stale = assess_crs(at(hours(12) + minutes(1)), NOW, rules)
    assert stale.astct.grade == 1
    assert stale.lower_bound is True
    assert "oxygen support in the last 12 h" in stale.astct.missing


def test_chronic_home_oxygen_at_baseline_does_not_count(rules: RuleSet) -> None:
    # §1.1 item 8 and §0 Defaults (Chronic O2 baseline: 30 d to 24 h before treatment start)
    base = Patient().car_t().o2(day(-10), O.LOW_FLOW_CANNULA, "2")
    same = (base.temp(NOW - hours(1), "38.3").bp(NOW, 120)
            .o2(NOW - hours(1), O.LOW_FLOW_CANNULA, "2").build())
    result = assess_crs(same, NOW, rules)
    assert result.astct.grade == 1
    assert "on chronic O2" in result.astct.extra["flags"]


def test_oxygen_above_the_chronic_baseline_counts(rules: RuleSet) -> None:
    # §1.1 item 8: higher support than the chronic baseline counts
    timeline = (Patient().car_t().o2(day(-10), O.LOW_FLOW_CANNULA, "2")
                .temp(NOW - hours(1), "38.3").bp(NOW, 120)
                .o2(NOW - hours(1), O.NON_REBREATHER).build())
    assert assess_crs(timeline, NOW, rules).astct.grade == 3


def test_oxygen_recorded_less_than_24_h_before_treatment_is_not_baseline(rules: RuleSet) -> None:
    # §0 Defaults: baseline window ends 24 h before treatment start
    timeline = (Patient().car_t().o2(day(0) - hours(23), O.LOW_FLOW_CANNULA, "2")
                .temp(NOW - hours(1), "38.3").bp(NOW, 120)
                .o2(NOW - hours(1), O.LOW_FLOW_CANNULA, "2").build())
    assert assess_crs(timeline, NOW, rules).astct.grade == 2


def test_spo2_guard_is_off_by_default_and_never_changes_the_grade() -> None:
    # §1.1 item 8: optional SpO2 guard flags "no hypoxaemia documented"; grade unchanged
    timeline = (Patient().car_t().temp(NOW - hours(1), "38.3").bp(NOW, 120)
                .measure("spo2", NOW - hours(1), 97)
                .o2(NOW - hours(1), O.LOW_FLOW_CANNULA, "2").build())
    off = assess_crs(timeline, NOW, load_rules())
    on = assess_crs(timeline, NOW, load_rules({"oxygen.spo2_guard": True}))
    assert off.astct.grade == on.astct.grade == 2
    assert "no hypoxaemia documented" not in off.astct.extra["flags"]
    assert "no hypoxaemia documented" in on.astct.extra["flags"]


def test_supplemental_oxygen_notes_the_unconfirmed_comfort_o2_exclusion(rules: RuleSet) -> None:
    # §1.1 item 8: O2 for comfort does not count [R], but cannot be told apart
    result = assess_crs(febrile_on(O.LOW_FLOW_CANNULA, "3"), NOW, rules)
    assert any(a.startswith("unconfirmed: ASTCT excludes oxygen") for a in result.astct.assumptions)


def test_support_charted_as_still_running_is_current_however_old_its_start(
        rules: RuleSet) -> None:
    # §0 Defaults: "latest record <= 12 h old"; a record charted as running at now (an open
    # period, in progress) is seen now, so it is never aged out. Review A4, repro r07.
    patient = (Patient().car_t().temp(NOW - hours(3), "38.7").bp(NOW - hours(1), 112)
               .o2(NOW - hours(20), O.HIGH_FLOW_CANNULA, flow=30))
    patient.oxygen[-1] = replace(patient.oxygen[-1], running=True)
    result = assess_crs(patient.build(), NOW, rules)
    assert result.findings.oxygen.tier == 3
    assert result.astct.grade == 3
    assert "oxygen support in the last 12 h" not in result.astct.missing


def test_the_same_record_not_charted_as_running_ages_out_after_12_h(rules: RuleSet) -> None:
    patient = (Patient().car_t().temp(NOW - hours(3), "38.7").bp(NOW - hours(1), 112)
               .o2(NOW - hours(20), O.HIGH_FLOW_CANNULA, flow=30))
    result = assess_crs(patient.build(), NOW, rules)
    assert result.findings.oxygen.tier is None
    assert result.astct.grade == 1
