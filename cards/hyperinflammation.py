"""Turn a hyperinflammation result into at most one CDS Hooks card.

Spec: CDS Hooks 2.0 card (https://cds-hooks.hl7.org/2.0/#card-attributes); project rules
reference/cds-hooks.md §1, §5 and §8; clinical content reference/clinical-criteria.md §2 and
§3.4, kept with its sources in ``cards/data/hyperinflammation.json``.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cards.crs_card import may_order
from cards.hyperinflammation_detail import build_detail
from cards.hyperinflammation_orders import lab_suggestions
from cards.hyperinflammation_text import build_summary, override_reasons, text
from cards.json_rules import find_empty_values, strip_empty
from criteria.assessment import iso
from criteria.hyperinflammation import HyperinflammationResult

EXTENSION = "crs-cds.assessments"


def _source() -> dict[str, Any]:
    data = text()
    src = data["sources"][data["card"]["source"]]
    return {"label": src["label"], "url": src["url"], "topic": dict(data["card"]["topic"])}


def hyperinflammation_cards(result: HyperinflammationResult, *, patient_id: str, user_id: str,
                            unavailable: Mapping[str, str],
                            now: datetime) -> list[dict[str, Any]]:
    """Return the hyperinflammation card when a criterion is met or probable, else []."""
    strength = result.strength
    if strength is None:
        return []
    orders = may_order(user_id)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": build_summary(result),
        "indicator": strength,
        "detail": unicodedata.normalize("NFC", build_detail(
            result, orders_shown=orders, unavailable=unavailable)),
        "source": _source(),
    }
    if orders:
        reason = f"Hyperinflammation screening (crs-cds): {card['summary']}"
        suggestions = lab_suggestions(result.order_labs, patient_id=patient_id, reason=reason)
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "any"
    card["overrideReasons"] = override_reasons()
    card["links"] = [dict(link) for link in text()["card"]["links"]]
    assessments = [strip_empty(a.to_json()) for a in result.assessments]
    for a in assessments:
        a.setdefault("evaluatedAt", iso(now))
    card["extension"] = {EXTENSION: assessments}
    empty = find_empty_values(card)
    if empty:
        raise ValueError(f"hyperinflammation card has empty values at {', '.join(empty)}")
    return [card]
