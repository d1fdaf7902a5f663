"""Cut-offs compared in the unit the source prints (clinical-criteria.md §0 Conventions).

§0: "Store each cut-off in every unit the source prints. Compare in the observed unit when the
source prints it; otherwise convert. Example: the HScore prints 132.7 mg/dL beside 1.5 mmol/L,
yet 1.5 × 88.57 = 132.86." The inexact conversions (§4.5) are triglycerides mmol/L (× 88.57)
and haemoglobin mmol/L (× 1/0.6206): a value on a printed boundary must not cross it when
converted. Specs for HScore (§2.2), HLH-2004 (§2.1) and MAS in sJIA (§2.6).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from cards.hyperinflammation_detail import criterion_lines
from criteria.cutoffs import against, pick, unit_key
from criteria.hlh2004 import assess_hlh2004
from criteria.hscore import assess_hscore
from criteria.mas import assess_mas
from criteria.model import CANONICAL_UNITS, Measurement
from criteria.rules import RuleSet, _constants, load_rules
from tests.unit.criteria.hyper_builders import Hyper, day

NOW = day(6, 12)
LAB = day(6, 6)  # within 72 h (HLH-2004, MAS) and 7 d (HScore)

# §4.5, as fhir_mappers.units converts them
TO_CANONICAL = {("triglycerides", "mmol/L"): lambda v: v * Decimal("88.57"),
                ("haemoglobin", "mmol/L"): lambda v: v / Decimal("0.6206"),
                ("haemoglobin", "g/L"): lambda v: v / Decimal("10")}


def observed(p: Hyper, kind: str, value: str, unit: str, at: datetime = LAB) -> Hyper:
    """Record a lab as the mapper does for a converted unit: canonical value plus observed."""
    given = Decimal(value)
    if unit == CANONICAL_UNITS[kind]:
        return p.lab(kind, at, value)
    p.measurements[kind].append(Measurement(
        kind, at, TO_CANONICAL[(kind, unit)](given), CANONICAL_UNITS[kind],
        p._ref("Observation"), observed=(given, unit)))
    return p


def item(a: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in a["items"] if i["item"] == name)


def hscore(p: Hyper, rules: RuleSet) -> dict[str, Any]:
    return assess_hscore(p.build(), NOW, rules, False).to_json()


# §0 / §2.2 HScore triglycerides: <1.5 mmol/L (<132.7 mg/dL) 0; 1.5-4 mmol/L 44; >4 mmol/L
# (>354 mg/dL) 64 --------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "pts"), [
    ("4.0", "mmol/L", 44),  # 354.28 mg/dL converted, but 4.0 is not ">4 mmol/L"
    ("4", "mmol/L", 44),
    ("4.01", "mmol/L", 64),
    ("354.0", "mg/dL", 44),
    ("354.1", "mg/dL", 64),
    ("1.5", "mmol/L", 44),  # "1.5-4 mmol/L" includes 1.5
    ("1.49", "mmol/L", 0),
    ("132.7", "mg/dL", 44),
    ("132.6", "mg/dL", 0),
])
def test_hscore_triglyceride_bands_in_the_printed_unit(rules: RuleSet, value: str, unit: str,
                                                       pts: int) -> None:
    a = hscore(observed(Hyper(), "triglycerides", value, unit), rules)
    assert item(a, "triglycerides")["points"] == pts


def test_hscore_4_mmol_l_was_64_by_conversion(rules: RuleSet) -> None:
    # the defect: 4.0 × 88.57 = 354.28 > 354 mg/dL
    assert Decimal("4.0") * Decimal("88.57") > rules.decimal("hscore.triglycerides_high_above")
    m = observed(Hyper(), "triglycerides", "4.0", "mmol/L").build().series("triglycerides")[0]
    assert against(m, rules, "hscore.triglycerides_high_above") == (Decimal("4.0"), Decimal(4))


def test_hscore_triglycerides_mixed_units_keep_the_value_that_scores(rules: RuleSet) -> None:
    # 4.0 mmol/L converts higher (354.28) but scores 44; 354.1 mg/dL scores 64 (§0, §2.2)
    p = observed(Hyper(), "triglycerides", "4.0", "mmol/L", day(5, 6))
    p = observed(p, "triglycerides", "354.1", "mg/dL", day(4, 6))
    tg = item(hscore(p, rules), "triglycerides")
    assert tg["points"] == 64
    assert [(v["value"], v["unit"]) for v in tg["values"]] == [(354.1, "mg/dL")]
    assert "observed" not in tg["values"][0]


# §2.2 HScore cytopenias: Hb ≤9.2 g/dL (≤92 g/L; ≤5.71 mmol/L) ------------------------------

@pytest.mark.parametrize(("value", "unit", "counted"), [
    ("5.71", "mmol/L", True),  # 5.71 / 0.6206 = 9.2007 g/dL, yet printed ≤5.71 mmol/L
    ("5.72", "mmol/L", False),
    ("92", "g/L", True),
    ("93", "g/L", False),
    ("9.2", "g/dL", True),
])
def test_hscore_haemoglobin_in_the_printed_unit(rules: RuleSet, value: str, unit: str,
                                                counted: bool) -> None:
    p = observed(Hyper().labs(LAB, wbc="2.0", platelets=200), "haemoglobin", value, unit)
    cyto = item(hscore(p, rules), "cytopenias")
    assert cyto["points"] == (24 if counted else 0)  # WBC low; Hb decides the second lineage
    assert cyto["note"] == ("2 lineages low" if counted else "1 lineage low")


# §2.1 HLH-2004 criterion 4: fasting TG ≥3.0 mmol/L (≥265 mg/dL) ------------------------------

@pytest.mark.parametrize(("value", "unit", "status"), [
    ("3.0", "mmol/L", "met"),
    ("2.995", "mmol/L", "not-met"),  # 265.27 mg/dL converted, but below 3.0 mmol/L
    ("265", "mg/dL", "met"),
    ("264.9", "mg/dL", "not-met"),
])
def test_hlh2004_triglycerides_in_the_printed_unit(rules: RuleSet, value: str, unit: str,
                                                   status: str) -> None:
    p = observed(Hyper().labs(LAB, fibrinogen=300), "triglycerides", value, unit)
    a = assess_hlh2004(p.build(), NOW, rules, False).to_json()
    assert item(a, "triglycerides-fibrinogen")["status"] == status


@pytest.mark.parametrize(("value", "unit", "counted"), [
    ("89", "g/L", True), ("90", "g/L", False),  # printed <90 g/L, strictly
])
def test_hlh2004_haemoglobin_in_the_printed_unit(rules: RuleSet, value: str, unit: str,
                                                 counted: bool) -> None:
    p = observed(Hyper().labs(LAB, neutrophils="0.5", platelets=200), "haemoglobin", value,
                 unit)
    a = assess_hlh2004(p.build(), NOW, rules, False).to_json()
    assert item(a, "cytopenias")["status"] == ("met" if counted else "not-met")


# §2.6 MAS: TG >156 mg/dL (1.76 mmol/L) -----------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "status"), [
    ("1.76", "mmol/L", "not-met"),  # ">" is strict
    ("1.77", "mmol/L", "met"),
    ("1.7605", "mmol/L", "met"),  # 155.93 mg/dL converted, yet above 1.76 mmol/L
    ("156", "mg/dL", "not-met"),
    ("156.1", "mg/dL", "met"),
])
def test_mas_triglycerides_in_the_printed_unit(rules: RuleSet, value: str, unit: str,
                                               status: str) -> None:
    p = (Hyper().condition("sjia").temp(day(6, 10), "38.4")
         .labs(LAB, ferritin=2500, ast=70, platelets=300, fibrinogen=400))
    a = assess_mas(observed(p, "triglycerides", value, unit).build(), NOW, rules).to_json()
    assert item(a, "triglycerides")["status"] == status
    assert a["met"] is (status == "met")  # AST plus triglycerides make the two items


# Rule data: the printed units -----------------------------------------------------------------

def test_printed_units_are_those_of_the_reference(rules: RuleSet) -> None:
    d = Decimal
    assert rules.printed("hscore.triglycerides_mid_min") == {"mmol/L": d("1.5"),
                                                              "mg/dL": d("132.7")}
    assert rules.printed("hscore.triglycerides_high_above") == {"mmol/L": d(4),
                                                                 "mg/dL": d(354)}
    assert rules.printed("hscore.haemoglobin_max") == {"g/dL": d("9.2"), "g/L": d(92),
                                                        "mmol/L": d("5.71")}
    assert rules.printed("hlh2004.triglycerides_min") == {"mmol/L": d("3.0"), "mg/dL": d(265)}
    assert rules.printed("hlh2004.haemoglobin_below") == {"g/L": d(90)}
    assert rules.printed("mas.triglycerides_above") == {"mg/dL": d(156), "mmol/L": d("1.76")}
    assert rules.printed("hscore.ferritin_mid_min") == {}  # one unit only: nothing printed
    with pytest.raises(TypeError):
        rules.printed("hscore.points")


def _spec(**extra: Any) -> list[tuple[str, str]]:
    spec = {"type": "decimal", "value": "354", "unit": "mg/dL", "confidence": "V2",
            "label": "x", "source": "y", **extra}
    return [("t.json", json.dumps({"constants": {"t.cut": spec}}))]


@pytest.mark.parametrize("printed", [
    {"mg/dL": "350"},  # disagrees with the value in its own unit
    {"mmol/L": "four"},
    {},
    {"": "4"},
])
def test_bad_printed_maps_are_refused(printed: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="t.cut"):
        _constants(_spec(printed=printed))


def test_printed_only_on_decimals() -> None:
    with pytest.raises(ValueError, match="decimal cut-offs only"):
        _constants(_spec(type="int", value=354, printed={"mmol/L": "4"}))


def test_plain_override_clears_the_printed_units_with_a_note() -> None:
    site = load_rules({"hscore.triglycerides_high_above": "360"})
    assert site.printed("hscore.triglycerides_high_above") == {}
    assert "printed units cleared" in site.note("hscore.triglycerides_high_above")
    # 4.0 mmol/L is now converted: 354.28 mg/dL is not above 360
    a = hscore(observed(Hyper(), "triglycerides", "4.1", "mmol/L"), site)
    assert item(a, "triglycerides")["points"] == 64  # 363.1 mg/dL > 360


def test_override_restating_the_default_keeps_printed_units() -> None:
    site = load_rules({"hscore.triglycerides_high_above": "354"})
    assert site.printed("hscore.triglycerides_high_above")["mmol/L"] == Decimal(4)
    assert "cleared" not in site.note("hscore.triglycerides_high_above")


def test_unit_map_override_keeps_printed_units() -> None:
    site = load_rules({"hscore.triglycerides_high_above": {"mg/dL": "360", "mmol/L": "4.1"}})
    assert site.decimal("hscore.triglycerides_high_above") == Decimal(360)
    assert site.printed("hscore.triglycerides_high_above") == {"mg/dL": Decimal(360),
                                                               "mmol/L": Decimal("4.1")}
    assert "cleared" not in site.note("hscore.triglycerides_high_above")
    a = hscore(observed(Hyper(), "triglycerides", "4.1", "mmol/L"), site)
    assert item(a, "triglycerides")["points"] == 44  # 4.1 is not > 4.1 mmol/L
    assert site.version != load_rules(
        {"hscore.triglycerides_high_above": {"mg/dL": "360", "mmol/L": "4.2"}}).version


@pytest.mark.parametrize("override", [
    {"mmol/L": "4.1"},  # lacks the constant's own unit
    {"mg/dL": "360", "g/L": "3.6"},  # a unit the source does not print
    {"mg/dL": "360", "mmol/L": "x"},
])
def test_bad_unit_map_overrides_are_refused(override: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="hscore.triglycerides_high_above"):
        load_rules({"hscore.triglycerides_high_above": override})


# Helper -------------------------------------------------------------------------------------

def test_units_match_ignoring_case_spaces_and_annotations() -> None:
    assert unit_key("mmol/l") == unit_key("mmol/L") == unit_key("mmol / L{fasting}")
    assert unit_key("µmol/L") == unit_key("umol/L")


def test_unprinted_unit_falls_back_to_canonical(rules: RuleSet) -> None:
    # HLH-2004 prints Hb only in g/L: mmol/L is converted and compared in g/dL
    p = observed(Hyper(), "haemoglobin", "5.58", "mmol/L")
    m = p.build().series("haemoglobin")[0]
    assert against(m, rules, "hlh2004.haemoglobin_below") == (m.value, Decimal("9.0"))


def test_pick_without_cut_offs_is_highest_then_latest() -> None:
    a = Measurement("ast", day(5, 1), Decimal(40), "U/L", "Observation/a")
    b = Measurement("ast", day(5, 2), Decimal(40), "U/L", "Observation/b")
    c = Measurement("ast", day(5, 3), Decimal(30), "U/L", "Observation/c")
    assert pick([a, b, c], lambda m: 0, high=True) is b
    assert pick([a, b, c], lambda m: 0, high=False) is c
    assert pick([], lambda m: 0, high=True) is None


# Card evidence: the value in the unit it was compared in ------------------------------------

def test_item_and_card_show_the_observed_value_when_used(rules: RuleSet) -> None:
    p = observed(Hyper().labs(LAB, wbc="2.0", platelets=200), "triglycerides", "4.0", "mmol/L")
    p = observed(p, "haemoglobin", "5.71", "mmol/L")
    a = assess_hscore(p.build(), NOW, rules, False)
    tg = item(a.to_json(), "triglycerides")["values"][0]
    assert tg["observed"] == {"value": 4, "unit": "mmol/L"}
    assert (tg["value"], tg["unit"]) == (354.28, "mg/dL")
    text = "\n".join(criterion_lines(a, False))
    assert r"triglycerides 4 mmol/L \(354.28 mg/dL\)" in text  # markdown-escaped
    assert r"haemoglobin 5.71 mmol/L \(9.201 g/dL\)" in text
    assert "WBC 2 ×10⁹/L" in text  # canonical values are shown as before


def test_observed_value_not_shown_when_converted_for_the_comparison(rules: RuleSet) -> None:
    # HLH-2004 prints no mmol/L Hb cut-off: the value was compared in g/dL, shown in g/dL
    p = observed(Hyper().labs(LAB, neutrophils="0.5"), "haemoglobin", "5.0", "mmol/L")
    a = assess_hlh2004(p.build(), NOW, rules, False).to_json()
    hb = next(v for v in item(a, "cytopenias")["values"] if v["kind"] == "haemoglobin")
    assert "observed" not in hb
