"""Build card suggestions: FHIR R4 MedicationRequest proposals, validated with the R4B model.

Spec: CDS Hooks 2.0 suggestion and action (https://cds-hooks.hl7.org/2.0/#suggestion);
FHIR R4 MedicationRequest (https://hl7.org/fhir/R4/medicationrequest.html).
``status`` is "draft" and ``intent`` "proposal": the service advises, it does not order
("proposal: a suggestion made by someone/something that does not have an intention to ensure
it occurs and without providing an authorization to act"). The clinician's EHR turns an
accepted proposal into an order through its own workflow.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cards import content
from cards.json_rules import strip_empty
from cards.treatment import (
    VERIFY,
    Every,
    every,
    steroid_label,
    steroid_offered,
    suggested_dose,
    toci_label,
    toci_note,
)
from criteria.steroids import SteroidAdvice
from criteria.tocilizumab import TocilizumabCheck

UCUM = "http://unitsofmeasure.org"


def _mg(value: Decimal) -> dict[str, Any]:
    return {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}


def _concept(entry: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": entry["text"]}
    if "coding" in entry:
        out["coding"] = [dict(entry["coding"])]
    return out


def _timing(interval: Every | None, minutes: int | None) -> dict[str, Any]:
    repeat: dict[str, Any] = {}
    if interval is not None:
        repeat.update(frequency=1, period=interval.hours, periodUnit="h")
        if interval.max_hours is not None:
            repeat["periodMax"] = interval.max_hours
    if minutes is not None:
        repeat.update(duration=minutes, durationUnit="min")
    return {"repeat": repeat} if repeat else {}


def medication_request(*, patient_id: str, drug: str, dose_mg: Decimal, text: str,
                       interval: Every | None, minutes: int | None, note: str,
                       reason: str) -> dict[str, Any]:
    """Return a validated MedicationRequest proposal as a JSON object without empty members."""
    dosage: dict[str, Any] = {
        "text": text,
        "timing": _timing(interval, minutes),
        "route": _concept(content.route("IV")),
        "doseAndRate": [{"doseQuantity": _mg(dose_mg)}],
    }
    raw = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": _concept(content.medication(drug)),
        "reasonCode": [{"text": reason}],
        "dosageInstruction": [strip_empty(dosage)],
        "note": [{"text": note}],
    }
    # Validated once per distinct proposal (its exact JSON bytes, without the patient, so the
    # cache holds no patient ids); each card gets a fresh copy with its own subject.
    made = _validated(orjson.dumps(raw, default=str, option=orjson.OPT_SORT_KEYS))
    dumped: dict[str, Any] = orjson.loads(made)
    dumped["subject"] = {"reference": f"Patient/{patient_id}"}
    return dumped


@lru_cache(maxsize=512)
def _validated(raw: bytes) -> bytes:
    """Return a proposal validated with the R4B model, as JSON bytes without empty members."""
    resource = {**orjson.loads(raw), "subject": {"reference": "Patient/x"}}
    model = MedicationRequest.model_validate(resource)
    return orjson.dumps(strip_empty(model.model_dump(mode="json", exclude_none=True)))


def suggestion(label: str, description: str, resource: dict[str, Any]) -> dict[str, Any]:
    """Return a CDS Hooks suggestion with one lower-case "create" action and a fresh uuid."""
    return {"label": label, "uuid": str(uuid.uuid4()),
            "actions": [{"type": "create", "description": description, "resource": resource}]}


def crs_suggestions(toci: TocilizumabCheck | None, steroid: SteroidAdvice | None, *,
                    patient_id: str, grade: int, lower_bound: bool,
                    record_warnings: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Return the tocilizumab and corticosteroid suggestions the checks allow.

    No tocilizumab at grade 1 ("consider", CC §3.2) or when a tocilizumab record could not be
    read (``record_warnings`` holds "tocilizumab-unreadable": the limits cannot be checked).
    """
    shown = f"≥{grade}" if lower_bound else str(grade)
    reason = f"Cytokine release syndrome, ASTCT grade {shown} (crs-cds assessment)"
    out: list[dict[str, Any]] = []
    dose = suggested_dose(toci, grade, record_warnings)
    if toci is not None and dose is not None:
        label = toci_label(toci, dose)
        resource = medication_request(
            patient_id=patient_id, drug="tocilizumab", dose_mg=dose, text=label,
            interval=None, minutes=content.medication("tocilizumab")["infusionMinutes"],
            note=toci_note(toci, dose), reason=reason)
        out.append(suggestion(label, f"Propose a tocilizumab order: {label}", resource))
    firm = steroid_offered(steroid)
    if firm is not None:
        label = steroid_label(firm)
        note = VERIFY + (f" Course: {firm.course}." if firm.course else "")
        resource = medication_request(
            patient_id=patient_id, drug=firm.drug, dose_mg=firm.dose_mg, text=label,
            interval=every(firm.frequency), minutes=None, note=note, reason=reason)
        out.append(suggestion(label, f"Propose a corticosteroid order: {label}", resource))
    return out
