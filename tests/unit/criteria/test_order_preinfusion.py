"""CAR-T pre-infusion checks (clinical-criteria.md §3.6, §3.5, §2.7, §0 Defaults; issue 7)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from criteria.model import ConditionFact, DrugSource
from criteria.preinfusion import (
    baseline_labs,
    body_weight,
    easix_baseline,
    infection_inflammation,
    tocilizumab_readiness,
)
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.builders import Patient, hours, minutes
from tests.unit.criteria.test_order_checks import NOW, baseline, draft, ready, with_data

CART = draft("car-t", "tisagenlecleucel")


# --- infection, inflammation, CRS now -------------------------------------------------------

@pytest.mark.parametrize(("celsius", "status"), [("38.0", "critical"), ("37.9", "pass")])
def test_fever_threshold_is_the_astct_38_0(rules: RuleSet, celsius: str, status: str) -> None:
    # Fever >= 38.0 °C (astct.fever_min, CC §1.1 item 1) in the last 48 h (order.fever_window)
    timeline = Patient().temp(NOW - hours(3), celsius).build()
    result = infection_inflammation(timeline, NOW, rules, None)
    assert result.status == status
    if status == "critical":
        assert result.met is False
        assert "fever 38.0 °C" in result.finding


def test_fever_window_is_closed_at_48_h(rules: RuleSet) -> None:
    at_edge = Patient().temp(NOW - hours(48), "38.5").temp(NOW - hours(1), "37").build()
    assert infection_inflammation(at_edge, NOW, rules, None).status == "critical"
    older = Patient().temp(NOW - hours(48) - minutes(1), "38.5").temp(NOW - hours(1), "37")
    assert infection_inflammation(older.build(), NOW, rules, None).status == "pass"


def test_fever_window_is_configurable(rules: RuleSet) -> None:
    timeline = Patient().temp(NOW - hours(30), "38.5").build()
    short = load_rules({"order.fever_window": 24})
    assert infection_inflammation(timeline, NOW, short, None).status == "unknown"
    assert any("site setting" in a
               for a in infection_inflammation(timeline, NOW, short, None).assumptions)


def test_no_temperature_is_unknown_not_negative(rules: RuleSet) -> None:
    result = infection_inflammation(Patient().build(), NOW, rules, None)
    assert (result.status, result.met) == ("unknown", None)
    assert "temperature in the last 48 h" in result.missing


def _condition(concept: str, status: str | None, **kw: object) -> ConditionFact:
    return ConditionFact(concept, f"Condition/{concept}", clinical_status=status, **kw)  # type: ignore[arg-type]


def test_active_infection_condition_is_critical(rules: RuleSet) -> None:
    timeline = with_data(ready().build(), conditions=(_condition("infection", "active"),))
    result = infection_inflammation(timeline, NOW, rules, None)
    assert result.status == "critical"
    assert "active infection (Condition/infection)" in result.finding


def test_resolved_or_old_undated_infection_does_not_count(rules: RuleSet) -> None:
    resolved = _condition("infection", "resolved")
    old = _condition("infection", None, recorded=NOW - hours(24 * 31))
    recent = _condition("infection", None, recorded=NOW - hours(24 * 29))
    assert infection_inflammation(with_data(ready().build(), conditions=(resolved, old)), NOW,
                                  rules, None).status == "pass"
    assert infection_inflammation(with_data(ready().build(), conditions=(recent,)), NOW, rules,
                                  None).status == "critical"


def test_active_gvhd_is_a_warning_flagged_unconfirmed(rules: RuleSet) -> None:
    timeline = with_data(ready().build(), conditions=(_condition("gvhd", "active"),))
    result = infection_inflammation(timeline, NOW, rules, None)
    assert result.status == "fail"
    assert any(a.startswith("unconfirmed threshold") for a in result.assumptions)


def test_current_crs_grade_1_is_critical(rules: RuleSet) -> None:
    result = infection_inflammation(ready().build(), NOW, rules, 1)
    assert result.status == "critical"
    assert result.short is not None
    assert result.short.startswith("CRS grade 1 now")
    assert infection_inflammation(ready().build(), NOW, rules, 0).status == "pass"


# --- baseline CRP and ferritin ----------------------------------------------------------------

def test_baseline_labs_present_pass(rules: RuleSet) -> None:
    result = baseline_labs(with_data(Patient().build(), labs=baseline()), NOW, rules)
    assert (result.status, result.met) == ("pass", True)
    assert {e.item for e in result.evidence} == {"crp", "ferritin"}


def test_baseline_labs_exactly_3_days_old_count_and_older_do_not(rules: RuleSet) -> None:
    edge = with_data(Patient().build(), labs=baseline(NOW - hours(72)))
    assert baseline_labs(edge, NOW, rules).status == "pass"
    old = with_data(Patient().build(), labs=baseline(NOW - hours(72) - minutes(1)))
    result = baseline_labs(old, NOW, rules)
    assert (result.status, result.extra["toOrder"]) == ("fail", ["crp", "ferritin"])
    assert result.short == "no CRP, ferritin in 3 d"


def test_baseline_lab_window_is_configurable(rules: RuleSet) -> None:
    old = with_data(Patient().build(), labs=baseline(NOW - hours(100)))
    assert baseline_labs(old, NOW, load_rules({"order.baseline_lab_max_age": 5})).status == "pass"


def test_lab_ordered_in_this_signing_is_not_suggested_again(rules: RuleSet) -> None:
    labs = {"crp": baseline()["crp"]}
    timeline = with_data(Patient().build(), labs=labs,
                         lab_orders=(("ferritin", "ServiceRequest/sr-ferritin"),))
    result = baseline_labs(timeline, NOW, rules)
    assert (result.status, result.extra["toOrder"]) == ("note", [])
    assert result.extra["orderedNow"] == ["ServiceRequest/sr-ferritin"]


# --- weight ----------------------------------------------------------------------------------

def test_weight_recent_flagged_and_missing(rules: RuleSet) -> None:
    # Dosing weight: latest <= 7 d; 7-30 d with a flag; else none (CC §0 Defaults)
    assert body_weight(Patient().weight(NOW - hours(24 * 7), "70").build(), NOW,
                       rules).status == "pass"
    flagged = body_weight(Patient().weight(NOW - hours(24 * 10), "70").build(), NOW, rules)
    assert (flagged.status, flagged.short) == ("fail", "weight 10 d old")
    missing = body_weight(Patient().weight(NOW - hours(24 * 31), "70").build(), NOW, rules)
    assert (missing.status, missing.short) == ("fail", "no weight")
    assert "tocilizumab cannot be dosed" in missing.finding


# --- local tocilizumab readiness --------------------------------------------------------------

def test_readiness_is_local_policy_and_unverified_without_orders(rules: RuleSet) -> None:
    result = tocilizumab_readiness(Patient().build(), CART, rules)
    assert result is not None
    assert (result.status, result.met) == ("unknown", None)
    assert result.extra["localPolicy"] is True
    assert result.assumptions[0].startswith("assumption: local policy")
    assert "REMS" not in result.finding
    assert "federal" not in result.finding


def test_readiness_met_by_two_tocilizumab_orders(rules: RuleSet) -> None:
    signed = Patient().tocilizumab(NOW - hours(2), status="active", source=DrugSource.ORDER)
    timeline = with_data(signed.build(), drafts=(
        CART, draft("tocilizumab", "tocilizumab", ref="MedicationRequest/t", dose="560")))
    result = tocilizumab_readiness(timeline, CART, rules)
    assert result is not None
    assert result.status == "pass"


def test_readiness_count_and_switch_are_site_settings() -> None:
    assert tocilizumab_readiness(Patient().build(), CART,
                                 load_rules({"order.tocilizumab_on_hand": 0})) is None
    one = load_rules({"order.tocilizumab_on_hand": 1})
    timeline = with_data(Patient().build(), drafts=(
        CART, draft("tocilizumab", "tocilizumab", ref="MedicationRequest/t", dose="560")))
    found = tocilizumab_readiness(timeline, CART, one)
    assert found is not None
    assert found.status == "pass"
    assert "site setting" in found.assumptions[0]


# --- EASIX ----------------------------------------------------------------------------------

def test_easix_and_m_easix_reference_example(rules: RuleSet) -> None:
    # CC §2.7: LDH 450, creatinine 0.9, platelets 150 -> EASIX 2.7 (log2 1.43); CRP 4.0 mg/dL
    # (40 mg/L) -> m-EASIX 12.0
    result = easix_baseline(with_data(Patient().build(), labs=baseline()), NOW, rules)
    assert (result.extra["easix"], result.extra["mEasix"]) == (2.7, 12)
    assert round(result.extra["easixLog2"], 2) == 1.43
    assert result.status == "note"
    assert len(result.evidence) == 4  # LDH, creatinine, platelets, CRP (LDH once)


def test_easix_needs_one_calendar_day(rules: RuleSet) -> None:
    labs = baseline()
    labs["platelets"] = [(NOW - hours(30), "150")]
    result = easix_baseline(with_data(Patient().build(), labs=labs), NOW, rules)
    assert "easix" not in result.extra
    assert result.met is None
    assert result.missing


def test_readiness_does_not_apply_to_tocilizumab_itself(rules: RuleSet) -> None:
    toci = dataclasses.replace(CART, drug_class=draft("tocilizumab", "t").drug_class)
    assert tocilizumab_readiness(Patient(date(1970, 1, 1)).build(), toci, rules) is None
