"""HLH-2004 (Henter 2007, PMC3204727 Table 1 [V2]; clinical-criteria.md §2.1): 5 of 8 criteria."""

from __future__ import annotations

from datetime import date

import pytest

from criteria.hlh2004 import NOT_VALIDATED, assess_hlh2004
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.hyper_builders import Hyper, day

NOW = day(6, 12)
LAB = day(6, 6)


def items(a: dict) -> dict:  # type: ignore[type-arg]
    return {i["item"]: i for i in a["items"]}


def run(p: Hyper, rules: RuleSet, iec: bool = False) -> dict:  # type: ignore[type-arg]
    return assess_hlh2004(p.build(), NOW, rules, iec).to_json()


def test_source_is_named(rules: RuleSet) -> None:
    assert "PMC3204727" in rules.source("hlh2004.required")
    assert rules.confidence("hlh2004.fever_min") == "assumption"
    assert rules.note("hlh2004.fever_min").startswith("assumption:")


def test_example_met_with_splenomegaly(rules: RuleSet) -> None:
    # §2.1: T 38.9, Hb 80 g/L, ANC 0.6, fibrinogen 1.2 g/L, ferritin 12 000, splenomegaly -> met
    p = (Hyper().temp(day(6, 10), "38.9").condition("splenomegaly")
         .labs(LAB, haemoglobin="8.0", neutrophils="0.6", fibrinogen="120", ferritin=12000))
    a = run(p, rules)
    assert a["met"] is True
    assert a["result"] == "criteria met"
    assert a["counts"]["met"] == 5
    assert items(a)["splenomegaly"]["status"] == "met"


def test_example_not_met_when_five_cannot_be_reached(rules: RuleSet) -> None:
    # §2.1: every measured criterion normal, 4 unknown -> not met
    p = (Hyper().temp(day(6, 10), "37.0")
         .labs(LAB, haemoglobin=13, platelets=250, neutrophils=4, triglycerides=100,
               fibrinogen=300, ferritin=200))
    a = run(p, rules)
    assert a["met"] is False
    assert a["counts"] == {"met": 0, "unknown": 4, "notMet": 4, "required": 5}
    assert a["result"] == "not met"


def test_example_day6_after_car_t_is_possible(rules: RuleSet) -> None:
    # §2.1: day 6, T 38.6, ANC 0.4, platelets 45, ferritin 3100, TG and fibrinogen normal
    p = (Hyper().car_t().temp(day(6, 10), "38.6")
         .labs(LAB, neutrophils="0.4", platelets=45, ferritin=3100, triglycerides=150,
               fibrinogen=300))
    a = run(p, rules, iec=True)
    assert a["met"] is None
    assert (a["counts"]["met"], a["counts"]["unknown"]) == (3, 4)
    assert a["result"] == "possible, insufficient data"
    assert NOT_VALIDATED in a["caveats"]
    unknown = [i["item"] for i in a["items"] if i["status"] == "unknown"]
    assert unknown == ["splenomegaly", "haemophagocytosis", "nk-activity", "sil2r"]
    assert any("sIL-2R" in m for m in a["missing"])


@pytest.mark.parametrize(("celsius", "met"), [("38.5", True), ("38.4", False)])
def test_fever_boundary_at_or_above(rules: RuleSet, celsius: str, met: bool) -> None:
    a = run(Hyper().temp(day(6, 10), celsius), rules)
    assert items(a)["fever"]["status"] == ("met" if met else "not-met")


@pytest.mark.parametrize(("hb", "plt", "anc", "status"), [
    ("8.9", "99", "5", "met"),       # strictly below both
    ("9.0", "100", "1.0", "not-met"),  # at the cut-offs: not below
    ("8.9", "100", "1.0", "not-met"),
])
def test_cytopenia_boundaries_strictly_below(rules: RuleSet, hb: str, plt: str, anc: str,
                                             status: str) -> None:
    a = run(Hyper().labs(LAB, haemoglobin=hb, platelets=plt, neutrophils=anc), rules)
    assert items(a)["cytopenias"]["status"] == status


def test_haemoglobin_90_g_per_l_converted_is_not_below(rules: RuleSet) -> None:
    # 90 g/L -> 9.0 g/dL (fhir_mappers: g/L ÷ 10): not <9.0; 89 g/L -> 8.9 is.
    assert run(Hyper().labs(LAB, haemoglobin=str(90 / 10), platelets=50, neutrophils=5), rules)[
        "items"][2]["status"] == "not-met"
    assert run(Hyper().labs(LAB, haemoglobin="8.9", platelets=50, neutrophils=5), rules)[
        "items"][2]["status"] == "met"


def test_neonate_haemoglobin_cut_off_is_100_g_per_l(rules: RuleSet) -> None:
    baby = Hyper(birth_date=date(2025, 2, 20))  # 17 days old at NOW
    a = run(baby.labs(LAB, haemoglobin="9.5", platelets=50), rules)
    assert items(a)["cytopenias"]["status"] == "met"
    assert any("haemoglobin_below_neonate" in n for n in a["assumptions"])
    adult = run(Hyper().labs(LAB, haemoglobin="9.5", platelets=50, neutrophils=5), rules)
    assert items(adult)["cytopenias"]["status"] == "not-met"


def test_one_low_lineage_with_unknowns_is_unknown(rules: RuleSet) -> None:
    a = run(Hyper().labs(LAB, platelets=50), rules)
    assert items(a)["cytopenias"]["status"] == "unknown"
    assert set(items(a)["cytopenias"]["labs"]) == {"haemoglobin", "neutrophils"}


@pytest.mark.parametrize(("tg", "fib", "status"), [
    ("265", "300", "met"), ("264.9", "300", "not-met"),
    ("100", "150", "met"), ("100", "151", "not-met"),
    ("265.71", None, "met"),  # 3.0 mmol/L × 88.57 (§4.5) reaches ≥265 mg/dL
    ("100", None, "unknown"),
])
def test_triglycerides_and_fibrinogen(rules: RuleSet, tg: str, fib: str | None,
                                      status: str) -> None:
    p = Hyper().lab("triglycerides", LAB, tg)
    if fib is not None:
        p.lab("fibrinogen", LAB, fib)  # 1.5 g/L = 150 mg/dL (§4.5)
    assert items(run(p, rules))["triglycerides-fibrinogen"]["status"] == status


@pytest.mark.parametrize(("kind", "value", "status"), [
    ("ferritin", "500", "met"), ("ferritin", "499", "not-met"),
    ("sil2r", "2400", "met"), ("sil2r", "2399", "not-met"),
])
def test_ferritin_and_scd25_at_or_above(rules: RuleSet, kind: str, value: str,
                                        status: str) -> None:
    assert items(run(Hyper().lab(kind, LAB, value), rules))[kind]["status"] == status


def test_labs_older_than_72_h_are_not_used(rules: RuleSet) -> None:
    a = run(Hyper().lab("ferritin", day(3, 11), 9000), rules)
    assert items(a)["ferritin"]["status"] == "unknown"


def test_fever_threshold_is_a_site_setting() -> None:
    site = load_rules({"hlh2004.fever_min": "38.0"})
    a = run(Hyper().temp(day(6, 10), "38.2"), site)
    assert items(a)["fever"]["status"] == "met"
    assert any("site setting" in n for n in a["assumptions"])
