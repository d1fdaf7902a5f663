"""HScore (Fardet 2014, doi:10.1002/art.38690 [V2: PMC7589537 Table 4]; CC §2.2)."""

from __future__ import annotations

from typing import Any

import pytest

from criteria.hlh2004 import NOT_VALIDATED
from criteria.hscore import assess_hscore, band, shown_probability
from criteria.rules import RuleSet
from tests.unit.criteria.hyper_builders import Hyper, day

NOW = day(6, 12)
LAB = day(5, 6)  # within 7 d


def run(p: Hyper, rules: RuleSet, iec: bool = False) -> dict[str, Any]:
    return assess_hscore(p.build(), NOW, rules, iec).to_json()


def points(a: dict[str, Any]) -> dict[str, int]:
    return {i["item"]: i["points"] for i in a["items"]}


def test_sources_are_named(rules: RuleSet) -> None:
    assert "art.38690" in rules.source("hscore.points")
    assert "PMC7589537" in rules.source("hscore.points")
    assert rules.confidence("hscore.bands") == "R"
    assert rules.note("hscore.bands").startswith("unconfirmed threshold:")


def test_example_192_minimum_score(rules: RuleSet) -> None:
    # §2.2: 39.8 °C, 3 cytopenias, ferritin 4200, TG 3.1 mmol/L, fibrinogen 1.8 g/L, AST 25
    p = (Hyper().temp(day(6, 10), "39.8")
         .labs(LAB, haemoglobin="8.0", wbc="2.0", platelets=50, ferritin=4200,
               triglycerides=str(3.1 * 88.57), fibrinogen="180", ast=25))
    a = run(p, rules)
    assert a["score"] == 192
    assert a["minimumScore"] is True
    assert a["probability"] == "≥80 %"
    assert a["probabilityBand"] == "80-88 %"
    assert a["met"] is True  # ≥169 cut-off
    pts = points(a)
    assert (pts["temperature"], pts["cytopenias"], pts["ferritin"], pts["triglycerides"],
            pts["fibrinogen"], pts["ast"], pts["immunosuppression"]) == (49, 34, 35, 44, 30, 0, 0)
    # unknown: immunosuppression 18, organomegaly 38, marrow 35 -> range to 283
    assert a["scoreRange"] == [192, 192 + 18 + 38 + 35]


def test_example_119_minimum_score(rules: RuleSet) -> None:
    # §2.2: 38.6 °C, hepatomegaly only, 1 cytopenia, ferritin 1500, TG 2.5 mmol/L,
    # fibrinogen 3.2 g/L, AST 40 -> 33+23+44+19 = 119, shown "≥3 %"
    p = (Hyper().temp(day(6, 10), "38.6").condition("hepatomegaly")
         .labs(LAB, haemoglobin="12", wbc="2.0", platelets=200, ferritin=1500,
               triglycerides=str(2.5 * 88.57), fibrinogen="320", ast=40))
    a = run(p, rules)
    assert a["score"] == 119
    assert a["probability"] == "≥3 %"
    assert points(a)["organomegaly"] == 23
    assert a["met"] is None  # the range reaches 169: insufficient data
    assert "decidedBy" in a
    assert "169" in a["decidedBy"]


def test_never_the_logistic_formula(rules: RuleSet) -> None:
    # the logistic formula gives about 17 % at 90; the reference band is <1 %
    assert band(90, rules) == "<1"
    assert shown_probability(90, False, rules) == "<1 %"


@pytest.mark.parametrize(("score", "text"), [
    (90, "<1"), (91, "1"), (100, "1"), (101, "1-3"), (160, "25-40"), (161, "40-54"),
    (170, "40-54"), (171, "54-70"), (200, "80-88"), (201, "88-93"), (240, "98-99"),
    (241, ">99"), (337, ">99"),
])
def test_band_edges(rules: RuleSet, score: int, text: str) -> None:
    assert band(score, rules) == text


@pytest.mark.parametrize(("celsius", "pts"), [
    ("38.39", 0), ("38.4", 33), ("39.4", 33), ("39.41", 49)])
def test_temperature_strictly_below_and_above(rules: RuleSet, celsius: str, pts: int) -> None:
    assert points(run(Hyper().temp(day(6, 10), celsius), rules))["temperature"] == pts


