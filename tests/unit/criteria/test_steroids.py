"""Corticosteroids for CRS by ASTCT grade (clinical-criteria.md §3.2; NCCN CART-6/7)."""

from __future__ import annotations

from decimal import Decimal

from criteria.rules import RuleSet
from criteria.steroids import steroid_for_grade


def test_grade_1_consider_dexamethasone_if_early_onset(rules: RuleSet) -> None:
    advice = steroid_for_grade(1, rules)
    assert advice is not None
    assert advice.consider is True
    assert advice.text() == "Consider dexamethasone 10 mg IV q24h if onset <72 h after infusion"


def test_grade_2_dexamethasone_10_mg(rules: RuleSet) -> None:
    advice = steroid_for_grade(2, rules)
    assert advice is not None
    assert (advice.drug, advice.dose_mg, advice.route) == ("dexamethasone", Decimal(10), "IV")


def test_grade_3_dexamethasone_10_mg_q6h(rules: RuleSet) -> None:
    advice = steroid_for_grade(3, rules)
    assert advice is not None
    assert advice.frequency == "q6h"
    assert advice.confidence == "V2"


def test_grade_4_methylprednisolone_500_mg_q12h(rules: RuleSet) -> None:
    advice = steroid_for_grade(4, rules)
    assert advice is not None
    assert (advice.drug, advice.dose_mg, advice.frequency) == ("methylprednisolone",
                                                               Decimal(500), "q12h")
    assert advice.course is not None
    assert "250 mg q12h x 2 d" in advice.course
    assert "NCCN" in advice.source


def test_no_steroid_for_grade_0(rules: RuleSet) -> None:
    assert steroid_for_grade(0, rules) is None
