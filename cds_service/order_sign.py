"""order-sign: which checks run on the draft orders and which cards they give."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from criteria.model import PatientTimeline
from criteria.rules import RuleSet

Cards = list[dict[str, Any]]
Assessments = list[dict[str, Any]]


def run(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime, rules: RuleSet,
        unavailable: Mapping[str, str]) -> tuple[Cards, Assessments]:
    """Run the order checks; none exist yet, so there is no advice."""
    return [], []