@pytest.mark.parametrize(("value", "pts"), [("1999", 0), ("2000", 35), ("6000", 35),
                                            ("6001", 50)])
def test_ferritin_bands(rules: RuleSet, value: str, pts: int) -> None:
    assert points(run(Hyper().lab("ferritin", LAB, value), rules))["ferritin"] == pts


@pytest.mark.parametrize(("mg_dl", "pts"), [
    ("132.6", 0), ("132.7", 44), ("354", 44), ("354.1", 64),
    (str(1.5 * 88.57), 44),  # 1.5 mmol/L = 132.86 mg/dL (§4.5)
    (str(1.49 * 88.57), 0),
])
def test_triglyceride_bands_in_mg_dl(rules: RuleSet, mg_dl: str, pts: int) -> None:
    assert points(run(Hyper().lab("triglycerides", LAB, mg_dl), rules))["triglycerides"] == pts


@pytest.mark.parametrize(("mg_dl", "pts"), [("250", 30), ("251", 0), ("249", 30)])
def test_fibrinogen_at_or_below(rules: RuleSet, mg_dl: str, pts: int) -> None:
    # 2.5 g/L = 250 mg/dL (fhir_mappers: g/L × 100)
    assert points(run(Hyper().lab("fibrinogen", LAB, mg_dl), rules))["fibrinogen"] == pts


@pytest.mark.parametrize(("value", "pts"), [("29", 0), ("30", 19)])
def test_ast_at_or_above(rules: RuleSet, value: str, pts: int) -> None:
    assert points(run(Hyper().lab("ast", LAB, value), rules))["ast"] == pts


@pytest.mark.parametrize(("hb", "wbc", "plt", "pts"), [
    ("9.2", "5.0", "110", 34), ("9.3", "5.0", "110", 24), ("9.3", "5.1", "110", 0),
    ("9.3", "5.1", "111", 0),
])
def test_cytopenias_at_or_below(rules: RuleSet, hb: str, wbc: str, plt: str, pts: int) -> None:
    # 92 g/L = 9.2 g/dL; 5.71 mmol/L ÷ 0.6206 = 9.2 g/dL (§4.5)
    a = run(Hyper().labs(LAB, haemoglobin=hb, wbc=wbc, platelets=plt), rules)
    assert points(a)["cytopenias"] == pts


def test_unknown_cytopenia_lineages_widen_the_range(rules: RuleSet) -> None:
    a = run(Hyper().labs(LAB, haemoglobin="8", platelets=50), rules)
    item = next(i for i in a["items"] if i["item"] == "cytopenias")
    assert (item["points"], item["maxPoints"], item["status"]) == (24, 34, "unknown")
    assert item["labs"] == ["wbc"]


def test_organomegaly_both_and_haemophagocytosis(rules: RuleSet) -> None:
    p = Hyper().condition("hepatomegaly").condition("splenomegaly").condition(
        "haemophagocytosis")
    pts = points(run(p, rules))
    assert (pts["organomegaly"], pts["haemophagocytosis"]) == (38, 35)


def test_immunosuppression_is_never_derived(rules: RuleSet) -> None:
    a = run(Hyper().condition("immunosuppression"), rules)
    item = a["items"][0]
    assert (item["status"], item["points"], item["maxPoints"]) == ("unknown", 0, 18)


def test_nothing_known_is_a_range_from_zero(rules: RuleSet) -> None:
    a = run(Hyper(), rules)
    assert a["scoreRange"] == [0, 337]
    assert a["met"] is None


def test_all_known_is_not_met_below_cut_off(rules: RuleSet) -> None:
    a = run(Hyper().temp(day(6, 10), "37").labs(LAB, haemoglobin=14, wbc=7, platelets=250,
                                                 ferritin=100, triglycerides=100,
                                                 fibrinogen=300, ast=20), rules)
    assert a["scoreRange"] == [0, 18 + 38 + 35]
    assert a["met"] is False


def test_iec_window_adds_the_caveat(rules: RuleSet) -> None:
    a = run(Hyper().temp(day(6, 10), "39.8").labs(LAB, ferritin=7000), rules, iec=True)
    assert NOT_VALIDATED in a["caveats"]
