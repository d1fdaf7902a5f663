"""order-sign: checks on draft CAR-T, bispecific and tocilizumab orders, and their cards.

Fast path: when no draft order is a CAR-T product, a bispecific or tocilizumab, ``run``
returns at once with no cards and no assessments (nothing was assessed, so nothing is
listed). Otherwise every check is an assessment (criteria ``cart-preinfusion``,
``bispecific-preinfusion`` or ``tocilizumab-order``), listed whether or not it gives a card.
See docs/order-sign.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cards.order_card import order_cards
from criteria.model import PatientTimeline
from criteria.order_checks import assess_orders, of_interest
from criteria.rules import RuleSet
from fhir_mappers.orders import draft_resources

Cards = list[dict[str, Any]]
Assessments = list[dict[str, Any]]


def run(body: Mapping[str, Any], timeline: PatientTimeline, now: datetime, rules: RuleSet,
        unavailable: Mapping[str, str]) -> tuple[Cards, Assessments]:
    """Check each draft order of interest; one card per order that needs attention."""
    if not of_interest(timeline):
        return [], []
    context = body["context"]
    bundle = context.get("draftOrders")
    checks = assess_orders(timeline, now, rules)
    cards = order_cards(checks, draft_resources(bundle), patient_id=str(context["patientId"]),
                        user_id=str(context["userId"]), unavailable=unavailable, rules=rules)
    assessments = [a.to_json() for check in checks for a in check.assessments()]
    return cards, assessments
