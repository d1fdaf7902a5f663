"""Small builders of raw FHIR R4 JSON for mapper tests."""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    """Return a searchset Bundle of the resources."""
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources]}


def obs(rid: str, loinc: str, value: Any, unit: str, when: str = "2024-05-02T10:00:00Z",
        **extra: Any) -> dict[str, Any]:
    """Return a final Observation with a Quantity value."""
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": loinc}]},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "code": unit,
                              "system": "http://unitsofmeasure.org"}, **extra}


def admin(rid: str, medication: dict[str, Any] | None = None, *, status: str = "completed",
          when: str = "2024-05-02T10:00:00Z", rxcui: str | None = None, text: str | None = None,
          **extra: Any) -> dict[str, Any]:
    """Return a MedicationAdministration (by RxCUI, by text, or a given medication[x])."""
    out: dict[str, Any] = {"resourceType": "MedicationAdministration", "id": rid,
                           "status": status, "subject": {"reference": "Patient/p1"},
                           "effectiveDateTime": when}
    if medication is not None:
        out.update(medication)
    elif rxcui is not None:
        out["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": rxcui}]}
    else:
        out["medicationCodeableConcept"] = {"text": text or "unnamed"}
    out.update(extra)
    return out


def ml(value: Any, unit: str = "mL") -> dict[str, Any]:
    """Return a Quantity."""
    return {"value": value, "unit": unit, "code": unit, "system": "http://unitsofmeasure.org"}
