"""The patient-view request and FHIR answers of the end-to-end fault tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cds_service.prefetch import render
from cds_service.services import PATIENT_VIEW

TOKEN = "tok-e2e-Zx81Qv"
PATIENT_ID = "pat-fault-7731"
FAMILY = "Fenwickshaw"
VALUE = "39.87"  # a temperature only the stub knows
PATIENT = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1961-03-02",
           "gender": "male", "name": [{"family": FAMILY}]}
KEYS = [k.name for k in PATIENT_VIEW.prefetch]


def target(key: str) -> str:
    """Return the path and query the app asks the FHIR server for, for one key."""
    url, _ = render(PATIENT_VIEW.key(key).template, {"context.patientId": PATIENT_ID})
    assert url is not None
    return url


def page(next_url: str | None = None, day: float = 0.1) -> dict[str, Any]:
    """Return a searchset with one recent temperature, and a next link if given."""
    when = (datetime.now(UTC) - timedelta(days=day)).isoformat()
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": f"t{day}", "status": "final",
                      "category": [{"coding": [{"system": "http://terminology.hl7.org/"
                                                "CodeSystem/observation-category",
                                                "code": "vital-signs"}]}],
                      "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
                      "subject": {"reference": f"Patient/{PATIENT_ID}"},
                      "effectiveDateTime": when,
                      "valueQuantity": {"value": float(VALUE), "unit": "Cel",
                                        "system": "http://unitsofmeasure.org", "code": "Cel"}}}]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def request_body(server: str, *missing: str) -> dict[str, Any]:
    """Return a patient-view request whose ``missing`` keys must come from ``server``."""
    given: dict[str, Any] = {k: None for k in KEYS}
    given["patient"] = PATIENT
    return {"hook": "patient-view", "hookInstance": "6f0c2b7e-3a51-4d0e-9a43-0d6c1f2b8e11",
            "fhirServer": server,
            "fhirAuthorization": {"access_token": TOKEN, "token_type": "Bearer",
                                  "expires_in": 300, "scope": "patient/*.read",
                                  "subject": "crs-cds", "patient": PATIENT_ID},
            "context": {"userId": "Practitioner/dr-1", "patientId": PATIENT_ID},
            "prefetch": {k: v for k, v in given.items() if k not in missing}}
