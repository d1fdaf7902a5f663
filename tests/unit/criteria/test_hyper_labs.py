"""Shared lab selection: windows, baseline (§0 Lab baseline), trends, entry point decisions."""

from __future__ import annotations

from decimal import Decimal

from criteria.crs import assess_crs
from criteria.hyperinflammation import assess_hyperinflammation
from criteria.labs import Item, baseline, count_outcome, lab_trend
from criteria.rules import RuleSet
from tests.unit.criteria.hyper_builders import DAY0, Hyper, day, hours


def test_baseline_is_the_last_value_from_day_minus_7_to_the_dose(rules: RuleSet) -> None:
    p = (Hyper().car_t().lab("ferritin", DAY0 - hours(24 * 8), 100)
         .lab("ferritin", DAY0 - hours(24 * 6), 300).lab("ferritin", DAY0 - hours(2), 350)
         .lab("ferritin", DAY0 + hours(2), 900))
    t = p.build()
    found = baseline(t, "ferritin", t.drugs[0], rules)
    assert found is not None
    assert found.value == 350


def test_trend_peak_rise_and_direction(rules: RuleSet) -> None:
    p = (Hyper().car_t().lab("ferritin", DAY0 - hours(3), 500).lab("ferritin", day(3), 4000)
         .lab("ferritin", day(4), 6000).lab("ferritin", day(5), 5000))
    t = p.build()
    trend = lab_trend(t, "ferritin", day(5, 12), rules, t.drugs[0])
    assert trend.peak is not None
    assert trend.peak.value == 6000
    assert trend.rise_since_baseline_pct == Decimal(1100)
    assert trend.direction == "stable"  # -16.7 %: within ±20 %
    assert trend.to_json()["riseSinceBaselinePct"] == 1100


def test_count_outcome_three_results() -> None:
    def items(met: int, unknown: int) -> list[Item]:
        return ([Item("a", "a", "met")] * met + [Item("u", "u", "unknown")] * unknown
                + [Item("n", "n", "not-met")] * (8 - met - unknown))
    assert count_outcome(items(5, 0), 5) == (True, 5, 0)
    assert count_outcome(items(3, 2), 5) == (None, 3, 2)
    assert count_outcome(items(3, 1), 5) == (False, 3, 1)


def test_entry_point_triggers_and_iec_window(rules: RuleSet) -> None:
    p = Hyper().car_t().condition("infection").lab("ferritin", day(5), 800)
    t = p.build()
    now = day(5, 12)
    r = assess_hyperinflammation(t, now, rules, assess_crs(t, now, rules))
    assert r.iec_window is True
    assert r.day_post_index == 5
    assert r.triggers[0].startswith("CAR-T infusion (axicabtagene ciloleucel)")
    assert any("infection on record" in x for x in r.triggers)
    assert r.detail_order[0] == "iec-hs-2023"
    late = day(120)
    r = assess_hyperinflammation(t, late, rules, assess_crs(t, late, rules))
    assert r.iec_window is False
    assert r.get("iec-hs-2023").met is False


def test_medication_data_unavailable_leaves_iechs_unknown(rules: RuleSet) -> None:
    p = Hyper()
    p.unavailable = ("medadmin",)
    t = p.build()
    r = assess_hyperinflammation(t, day(5), rules, None)
    assert r.iec_window is None
    assert r.get("iec-hs-2023").met is None
