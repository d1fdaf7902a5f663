"""patient-view: which criteria run and which cards they give."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cards.crs_card import crs_cards
from cards.hyperinflammation import hyperinflammation_cards
from criteria.crs import CrsResult, assess_crs
from criteria.hyperinflammation import assess_hyperinflammation
from criteria.model import PatientTimeline
from criteria.rules import RuleSet
from criteria.steroids import steroid_for_grade
from criteria.tocilizumab import check_tocilizumab

Cards = list[dict[str, Any]]
Assessments = list[dict[str, Any]]


def crs(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime, rules: RuleSet,
        unavailable: Mapping[str, str]) -> tuple[Cards, Assessments, CrsResult]:
    """Grade CRS and build the CRS card when the grade is at least 1."""
    context = body["context"]
    result = assess_crs(timeline, now, rules)
    assessments = [result.astct.to_json(), result.lee.to_json(), result.ctcae.to_json()]
    grade = result.astct.grade or 0
    if grade < 1:
        return [], assessments, result
    onset = result.episode.onset if result.episode else None
    toci = check_tocilizumab(timeline, now, rules, onset)
    steroid = steroid_for_grade(grade, rules)
    cards = crs_cards(result, toci, steroid, patient_id=context["patientId"],
                      user_id=context["userId"], unavailable=unavailable, now=now,
                      record_warnings=tuple(w.code for w in timeline.warnings))
    return cards, assessments, result


def hyperinflammation(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime,
                      rules: RuleSet, unavailable: Mapping[str, str],
                      crs_result: CrsResult | None) -> tuple[Cards, Assessments]:
    """Assess HLH, HScore, IEC-HS, carHLH, Caricchio, MAS and EASIX; at most one card."""
    context = body["context"]
    result = assess_hyperinflammation(timeline, now, rules, crs_result)
    cards = hyperinflammation_cards(result, patient_id=context["patientId"],
                                    user_id=context["userId"], unavailable=unavailable, now=now)
    return cards, [a.to_json() for a in result.assessments]


def run(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime, rules: RuleSet,
        unavailable: Mapping[str, str]) -> tuple[Cards, Assessments]:
    """Run every patient-view criterion; return the cards and all assessments."""
    cards, assessments, crs_result = crs(body, timeline, now, rules, unavailable)
    more_cards, more = hyperinflammation(body, timeline, now, rules, unavailable, crs_result)
    return cards + more_cards, assessments + more
