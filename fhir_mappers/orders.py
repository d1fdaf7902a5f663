"""MedicationRequests and ServiceRequests to DrugExposures (signed orders and drafts).

Signed orders (``medorders``): active and on-hold count, timed by ``authoredOn``
(clinical-criteria.md §3.1 "Counted doses"); other statuses are set aside with a warning.
Drafts (order-sign ``draftOrders``): sandbox quirks are normalised first (quirks.py);
entered-in-error, cancelled and revoked drafts are set aside; a draft without a usable
``authoredOn`` (absent, or date-only as the sandbox sends) is timed at the evaluation time,
flagged "time-is-evaluation-time".
A draft's ``medicationReference`` is resolved in ``#contained``, then in the other
``draftOrders`` entries (``Medication/<id>`` or the entry's ``fullUrl``); draft dose units are
spelled one way (``dosage.dose_unit``). ``draft_resources`` and ``draft_lab_orders`` give the
order-sign checks the normalised drafts (for ``update`` suggestions) and the laboratory
ServiceRequests being signed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from criteria.model import DrugClass, DrugExposure, DrugSource
from fhir_mappers.codes import drug_class_of, drug_ingredient, observation_kind
from fhir_mappers.context import Context
from fhir_mappers.dosage import dose_unit, quantity, rate_of
from fhir_mappers.fhirtime import TimeProblem, parse_datetime
from fhir_mappers.medications import flag_text, medication_match
from fhir_mappers.notes import Notes
from fhir_mappers.prefetch import is_failure
from fhir_mappers.quirks import normalise_bundle, normalise_order
from fhir_mappers.r4 import Bundle, MedicationRequest, ServiceRequest

SIGNED = frozenset({"active", "on-hold"})
DRAFT_EXCLUDED = frozenset({"entered-in-error", "cancelled", "revoked"})
_MR_KEEP = frozenset({"resourceType", "id", "status", "intent", "medicationCodeableConcept",
                      "medicationReference", "subject", "dosageInstruction", "category"})
_SR_KEEP = frozenset({"resourceType", "id", "status", "intent", "code", "subject", "category"})


def _authored(raw: Mapping[str, Any], ref: str, ctx: Context) -> datetime | None:
    try:
        found = parse_datetime(raw["authoredOn"], ctx.options.assume_timezone)
    except TimeProblem as problem:
        ctx.notes.add(problem.code, problem.message, ref)
        return None
    ctx.note_zone([raw["authoredOn"]], ref)
    return found


def _exposure(model: MedicationRequest, raw: Mapping[str, Any], time: datetime,
              source: DrugSource, ref: str, ctx: Context,
              extra: tuple[str, ...] = ()) -> DrugExposure | None:
    found, display = medication_match(raw)
    if found is None:
        return None
    dose = rate = None
    unit = rate_unit = None
    instructions = model.dosageInstruction or []
    if instructions and instructions[0].doseAndRate:
        first = instructions[0].doseAndRate[0]
        dose, unit = quantity(first.doseQuantity)
        rate, rate_unit = rate_of(first.rateQuantity, first.rateRatio)
    if source is DrugSource.DRAFT:
        unit = dose_unit(unit)
    return DrugExposure(
        drug_class=DrugClass(drug_class_of(found.target)), ingredient=found.target,
        start=time, source=source, status=str(model.status), reference=ref, dose=dose,
        dose_unit=unit, rate=rate, rate_unit=rate_unit, is_continuous=rate is not None,
        product=display, flags=(*flag_text(found, ref, ctx), *extra),
    )


def map_signed_orders(resources: list[dict[str, Any]], ctx: Context) -> list[DrugExposure]:
    """Map signed MedicationRequests (active/on-hold) of drugs of interest."""
    out: list[DrugExposure] = []
    for raw in resources:
        if medication_match(raw)[0] is None:
            continue
        ref = f"MedicationRequest/{raw['id']}"
        if raw.get("status") not in SIGNED:
            ctx.notes.add("status-not-used", "order is not active or on-hold", ref)
            continue
        if "authoredOn" not in raw:
            ctx.notes.add("no-effective-time", "order has no authoredOn", ref)
            continue
        time = _authored(raw, ref, ctx)
        if time is None or not ctx.in_window(time, None, ref, "orders"):
            continue
        model = ctx.validate(MedicationRequest, _keep(raw, _MR_KEEP), ref)
        if model is not None:
            found = _exposure(model, raw, time, DrugSource.ORDER, ref, ctx)
            if found is not None:
                out.append(found)
    return out


def _keep(raw: Mapping[str, Any], keep: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k in keep}


def map_drafts(bundle: Any, ctx: Context) -> list[DrugExposure]:
    """Map order-sign draftOrders (a Bundle) to DrugExposures with DrugSource.DRAFT."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        ctx.notes.add("malformed-draft-orders", "draftOrders is not a Bundle")
        return []
    shell = normalise_bundle({k: v for k, v in bundle.items() if k != "entry"}, ctx.notes)
    if ctx.validate(Bundle, shell, "Bundle/draftOrders") is None:
        return []
    out: list[DrugExposure] = []
    medications = _bundle_medications(bundle)
    for entry in bundle.get("entry") or ():
        raw = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            ctx.notes.add("malformed-entry", "a draft order has no resource or id")
            continue
        if raw.get("resourceType") == "OperationOutcome" and is_failure(raw):
            ctx.notes.add("operation-outcome", "draftOrders carries an error outcome")
        elif raw.get("resourceType") in ("MedicationRequest", "ServiceRequest"):
            found = _draft(_with_medication(raw, medications), ctx)
            if found is not None:
                out.append(found)
    return out


