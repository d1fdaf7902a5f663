"""Lab order suggestions for the hyperinflammation card: R4B ServiceRequest proposals.

Spec: CDS Hooks 2.0 suggestion (https://cds-hooks.hl7.org/2.0/#suggestion); FHIR R4
ServiceRequest (https://hl7.org/fhir/R4/servicerequest.html), ``status`` draft and ``intent``
proposal: the service advises, the clinician's EHR turns an accepted proposal into an order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from cards.hyperinflammation_text import text
from cards.json_rules import strip_empty
from cards.suggestions import suggestion

NOTE = "Proposed by crs-cds: this result would decide a hyperinflammation criterion."


def service_request(kind: str, *, patient_id: str, reason: str) -> dict[str, Any]:
    """Return a validated ServiceRequest proposal for one lab, without empty members."""
    spec = text()["orders"][kind]
    code: dict[str, Any] = {"text": spec["text"]}
    if "coding" in spec:
        code["coding"] = [dict(spec["coding"])]
    raw = {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
           "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007",
                                     "display": "Laboratory procedure"}]}],
           "code": code, "subject": {"reference": f"Patient/{patient_id}"},
           "reasonCode": [{"text": reason}], "note": [{"text": NOTE}]}
    model = ServiceRequest.model_validate(raw)
    dumped: dict[str, Any] = strip_empty(model.model_dump(mode="json", exclude_none=True))
    return dumped


def lab_suggestions(kinds: Iterable[str], *, patient_id: str,
                    reason: str) -> list[dict[str, Any]]:
    """Return one suggestion per orderable lab (labs without an order entry are skipped)."""
    orders = text()["orders"]
    covered = {k: name for name, spec in orders.items() for k in spec.get("covers", [])}
    out = []
    for kind in dict.fromkeys(covered.get(k, k) for k in kinds):
        if kind not in orders:
            continue
        label = f"Order {orders[kind]['text'].split(' (')[0]}"
        resource = service_request(kind, patient_id=patient_id, reason=reason)
        out.append(suggestion(label, f"Propose a laboratory order: {orders[kind]['text']}",
                              resource))
    return out
