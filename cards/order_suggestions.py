"""Order-sign suggestions: baseline lab ServiceRequests, the corrected tocilizumab dose, removal.

Spec: CDS Hooks 2.0 suggestion and action (https://cds-hooks.hl7.org/2.0/#suggestion);
project rules reference/cds-hooks.md §5 (``create`` and ``update`` carry the whole resource
as an object; ``delete`` uses ``resourceId``). Resources are validated with the R4B models.
New ServiceRequests are ``status: draft``, ``intent: proposal`` as in ``cards.suggestions``.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cards import order_content
from cards.json_rules import strip_empty

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def _suggestion(label: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"label": label, "uuid": str(uuid.uuid4()), "actions": actions}


def lab_request(kind: str, *, patient_id: str, reason: str) -> dict[str, Any]:
    """Return a validated ServiceRequest proposal for one baseline lab (CRP, ferritin)."""
    lab = order_content.data()["labs"][kind]
    raw = {
        "resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
        "category": [{"coding": [dict(order_content.data()["labCategory"])]}],
        "code": {"coding": [{"system": LOINC, "code": lab["code"], "display": lab["display"]}],
                 "text": lab["text"]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "reasonCode": [{"text": reason}],
    }
    model = ServiceRequest.model_validate(raw)
    dumped: dict[str, Any] = strip_empty(model.model_dump(mode="json", exclude_none=True))
    return dumped


def lab_suggestions(kinds: list[str], *, patient_id: str, what: str) -> list[dict[str, Any]]:
    """Return one suggestion per missing baseline lab, each creating a ServiceRequest."""
    out = []
    labs = order_content.data()["labs"]
    for kind in kinds:
        if kind not in labs:
            continue
        name = labs[kind]["text"]
        resource = lab_request(kind, patient_id=patient_id,
                               reason=f"Baseline before {what} (crs-cds pre-infusion check)")
        out.append(_suggestion(f"Order {name} now (baseline)", [{
            "type": "create", "description": f"Propose a {name} lab order", "resource": resource}]))
    return out


def _text(old: str, ordered_mg: Decimal | None, dose_mg: Decimal, rule: str) -> str:
    """Return the dosage text with the ordered figure replaced, else the new dose before it."""
    new = f"{dose_mg.normalize():f} mg"
    if ordered_mg is not None:
        figure = f"{ordered_mg.normalize():f} mg"
        if figure in old:
            return old.replace(figure, new)
    return f"{new} ({rule}). Was: {old}"


def with_dose(draft: Mapping[str, Any], dose_mg: Decimal, rule: str,
              ordered_mg: Decimal | None = None) -> dict[str, Any]:
    """Return the whole draft MedicationRequest with its first dose set to dose_mg (validated).

    Everything else is kept as sent; a dosage ``text`` that names the ordered dose is updated
    so that it does not contradict the corrected dose.
    """
    raw = copy.deepcopy(dict(draft))
    instructions = raw.get("dosageInstruction")
    if not isinstance(instructions, list) or not instructions:
        instructions = [{}]
    first = dict(instructions[0]) if isinstance(instructions[0], Mapping) else {}
    rates = [dict(r) for r in first.get("doseAndRate") or [{}] if isinstance(r, Mapping)] or [{}]
    for key in ("doseRange", "doseQuantity"):
        rates[0].pop(key, None)
    rates[0]["doseQuantity"] = {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}
    first["doseAndRate"] = rates
    if isinstance(first.get("text"), str):
        first["text"] = _text(first["text"], ordered_mg, dose_mg, rule)
    raw["dosageInstruction"] = [first, *instructions[1:]]
    model = MedicationRequest.model_validate(raw)
    dumped: dict[str, Any] = strip_empty(model.model_dump(mode="json", exclude_none=True))
    return dumped


def dose_update(draft: Mapping[str, Any], reference: str, dose_mg: Decimal, label: str,
                rule: str, ordered_mg: Decimal | None) -> dict[str, Any]:
    """Return a suggestion updating the draft order to the corrected dose."""
    resource = with_dose(draft, dose_mg, rule, ordered_mg)
    return _suggestion(label, [{"type": "update", "description": f"Set the dose of {reference} "
                                f"to {dose_mg.normalize():f} mg", "resource": resource}])


def removal(reference: str, why: str) -> dict[str, Any]:
    """Return a suggestion deleting the draft order (resourceId, no resource)."""
    return _suggestion(f"Remove this tocilizumab order ({why})", [{
        "type": "delete", "description": f"Remove the draft order {reference}",
        "resourceId": reference}])