def _draft(raw: Mapping[str, Any], ctx: Context) -> DrugExposure | None:
    rtype = str(raw["resourceType"])
    ref = f"{rtype}/{raw['id']}"
    is_med = rtype == "MedicationRequest"
    code = raw.get("code")
    if (medication_match(raw)[0] if is_med else drug_ingredient(code)) is None:
        return None
    if raw.get("status") in DRAFT_EXCLUDED:
        ctx.notes.add(str(raw.get("status")), "draft order status excluded", ref)
        return None
    fixed = normalise_order(raw, ref, ctx.notes)
    extra: tuple[str, ...] = ("time-is-evaluation-time",)
    time = ctx.now
    if "authoredOn" in raw:
        authored = _authored(raw, ref, ctx)  # date-only (the sandbox): warned, evaluation time
        if authored is not None:
            time, extra = authored, ()
    if is_med:
        model = ctx.validate(MedicationRequest, _keep(fixed, _MR_KEEP), ref)
        return None if model is None else _exposure(model, fixed, time, DrugSource.DRAFT, ref,
                                                    ctx, extra)
    service = ctx.validate(ServiceRequest, _keep(fixed, _SR_KEEP), ref)
    found = drug_ingredient(code)
    if service is None or found is None:
        return None
    return DrugExposure(
        drug_class=DrugClass(drug_class_of(found.target)), ingredient=found.target, start=time,
        source=DrugSource.DRAFT, status=str(service.status), reference=ref,
        product=code.get("text") if isinstance(code, Mapping) else None,
        flags=(*flag_text(found, ref, ctx), *extra),
    )


_RESOLVED_ID = "crs-cds-resolved-medication"


def _entries(bundle: Any) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Return (entry, resource) pairs of a Bundle whose resource has an id."""
    if not isinstance(bundle, Mapping) or not isinstance(bundle.get("entry"), list):
        return []
    return [(e, e["resource"]) for e in bundle["entry"]
            if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)
            and isinstance(e["resource"].get("id"), str)]


def _bundle_medications(bundle: Any) -> dict[str, Mapping[str, Any]]:
    """Return the Medication entries of draftOrders by "Medication/<id>" and by fullUrl."""
    found: dict[str, Mapping[str, Any]] = {}
    for entry, raw in _entries(bundle):
        if raw.get("resourceType") == "Medication":
            found[f"Medication/{raw['id']}"] = raw
            if isinstance(entry.get("fullUrl"), str):
                found[entry["fullUrl"]] = raw
    return found


def _with_medication(raw: Mapping[str, Any],
                     medications: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    """Return a MedicationRequest whose medicationReference names another draftOrders entry
    with that Medication copied in as ``#contained`` (the input is left unchanged)."""
    ref = raw.get("medicationReference")
    if not isinstance(ref, Mapping):
        return raw
    target = ref.get("reference")
    if not isinstance(target, str) or target not in medications:
        return raw
    medication = {**medications[target], "id": _RESOLVED_ID}
    return {**raw, "contained": [*(raw.get("contained") or ()), medication],
            "medicationReference": {**ref, "reference": f"#{_RESOLVED_ID}"}}


def draft_resources(bundle: Any) -> dict[str, dict[str, Any]]:
    """Return each draft MedicationRequest, sandbox quirks normalised, by "MedicationRequest/<id>".

    Copies, for ``update`` suggestions; warnings were already recorded by ``map_drafts``.
    """
    out: dict[str, dict[str, Any]] = {}
    for _, raw in _entries(bundle):
        if raw.get("resourceType") != "MedicationRequest" or not isinstance(raw.get("id"), str):
            continue
        ref = f"MedicationRequest/{raw['id']}"
        try:
            out[ref] = normalise_order(copy.deepcopy(dict(raw)), ref, Notes())
        except (TypeError, ValueError, KeyError, AttributeError):
            continue  # map_drafts already set this entry aside with a warning
    return out


def draft_lab_orders(bundle: Any) -> tuple[tuple[str, str], ...]:
    """Return (measurement kind, reference) of laboratory ServiceRequests in draftOrders."""
    out: list[tuple[str, str]] = []
    for _, raw in _entries(bundle):
        status = raw.get("status")
        if (raw.get("resourceType") != "ServiceRequest" or not isinstance(raw.get("id"), str)
                or not isinstance(status, str) or status in DRAFT_EXCLUDED):
            continue
        try:
            found = observation_kind(raw.get("code"))
        except (TypeError, ValueError, AttributeError):
            continue
        if found is not None:
            out.append((found.target, f"ServiceRequest/{raw['id']}"))
    return tuple(out)
