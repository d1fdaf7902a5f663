"""Turn a CRS result into CDS Hooks cards (one card for ASTCT grade ≥1, none for grade 0).

Spec: CDS Hooks 2.0 card (https://cds-hooks.hl7.org/2.0/#card-attributes); project rules
reference/cds-hooks.md §1, §5 and §8; clinical content reference/clinical-criteria.md §1.1,
§1.3-1.4 and §3.1-3.4, kept with its sources in ``cards/data/crs_card.json``.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cards import content
from cards.detail import build_detail
from cards.json_rules import find_empty_values, strip_empty
from cards.suggestions import crs_suggestions
from cards.summary import build_summary
from cards.view import card_facts
from criteria.assessment import iso
from criteria.crs import CrsResult
from criteria.steroids import SteroidAdvice
from criteria.tocilizumab import TocilizumabCheck

# Users who cannot sign orders (reference/cds-hooks.md §8): no order-creating suggestions.
NON_ORDERING_USERS = ("Patient/", "RelatedPerson/")
_NON_ORDERING_URL = re.compile(r"/(?:Patient|RelatedPerson)/[^/]+/?$")

ASSESSMENT_EXTENSION = "crs-cds.assessment"


def indicator(grade: int) -> str:
    """Return the card indicator for an ASTCT grade: info 1, warning 2, critical 3 and 4."""
    if grade >= 3:
        return "critical"
    return "warning" if grade == 2 else "info"


def may_order(user_id: str) -> bool:
    """Return whether the user may be offered suggestions that create orders.

    Refused for ``Patient/<id>`` and ``RelatedPerson/<id>``, relative or as an absolute URL
    ending in one (reference/cds-hooks.md §8).
    """
    user = user_id.strip()
    return not (user.startswith(NON_ORDERING_USERS) or _NON_ORDERING_URL.search(user))


def _source() -> dict[str, Any]:
    data = content.card_text()["card"]
    src = content.source(data["source"])
    return {"label": src["label"], "url": src["url"], "topic": dict(data["topic"])}


def assessment_extension(result: CrsResult) -> dict[str, Any]:
    """Return the card extension: the ASTCT assessment, with null members left out.

    Our JSON rules forbid null, so ``met: null`` (insufficient data) is carried by omission.
    """
    return {ASSESSMENT_EXTENSION: strip_empty(result.astct.to_json())}


def crs_cards(result: CrsResult, toci: TocilizumabCheck | None, steroid: SteroidAdvice | None,
              *, patient_id: str, user_id: str, unavailable: Mapping[str, str],
              now: datetime, record_warnings: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Return the CRS card for a result (empty list at grade 0 or unknown).

    ``record_warnings`` are the MappingWarning codes of the timeline (e.g.
    "tocilizumab-unreadable", which withholds the tocilizumab suggestion).
    """
    facts = card_facts(result)
    if facts is None:
        return []
    orders = may_order(user_id)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": build_summary(facts),
        "indicator": indicator(facts.grade),
        "detail": unicodedata.normalize("NFC", build_detail(
            result, facts, toci, steroid, unavailable=unavailable, orders_shown=orders,
            record_warnings=record_warnings)),
        "source": _source(),
    }
    if orders:
        suggestions = crs_suggestions(toci, steroid, patient_id=patient_id, grade=facts.grade,
                                      lower_bound=facts.lower_bound,
                                      record_warnings=record_warnings)
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "any"
    card["overrideReasons"] = content.override_reasons()
    card["links"] = [dict(link) for link in content.card_text()["card"]["links"]]
    extension = assessment_extension(result)
    extension[ASSESSMENT_EXTENSION].setdefault("evaluatedAt", iso(now))
    card["extension"] = extension
    empty = find_empty_values(card)
    if empty:
        raise ValueError(f"CRS card has empty values at {', '.join(empty)}")
    return [card]
