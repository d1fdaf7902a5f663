"""carHLH (§2.4 [R]), Caricchio (§2.5 [V]), MAS in sJIA (§2.6 [V]) and EASIX (§2.7 [V])."""

from __future__ import annotations

from typing import Any

import pytest

from criteria.carhlh import assess_carhlh
from criteria.caricchio import assess_caricchio
from criteria.easix import assess_easix, easix, log2, m_easix
from criteria.mas import assess_mas
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.hyper_builders import DAY0, Hyper, day, hours

NOW = day(4, 12)
LAB = day(4, 6)


def items(a: dict[str, Any]) -> dict[str, str]:
    return {i["item"]: i["status"] for i in a["items"]}


# carHLH -----------------------------------------------------------------------------------

def carhlh(p: Hyper, rules: RuleSet) -> dict[str, Any]:
    t = p.build()
    return assess_carhlh(t, NOW, rules, t.drugs[0] if t.drugs else None, bool(t.drugs)).to_json()


def test_carhlh_source_and_display_only(rules: RuleSet) -> None:
    assert rules.confidence("carhlh.ferritin_above") == "R"
    assert rules.flag("carhlh.display_only") is True


def test_carhlh_met_with_two_organs(rules: RuleSet) -> None:
    p = (Hyper().car_t().lab("ferritin", day(3, 6), 15000)
         .lab("ast", LAB, 250, high=40).condition("pulmonary-oedema"))
    a = carhlh(p, rules)
    assert a["met"] is True
    assert a["organInvolvement"] == 2
    assert any("unconfirmed" in n for n in a["assumptions"])


@pytest.mark.parametrize(("ferritin", "status"), [(10001, "met"), (10000, "not-met")])
def test_carhlh_ferritin_strictly_above(rules: RuleSet, ferritin: int, status: str) -> None:
    a = carhlh(Hyper().car_t().lab("ferritin", day(2, 6), ferritin), rules)
    assert items(a)["ferritin-peak"] == status


def test_carhlh_ferritin_after_day_5_is_not_the_crs_phase(rules: RuleSet) -> None:
    p = Hyper().car_t().lab("ferritin", day(6, 6), 20000)
    t = p.build()
    a = assess_carhlh(t, day(7, 0), rules, t.drugs[0], True).to_json()
    assert items(a)["ferritin-peak"] == "unknown"


def test_carhlh_creatinine_3x_baseline(rules: RuleSet) -> None:
    p = Hyper().car_t().lab("creatinine", DAY0 - hours(5), "0.8").lab("creatinine", LAB, "2.5")
    assert items(carhlh(p, rules))["kidney"] == "met"  # 2.5 > 3 × 0.8


# Caricchio --------------------------------------------------------------------------------

def caricchio(p: Hyper, rules: RuleSet) -> dict[str, Any]:
    return assess_caricchio(p.build(), NOW, rules).to_json()


def test_caricchio_positive_example(rules: RuleSet) -> None:
    # §2.5: COVID-19 with GGO, ferritin 900, CRP 120 mg/L, albumin 2.5, LDH 500, chloride 108
    p = (Hyper().condition("covid19").condition("ground-glass")
         .labs(LAB, ferritin=900, crp=120, albumin="2.5", ldh=500, chloride=108))
    a = caricchio(p, rules)
    assert a["met"] is True
    assert a["clusters"] == {"I": "met", "II": "met", "III": "met"}
    assert "annrheumdis-2020-218323" in rules.source("caricchio.ferritin_above") or \
        "Caricchio 2021" in rules.source("caricchio.ferritin_above")


def test_caricchio_without_imaging_is_insufficient(rules: RuleSet) -> None:
    p = Hyper().condition("covid19").labs(LAB, ferritin=900, crp=120, albumin="2.5", ldh=500,
                                          chloride=108)
    a = caricchio(p, rules)
    assert a["met"] is None
    assert items(a)["ground-glass"] == "unknown"


@pytest.mark.parametrize(("crp", "status"), [("46.1", "met"), ("46", "not-met")])
def test_caricchio_crp_strict_in_mg_l(rules: RuleSet, crp: str, status: str) -> None:
    # 4.6 mg/dL = 46 mg/L (§4.5): not strictly above
    assert items(caricchio(Hyper().lab("crp", LAB, crp), rules))["crp"] == status


