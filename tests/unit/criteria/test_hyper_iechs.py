"""IEC-HS (Hines 2023 [R]; clinical-criteria.md §2.3): the project trigger and the grade."""

from __future__ import annotations

from typing import Any

import pytest

from criteria.crs import assess_crs
from criteria.iechs import assess_iechs
from criteria.model import DrugClass
from criteria.rules import RuleSet, load_rules
from criteria.screening import iec_doses
from tests.unit.criteria.hyper_builders import DAY0, Hyper, day, hours

NOW = day(11, 12)


def trigger_case(latest: int = 2600) -> Hyper:
    """CAR-T day 0; CRS fever day 2 (resolved); ferritin 2000 -> 2600 (≥20 % in 24 h) on day
    10-11, ULN 300 and baseline 400; platelets 40 below LLN 150 and below baseline 180."""
    p = Hyper().car_t()
    p.lab("ferritin", DAY0 - hours(20), 400, low=20, high=300)
    p.lab("platelets", DAY0 - hours(20), 180, low=150, high=400)
    p.temp(day(2, 8), "38.9").temp(day(3, 8), "38.2")
    for d in (9, 10, 11):
        p.temp(day(d, 6), "37.1")
    p.lab("ferritin", day(10, 9), 2000, low=20, high=300)
    p.lab("ferritin", day(11, 9), latest, low=20, high=300)
    p.lab("platelets", day(11, 9), 40, low=150, high=400)
    return p


def run(p: Hyper, rules: RuleSet, at: Any = NOW) -> dict[str, Any]:
    t = p.build()
    crs = assess_crs(t, at, rules)
    doses = iec_doses(t, at, rules)
    index = doses[-1] if doses else None
    window = index is not None and at - index.start <= rules.duration("hyper.iec_window")
    return assess_iechs(t, at, rules, crs, index, window).to_json()


def items(a: dict[str, Any]) -> dict[str, str]:
    return {i["item"]: i["status"] for i in a["items"]}


def test_sources_and_flags(rules: RuleSet) -> None:
    assert "jtct.2023.03.006" in rules.source("iechs.liver_uln_multiple")
    assert rules.note("iechs.rise_min_pct").startswith("assumption:")
    assert rules.note("iechs.fibrinogen_below").startswith("unconfirmed threshold:")


def test_trigger_example_fires_with_grade_1_lower_bound(rules: RuleSet) -> None:
    a = run(trigger_case(), rules)
    assert items(a) == {"ferritin-high": "met", "ferritin-rising": "met",
                        "organ-findings": "met"}
    assert a["met"] is True
    assert a["grade"] == 1
    assert a["gradeIsLowerBound"] is True
    assert "3 if hospitalised" in a["raiseHint"]
    assert any(n.startswith("assumption:") for n in a["assumptions"])
    assert "unconfirmed" in a["unconfirmed"]


def test_anakinra_given_is_grade_2(rules: RuleSet) -> None:
    p = trigger_case().drug(DrugClass.ANAKINRA, "anakinra", day(11, 10))
    assert run(p, rules)["grade"] == 2


def test_running_vasopressor_is_grade_4(rules: RuleSet) -> None:
    p = trigger_case().infusion("norepinephrine", day(11, 10), rate="8")
    a = run(p, rules)
    assert a["met"] is True
    assert a["grade"] == 4


@pytest.mark.parametrize(("latest", "status"), [(2400, "met"), (2399, "not-met")])
def test_rise_boundary_20_percent(rules: RuleSet, latest: int, status: str) -> None:
    assert items(run(trigger_case(latest), rules))["ferritin-rising"] == status


def test_previous_value_older_than_48_h_does_not_count(rules: RuleSet) -> None:
    p = Hyper().car_t()
    for d in (9, 10, 11):
        p.temp(day(d, 6), "37.0")
    p.lab("ferritin", day(9, 8), 1000, high=300).lab("ferritin", day(11, 9), 3000, high=300)
    assert items(run(p, rules))["ferritin-rising"] == "unknown"


def test_not_while_crs_is_at_its_peak(rules: RuleSet) -> None:
    p = trigger_case().temp(day(11, 10), "39.0")  # fever again: CRS grade 1 = peak
    a = run(p, rules)
    assert items(a)["ferritin-rising"] == "not-met"
    assert a["met"] is False


@pytest.mark.parametrize(("uln", "base", "status"), [
    (1299, None, "met"),
    (1300, None, "unknown"),  # 2600 = 2 × ULN is not above; baseline unknown
    (1300, 1300, "not-met"),  # nor above 2 × baseline
    (1300, 1299, "met"),
])
def test_ferritin_multiple_is_strict(rules: RuleSet, uln: int, base: int | None,
                                     status: str) -> None:
    p = Hyper().car_t()
    if base is not None:
        p.lab("ferritin", DAY0 - hours(2), base)
    p.lab("ferritin", day(11, 9), 2600, high=uln)
    assert items(run(p, rules))["ferritin-high"] == status


@pytest.mark.parametrize(("kind", "value", "high", "status"), [
    ("ast", 201, 40, "met"), ("ast", 200, 40, "unknown"),  # >5× ULN strictly
    ("fibrinogen", 149, None, "met"), ("ldh", 251, 250, "met"),
])
def test_organ_findings(rules: RuleSet, kind: str, value: int, high: int | None,
                        status: str) -> None:
    p = Hyper().car_t().lab(kind, day(11, 9), value, high=high)
    assert items(run(p, rules))["organ-findings"] == status


def test_fibrinogen_150_is_not_below(rules: RuleSet) -> None:
    p = Hyper().car_t().lab("fibrinogen", day(11, 9), 150).lab("ldh", day(11, 9), 200, high=250)
    p.lab("ast", day(11, 9), 30, high=40).lab("alt", day(11, 9), 30, high=40)
    for kind in ("platelets", "neutrophils", "haemoglobin"):
        p.lab(kind, day(11, 9), 300, low=1)
        p.lab(kind, DAY0 - hours(3), 200)
    assert items(run(p, rules))["organ-findings"] == "not-met"


def test_outside_the_iec_window_it_does_not_run(rules: RuleSet) -> None:
    a = run(trigger_case(), rules, at=day(101, 12))
    assert a["met"] is False
    assert "items" not in a or a["items"] == []


def test_trigger_is_configurable() -> None:
    site = load_rules({"iechs.rise_min_pct": "40"})
    a = run(trigger_case(), site)
    assert items(a)["ferritin-rising"] == "not-met"  # 30 % < 40 %
