"""A grade 3 CRS patient through `crs-cds evaluate` and through HTTP: the vertical slice.

Case (tests/data/cds/patient-view-crs-grade3.json): axicabtagene ciloleucel on 16 Nov 10:00
(day 0); fever from 20 Nov 08:00, 39.4 °C at 21 Nov 13:50; SBP 85 then 82 mmHg (confirmed low
reading, clinical-criteria.md §1.1 item 7); norepinephrine infusion from 14:20 (one counted
pressor: tier 3, item 6); high-flow nasal cannula at 8 L/min (> 6 L/min: tier 3, item 4);
70 kg on 19 Nov. Evaluated at 21 Nov 14:30 UTC.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cards.json_rules import find_empty_values
from cds_service.pipeline import evaluate as run_pipeline
from cds_service.services import SERVICES
from cds_service.settings import Settings
from criteria.rules import load_rules
from fhir_mappers.r4 import MedicationRequest
from tests.conftest import load_json
from tests.e2e.cli import run_evaluate
from tests.integration.fhir_stub import FhirStub, StubResponse

NOW = "2026-11-21T14:30:00Z"
GRADE3 = "cds/patient-view-crs-grade3.json"


def grade3() -> dict[str, Any]:
    """The grade 3 request, fresh."""
    return copy.deepcopy(load_json(GRADE3))


def evaluate(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: dict[str, Any],
             *extra: str) -> dict[str, Any]:
    """Run `crs-cds evaluate --assessments --now NOW` on a body."""
    return run_evaluate(capsys, tmp_path, body, NOW, *extra)


def astct(payload: dict[str, Any]) -> dict[str, Any]:
    """The ASTCT assessment of an --assessments payload."""
    return next(a for a in payload["assessments"] if a["criteria"] == "astct-2019-crs")


def test_grade3_card_through_the_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, grade3())
    cards = payload["response"]["cards"]
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "critical"
    assert card["summary"].startswith(
        "CRS grade 3 (ASTCT): 39.4 °C, norepinephrine, 8 L/min high-flow O2")
    assert len(card["summary"]) <= 139
    assessment = card["extension"]["crs-cds.assessment"]
    assert assessment == {k: v for k, v in astct(payload).items() if v is not None}
    assert (assessment["met"], assessment["grade"], assessment["peakGrade"]) == (True, 3, 3)
    assert assessment["onset"] == "2026-11-20T08:00:00Z"
    items = {e["item"] for e in assessment["evidence"]}
    assert {"temperature", "norepinephrine", "oxygen-support"} <= items
    assert find_empty_values(payload["response"]) == []


def test_grade3_suggestions_dose_and_steroid(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    card = evaluate(capsys, tmp_path, grade3())["response"]["cards"][0]
    assert card["selectionBehavior"] == "any"
    labels = [s["label"] for s in card["suggestions"]]
    assert any("Tocilizumab 560 mg" in label for label in labels)  # 8 mg/kg × 70 kg
    assert any("Dexamethasone 10 mg IV q6h" in label for label in labels)  # NCCN CART-7
    for suggestion in card["suggestions"]:
        for action in suggestion["actions"]:
            assert action["type"] == "create"
            MedicationRequest.model_validate(action["resource"])
    uuids = [card["uuid"]] + [s["uuid"] for s in card["suggestions"]]
    assert len(set(uuids)) == len(uuids)
    codes = {r["code"] for r in card["overrideReasons"]}
    assert codes
    assert all(r["display"] for r in card["overrideReasons"])
    assert card["source"]["url"].startswith("https://")
    assert all(link["type"] == "absolute" for link in card["links"])


def test_tocilizumab_blocked_8_hours_rule_is_explained(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    # A dose 5 h ago: the next is allowed only >= 8 h after it (clinical-criteria.md §3.1).
    body = grade3()
    body["prefetch"]["medadmin"]["entry"].append({"resource": {
        "resourceType": "MedicationAdministration", "id": "ma-toci", "status": "completed",
        "medicationCodeableConcept": {"coding": [{
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "612865"}],
            "text": "tocilizumab"},
        "subject": {"reference": "Patient/p-crs-1"},
        "effectiveDateTime": "2026-11-21T09:30:00Z",
        "dosage": {"dose": {"value": 560, "unit": "mg", "system": "http://unitsofmeasure.org",
                            "code": "mg"}}}})
    card = evaluate(capsys, tmp_path, body)["response"]["cards"][0]
    labels = [s["label"] for s in card.get("suggestions", [])]
    assert not any("Tocilizumab" in label for label in labels)
    assert "8 h" in card["detail"]


def test_weight_missing_means_no_tocilizumab_suggestion(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    body = grade3()
    entries = body["prefetch"]["vitals"]["entry"]
    body["prefetch"]["vitals"]["entry"] = [e for e in entries if e["resource"]["id"] != "w1"]
    card = evaluate(capsys, tmp_path, body)["response"]["cards"][0]
    assert not any("Tocilizumab" in s["label"] for s in card.get("suggestions", []))
    assert "weight" in card["detail"].lower()


def test_patient_user_gets_no_order_suggestions(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    body = grade3()
    body["context"]["userId"] = "Patient/p-crs-1"  # cds-hooks.md §8 project decision
    card = evaluate(capsys, tmp_path, body)["response"]["cards"][0]
    assert "suggestions" not in card
    assert "selectionBehavior" not in card


def test_febrile_patient_without_crs_therapy_gets_no_card(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    body = grade3()
    body["prefetch"]["medadmin"]["entry"] = [
        e for e in body["prefetch"]["medadmin"]["entry"] if e["resource"]["id"] != "ma-cart"]
    payload = evaluate(capsys, tmp_path, body)
    assert payload["response"]["cards"] == []
    assessment = astct(payload)
    assert assessment["met"] is False
    assert assessment["grade"] == 0
    assert any("screen" in a.lower() for a in assessment["assumptions"])


def test_car_t_outside_the_30_day_window_gets_no_card(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    body = grade3()
    for entry in body["prefetch"]["medadmin"]["entry"]:
        if entry["resource"]["id"] == "ma-cart":
            entry["resource"]["effectiveDateTime"] = "2026-10-20T10:00:00Z"  # day +32
    payload = evaluate(capsys, tmp_path, body)
    assert payload["response"]["cards"] == []
    assert astct(payload)["met"] is False


def test_fever_below_38_without_organ_support_is_no_card(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    body = grade3()
    keep = {"t1", "w1", "bp1"}
    body["prefetch"]["vitals"]["entry"] = [
        e for e in body["prefetch"]["vitals"]["entry"] if e["resource"]["id"] in keep]
    body["prefetch"]["vitals"]["entry"][0]["resource"]["effectiveDateTime"] = (
        "2026-11-21T12:00:00Z")
    body["prefetch"]["vitals"]["entry"][0]["resource"]["valueQuantity"]["value"] = 37.9
    body["prefetch"]["respiratory"] = None
    body["prefetch"]["medadmin"]["entry"] = body["prefetch"]["medadmin"]["entry"][:1]
    payload = evaluate(capsys, tmp_path, body)
    assert payload["response"]["cards"] == []
    assert astct(payload)["grade"] == 0


def test_grade3_card_over_http(app) -> None:  # noqa: ANN001
    app.config["CLOCK"] = lambda: datetime.fromisoformat(NOW)
    resp = app.test_client().post("/cds-services/crs-patient-view", json=grade3())
    assert resp.status_code == 200
    body = resp.get_json()
    assert find_empty_values(body) == []
    (card,) = body["cards"]
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("CRS grade 3 (ASTCT)")
    assert card["extension"]["crs-cds.assessment"]["grade"] == 3


def test_sandbox_shaped_request_with_fallback_gives_the_card(settings: Settings) -> None:
    """The sandbox sends an http fhirServer, no token, and only the keys it resolved."""
    case = grade3()
    with FhirStub() as stub:
        stub.script("Patient/p-crs-1", StubResponse(body=case["prefetch"]["patient"]))
        observations = copy.deepcopy(case["prefetch"]["vitals"])
        observations["entry"] += case["prefetch"]["respiratory"]["entry"]
        stub.script("Observation", StubResponse(body=observations))
        stub.script("MedicationRequest", StubResponse(body={"resourceType": "Bundle",
                                                            "type": "searchset"}))
        stub.script("Condition", StubResponse(body={"resourceType": "Bundle",
                                                    "type": "searchset", "entry": []}))
        body = {
            "hookInstance": "5f0e3b34-6f2e-4c8e-9d0c-1b9a7a2e4b11",
            "hook": "patient-view",
            "fhirServer": stub.base_url,
            "context": {"userId": "Practitioner/COREPRACTITIONER1", "patientId": "p-crs-1"},
            "prefetch": {"medadmin": case["prefetch"]["medadmin"]},
        }
        open_settings = dataclasses.replace(settings, allow_open_fhir_server=True)
        result = run_pipeline(SERVICES["crs-patient-view"], body, settings=open_settings,
                              rules=load_rules(), now=datetime.fromisoformat(NOW))
        fetched = {r.path.split("/fhir/")[1].split("/")[0] for r in stub.requests}
        assert {"Patient", "Observation", "MedicationRequest", "Condition"} <= fetched
        assert "MedicationAdministration" not in fetched  # prefetched, so never fetched
        assert all("authorization" not in r.headers for r in stub.requests)
    cards = result.response["cards"]
    assert len(cards) == 1
    assert cards[0]["summary"].startswith("CRS grade 3 (ASTCT)")


def test_unavailable_medication_data_is_unknown_not_negative(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # clinical-criteria.md §0: missing data is unknown, never negative.
    body = grade3()
    body["prefetch"]["medadmin"] = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout"}]}
    payload = evaluate(capsys, tmp_path, body)
    assessment = astct(payload)
    assert assessment["met"] is None
    assert "medadmin" in payload["response"]["extension"]["crs-cds.unavailable"]


def test_bad_resources_are_set_aside_with_warnings_and_the_rest_evaluated(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Issue 3: one malformed resource never fails the request; it is named in the warnings.
    body = grade3()
    vitals = body["prefetch"]["vitals"]["entry"]
    vitals.append({"resource": {"resourceType": "Observation", "id": "bad-unit", "status": "final",
                                "code": {"coding": [{"system": "http://loinc.org",
                                                     "code": "8310-5"}]},
                                "effectiveDateTime": "2026-11-21T13:00:00Z",
                                "valueQuantity": {"value": 41.0, "code": "furlongs"}}})
    vitals.append({"resource": {"resourceType": "Observation", "id": "no-zone", "status": "final",
                                "code": {"coding": [{"system": "http://loinc.org",
                                                     "code": "8310-5"}]},
                                "effectiveDateTime": "2026-11-21T13:10:00",
                                "valueQuantity": {"value": 40.5, "unit": "Cel", "code": "Cel"}}})
    vitals.append({"resource": {"resourceType": "Observation", "id": "junk", "status": ["final"],
                                "code": {"coding": [{"system": "http://loinc.org",
                                                     "code": "8310-5"}]},
                                "effectiveDateTime": "2026-11-21T13:20:00Z",
                                "valueQuantity": {"value": 40.1, "unit": "Cel", "code": "Cel"}}})
    payload = evaluate(capsys, tmp_path, body)
    named = " ".join(payload["warnings"])
    for reference in ("Observation/bad-unit", "Observation/no-zone", "Observation/junk"):
        assert reference in named
    for value in ("41", "40.5", "40.1"):  # warnings carry no clinical values
        assert value not in named
    card = payload["response"]["cards"][0]
    assert card["summary"].startswith("CRS grade 3 (ASTCT): 39.4 °C")  # the rest evaluated