@pytest.mark.parametrize(("kind", "value", "status"), [
    ("albumin", "2.8", "not-met"), ("albumin", "2.79", "met"),
    ("chloride", "106", "not-met"), ("chloride", "107", "met"),
    ("ldh", "416", "not-met"), ("ldh", "417", "met"),
    ("d_dimer_feu", "4930", "not-met"), ("d_dimer_feu", "4931", "met"),
])
def test_caricchio_strict_boundaries(rules: RuleSet, kind: str, value: str,
                                     status: str) -> None:
    assert items(caricchio(Hyper().lab(kind, LAB, value), rules))[kind] == status


def test_caricchio_anion_gap_computed_and_bun_ratio(rules: RuleSet) -> None:
    p = Hyper().labs(LAB, sodium=135, chloride=110, bicarbonate=19, bun=60, creatinine=2)
    a = caricchio(p, rules)
    assert items(a)["anion_gap"] == "met"  # 135 - 129 = 6 < 6.8
    assert items(a)["bun-creatinine"] == "met"  # 30 > 29


# MAS --------------------------------------------------------------------------------------

def test_mas_example(rules: RuleSet) -> None:
    # §2.6: febrile sJIA patient, ferritin 2500, AST 70, TG 200 mg/dL -> MAS
    p = (Hyper().condition("sjia", "provisional").temp(day(4, 10), "38.4")
         .labs(LAB, ferritin=2500, ast=70, triglycerides=200))
    a = assess_mas(p.build(), NOW, rules).to_json()
    assert a["met"] is True
    assert a["labItemsMet"] == 2


def test_mas_does_not_run_without_sjia(rules: RuleSet) -> None:
    p = Hyper().temp(day(4, 10), "38.4").labs(LAB, ferritin=2500, ast=70, triglycerides=200)
    a = assess_mas(p.build(), NOW, rules).to_json()
    assert a["met"] is False
    assert a["applies"] is False
    site = load_rules({"mas.everyone": True})
    assert assess_mas(p.build(), NOW, site).met is True


def test_mas_refuted_like_statuses_do_not_count(rules: RuleSet) -> None:
    p = Hyper().condition("sjia", "unconfirmed").temp(day(4, 10), "38.4")
    assert assess_mas(p.build(), NOW, rules).to_json()["applies"] is False


@pytest.mark.parametrize(("kind", "value", "status"), [
    ("ferritin", "684", "not-met"), ("ferritin", "685", "met"),
    ("platelets", "181", "met"), ("platelets", "182", "not-met"),
    ("ast", "48", "not-met"), ("triglycerides", "156", "not-met"),
    ("triglycerides", str(1.77 * 88.57), "met"),
    ("fibrinogen", "360", "met"), ("fibrinogen", "361", "not-met"),
])
def test_mas_boundaries(rules: RuleSet, kind: str, value: str, status: str) -> None:
    p = Hyper().condition("sjia").lab(kind, LAB, value)
    assert items(assess_mas(p.build(), NOW, rules).to_json())[kind] == status


# EASIX ------------------------------------------------------------------------------------

def test_easix_example(rules: RuleSet) -> None:
    # §2.7: LDH 450, creatinine 0.9 mg/dL, platelets 150 -> EASIX 2.7 (log2 1.43);
    # CRP 4.0 mg/dL (40 mg/L) -> m-EASIX 12.0
    p = Hyper().labs(LAB, ldh=450, creatinine="0.9", platelets=150, crp=40)
    e, m = (a.to_json() for a in assess_easix(p.build(), NOW, rules))
    assert e["value"] == 2.7
    assert round(e["log2"], 2) == 1.43
    assert m["value"] == 12
    assert e["met"] is None
    assert m["met"] is None
    assert any("no cut-off" in n for n in e["assumptions"])


def test_easix_functions() -> None:
    from decimal import Decimal as D
    assert easix(D(450), D("0.9"), D(150)) == D("2.7")
    assert m_easix(D(450), D(40), D(150)) == D("12")
    assert log2(D(0)) is None
    assert easix(D(1), D(1), D(0)) is None


def test_easix_needs_inputs_from_one_day(rules: RuleSet) -> None:
    p = Hyper().labs(LAB, ldh=450, creatinine="0.9").lab("platelets", day(2, 6), 150)
    e = assess_easix(p.build(), NOW, rules)[0].to_json()
    assert e["met"] is None
    assert "value" not in e
    p.labs(day(2, 7), ldh=300, creatinine="1.0")
    e = assess_easix(p.build(), NOW, rules)[0].to_json()
    assert e["value"] == 2
    assert e["day"] == day(2).date().isoformat()
