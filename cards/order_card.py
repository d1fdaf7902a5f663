"""Turn order-sign checks into CDS Hooks cards: one card per draft order that needs attention.

Spec: CDS Hooks 2.0 card (https://cds-hooks.hl7.org/2.0/#card-attributes); project rules
reference/cds-hooks.md §1, §5 and §8. Indicator: ``critical`` when a check is critical (active
CRS or infection, a tocilizumab dose over the cap), ``warning`` when one fails, ``info`` when
one cannot be confirmed; no card when every check passes unless ``order.info_when_clear``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from cards import order_content
from cards.crs_card import may_order
from cards.json_rules import find_empty_values, strip_empty
from cards.order_detail import build_detail, build_summary, order_name
from cards.order_suggestions import dose_update, lab_suggestions, removal
from cards.treatment import PATIENT_VIEWER
from cards.view import shown_number
from criteria.order_checks import OrderCheck
from criteria.preinfusion import RANK
from criteria.rules import RuleSet

log = logging.getLogger(__name__)

ASSESSMENTS_EXTENSION = "crs-cds.assessments"
INDICATOR = {"critical": "critical", "fail": "warning", "unknown": "info"}


def indicator(check: OrderCheck) -> str | None:
    """Return the card indicator of a check, or None when no card is due."""
    return INDICATOR.get(check.worst)


def assessments_extension(check: OrderCheck) -> dict[str, Any]:
    """Return the card extension: every assessment of the order, null members left out."""
    return {ASSESSMENTS_EXTENSION: [strip_empty(a.to_json()) for a in check.assessments()]}


def _suggestions(check: OrderCheck, drafts: Mapping[str, Mapping[str, Any]],
                 patient_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """Return the suggestions of one order (labs to order, or the tocilizumab fix) and a note
    when a suggestion could not be made."""
    toci = check.tocilizumab
    if toci is None:
        labs = next((r for r in check.results if r.check == "baseline-labs"), None)
        wanted = list(labs.extra.get("toOrder", [])) if labs is not None else []
        what = f"{order_name(check)} {order_content.card_spec(check.criteria)['what']}"
        return lab_suggestions(wanted, patient_id=patient_id, what=what), None
    out: list[dict[str, Any]] = []
    note = None
    draft = drafts.get(check.order.reference)
    if toci.corrected_mg is not None and not toci.blocked and draft is not None:
        dose = toci.corrected_mg
        rule = "weight-based dose"
        if toci.check.mg_per_kg is not None and toci.check.weight is not None:
            rule = (f"{shown_number(toci.check.mg_per_kg)} mg/kg × "
                    f"{shown_number(toci.check.weight.value)} kg"
                    + (", capped" if toci.check.capped else ""))
        label = f"Change the dose to {shown_number(dose)} mg ({rule})"
        try:
            out.append(dose_update(draft, check.order.reference, dose, label, rule,
                                   toci.ordered_mg))
        except ValueError:  # the EHR's draft itself does not validate as FHIR R4
            note = (f"The corrected order could not be proposed: the draft order does not "
                    f"validate as FHIR R4. Change the dose to {shown_number(dose)} mg by hand.")
    if toci.blocked or check.worst == "critical":
        why = "repeat limit" if toci.blocked else "dose over the cap"
        out.append(removal(check.order.reference, why))
    return out, note


def order_card(check: OrderCheck, drafts: Mapping[str, Mapping[str, Any]], *, patient_id: str,
               user_id: str, unavailable: Mapping[str, str],
               rules: RuleSet) -> dict[str, Any] | None:
    """Return the card of one checked order, or None when no card is due."""
    level = indicator(check)
    clear = RANK[check.worst] < RANK["unknown"]
    if level is None:
        if not (check.applicable and rules.flag("order.info_when_clear")
                and check.criteria != "tocilizumab-order"):
            return None
        level = "info"
    suggestions, note = ([], None) if clear else _suggestions(check, drafts, patient_id)
    if suggestions and not may_order(user_id):
        suggestions, note = [], PATIENT_VIEWER
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": build_summary(check),
        "indicator": level,
        "detail": build_detail(check, unavailable=unavailable, suggestion_note=note),
        "source": order_content.source(check.criteria),
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one" if check.tocilizumab and len(
            suggestions) > 1 else "any"
    card["overrideReasons"] = order_content.override_reasons()
    card["links"] = [order_content.label_link(order_name(check))]
    card["extension"] = assessments_extension(check)
    empty = find_empty_values(card)
    if empty:
        raise ValueError(f"order card has empty values at {', '.join(empty)}")
    return card


def order_cards(checks: list[OrderCheck], drafts: Mapping[str, Mapping[str, Any]], *,
                patient_id: str, user_id: str, unavailable: Mapping[str, str],
                rules: RuleSet) -> list[dict[str, Any]]:
    """Return one card per checked order that needs attention, most severe first."""
    cards: list[dict[str, Any] | None] = []
    for check in checks:
        try:
            cards.append(order_card(check, drafts, patient_id=patient_id, user_id=user_id,
                                    unavailable=unavailable, rules=rules))
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            # One order's card failing must not take the other orders' cards with it.
            log.error("order card not built: %s", type(exc).__name__)
            cards.append(fallback_card(check))
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted((c for c in cards if c is not None), key=lambda c: order[c["indicator"]])


def fallback_card(check: OrderCheck) -> dict[str, Any] | None:
    """Return a bare card saying the checks of an order need a manual review, or None."""
    level = indicator(check)
    if level is None:
        return None
    return {
        "uuid": str(uuid.uuid4()),
        "summary": "Order checks found a problem but the card could not be built; review",
        "indicator": level,
        "detail": ("crs-cds found a problem with this order but could not build its card. "
                   "Review the order against the CAR-T, bispecific or tocilizumab label."),
        "source": order_content.source(check.criteria),
        "extension": assessments_extension(check),
    }
