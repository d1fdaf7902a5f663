"""patient-view: which criteria run and which cards they give."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cards.crs_card import crs_cards
from criteria.crs import assess_crs
from criteria.model import PatientTimeline
from criteria.rules import RuleSet
from criteria.steroids import steroid_for_grade
from criteria.tocilizumab import check_tocilizumab

Cards = list[dict[str, Any]]
Assessments = list[dict[str, Any]]


def crs(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime, rules: RuleSet,
        unavailable: Mapping[str, str]) -> tuple[Cards, Assessments]:
    """Grade CRS and build the CRS card when the grade is at least 1."""
    context = body["context"]
    result = assess_crs(timeline, now, rules)
    assessments = [result.astct.to_json(), result.lee.to_json(), result.ctcae.to_json()]
    grade = result.astct.grade or 0
    if grade < 1:
        return [], assessments
    onset = result.episode.onset if result.episode else None
    toci = check_tocilizumab(timeline, now, rules, onset)
    steroid = steroid_for_grade(grade, rules)
    cards = crs_cards(result, toci, steroid, patient_id=context["patientId"],
                      user_id=context["userId"], unavailable=unavailable, now=now)
    return cards, assessments


def run(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime, rules: RuleSet,
        unavailable: Mapping[str, str]) -> tuple[Cards, Assessments]:
    """Run every patient-view criterion; return the cards and all assessments."""
    return crs(body, timeline, now, rules, unavailable)
