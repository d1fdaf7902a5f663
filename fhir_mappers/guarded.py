"""Per-resource isolation around the order and condition mappers, plus route and number checks.

``orders.py`` and ``conditions.py`` map lists; here each resource (or draft entry) is mapped
on its own, so junk in one becomes an "invalid-resource" warning about that resource and
never an exception out of ``build_timeline``. Exposures with a dose or rate that is not a
plausible number are set aside; the route of each order is read from its first
``dosageInstruction``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from criteria.model import ConditionFact, DrugExposure
from fhir_mappers.conditions import map_conditions
from fhir_mappers.context import UNREADABLE, Context
from fhir_mappers.medications import drug_texts, medication_concept, medication_match
from fhir_mappers.medref import inline, unmatched
from fhir_mappers.notes import Notes
from fhir_mappers.orders import map_drafts, map_signed_orders
from fhir_mappers.plausible import sane_dose
from fhir_mappers.routes import route_of

_DRAFT_TYPES = ("MedicationRequest", "ServiceRequest")


def checked(found: DrugExposure, raw: Mapping[str, Any], ctx: Context) -> DrugExposure | None:
    """Return an order exposure with its route, or None (warned) when a number is junk."""
    if not (sane_dose(found.dose) and sane_dose(found.rate)):
        ctx.notes.add("invalid-resource", "a dose or rate is not a plausible number",
                      found.reference)
        return None
    instructions = raw.get("dosageInstruction")
    first = instructions[0] if isinstance(instructions, list) and instructions else None
    route_raw = first.get("route") if isinstance(first, Mapping) else None
    texts = drug_texts(raw) if raw.get("resourceType") == "MedicationRequest" else []
    if raw.get("resourceType") == "ServiceRequest" and isinstance(raw.get("code"), Mapping):
        texts = [str(raw["code"].get("text") or "")]
    route, flags = route_of(route_raw, texts)
    return dataclasses.replace(found, route=route, flags=(*found.flags, *flags))


def signed_orders(resources: Sequence[Mapping[str, Any]], ctx: Context) -> list[DrugExposure]:
    """Map signed MedicationRequests one by one; warn about unmatched drugs."""
    out: list[DrugExposure] = []
    for raw in resources:
        ref = f"MedicationRequest/{raw.get('id')}"
        try:
            if medication_match(raw)[0] is None:
                unmatched(medication_concept(raw)[0], raw, ref, ctx.notes)
                continue
            for found in map_signed_orders([dict(raw)], ctx):
                kept = checked(found, raw, ctx)
                out += [kept] if kept is not None else []
        except UNREADABLE:
            ctx.notes.add("invalid-resource", "order could not be read", ref)
    return out


def draft_entries(bundle: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """Return (reference, resource) of draft Medication- and ServiceRequests, Medications
    of the Bundle copied in as ``#contained``."""
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    entries = [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []
    known = _by_reference([e for e in entries if isinstance(e.get("resource"), Mapping)
                           and e["resource"].get("resourceType") == "Medication"])
    out = []
    for entry in entries:
        raw = entry.get("resource")
        if (isinstance(raw, Mapping) and raw.get("resourceType") in _DRAFT_TYPES
                and isinstance(raw.get("id"), str)):
            out.append((f"{raw['resourceType']}/{raw['id']}",
                        inline(raw, known, replace_junk=True)))
    return out


def drafts(bundle: Any, ctx: Context) -> list[DrugExposure]:
    """Map draftOrders entry by entry (each with the bundle's Medications) in isolation."""
    entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
    if not isinstance(entries, list) or not entries:
        return _one_draft(bundle, None, ctx)
    is_med = [isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)
              and e["resource"].get("resourceType") == "Medication" for e in entries]
    medications = [e for e, m in zip(entries, is_med, strict=True) if m]
    known = _by_reference(medications)
    out: list[DrugExposure] = []
    for entry, med in zip(entries, is_med, strict=True):
        if not med:
            _warn_unmatched(entry, known, ctx)
            out += _one_draft({**bundle, "entry": [*medications, entry]}, entry, ctx)
    return out


def _by_reference(entries: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Return draftOrders Medications by "Medication/<id>" and by fullUrl."""
    found: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        raw = entry["resource"]
        if isinstance(raw.get("id"), str):
            found[f"Medication/{raw['id']}"] = raw
        if isinstance(entry.get("fullUrl"), str):
            found[entry["fullUrl"]] = raw
    return found


def _warn_unmatched(entry: Any, known: Mapping[str, Mapping[str, Any]], ctx: Context) -> None:
    raw = entry.get("resource") if isinstance(entry, Mapping) else None
    if not (isinstance(raw, Mapping) and raw.get("resourceType") == "MedicationRequest"
            and isinstance(raw.get("id"), str)):
        return
    try:
        resolved = inline(raw, known)
        if medication_match(resolved)[0] is None:
            unmatched(medication_concept(resolved)[0], resolved,
                      f"MedicationRequest/{raw['id']}", ctx.notes)
    except UNREADABLE:
        return  # reported when the entry itself is mapped


def _one_draft(bundle: Any, entry: Any, ctx: Context) -> list[DrugExposure]:
    sub = Context(now=ctx.now, options=ctx.options, notes=Notes())
    raw = entry.get("resource") if isinstance(entry, Mapping) else None
    ref = (f"{raw.get('resourceType')}/{raw.get('id')}" if isinstance(raw, Mapping)
           else "Bundle/draftOrders")
    out: list[DrugExposure] = []
    try:
        for found in map_drafts(bundle, sub):
            kept = checked(found, raw if isinstance(raw, Mapping) else {}, sub)
            out += [kept] if kept is not None else []
    except UNREADABLE:
        sub.notes.add("invalid-resource", "draft order could not be read", ref)
        out = []
    ctx.notes.absorb(sub.notes)
    return out


def conditions(resources: list[dict[str, Any]], ctx: Context) -> list[ConditionFact]:
    """Map Conditions one by one."""
    out: list[ConditionFact] = []
    for raw in resources:
        try:
            out += map_conditions([raw], ctx)
        except UNREADABLE:
            ctx.notes.add("invalid-resource", "condition could not be read",
                          f"Condition/{raw.get('id')}")
    return out
