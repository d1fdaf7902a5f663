"""Full order-sign requests through `crs-cds evaluate` and HTTP (issue 7).

Case (tests/data/cds/order-sign-cart-t.json): Kymriah ordered under a local formulary code
(matched by name) with an Actemra 900 mg draft and a zinc order; fever 38.6 °C at 06:00, 70 kg,
CRP/LDH/creatinine/platelets on 20 Nov, no ferritin. Evaluated at 21 Nov 14:30 UTC.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from cards.json_rules import find_empty_values
from cds_service import order_sign
from fhir_mappers.r4 import MedicationRequest
from tests.conftest import SANDBOX_EXAMPLES, load_json, shifted_to_now
from tests.e2e.cli import run_evaluate

NOW = "2026-11-21T14:30:00Z"
SERVICE = "/cds-services/crs-order-sign"
PREFETCH_KEYS = ("vitals", "respiratory", "labs", "medadmin", "medorders", "conditions", "findings")


def cart_request() -> dict[str, Any]:
    return copy.deepcopy(load_json("cds/order-sign-cart-t.json"))


def evaluate(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: dict[str, Any],
             *extra: str) -> dict[str, Any]:
    """Run `crs-cds evaluate --assessments --now NOW` on a body."""
    return run_evaluate(capsys, tmp_path, body, NOW, *extra)


def sandbox_request() -> dict[str, Any]:
    """The captured sandbox order-sign request, with the prefetch keys a 200 needs."""
    path = SANDBOX_EXAMPLES / "sandbox-order-sign-request.json"
    body = json.loads(path.read_text())
    body.setdefault("prefetch", {})["patient"] = {"resourceType": "Patient", "id": "p1",
                                                  "birthDate": "1970-01-01"}
    for key in PREFETCH_KEYS:
        body["prefetch"].setdefault(key, None)
    return dict(body)


def test_cart_and_tocilizumab_cards_through_the_cli(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, cart_request())
    cards = payload["response"]["cards"]
    assert [c["indicator"] for c in cards] == ["critical", "critical"]
    cart, toci = cards
    assert cart["summary"].startswith("Delay tisagenlecleucel infusion: fever 38.6 °C in 48 h")
    assert toci["summary"].startswith("Tocilizumab order: 900 mg exceeds 800 mg cap")
    assert find_empty_values(payload["response"]) == []
    listed = payload["assessments"]
    assert {a["criteria"] for a in listed} == {"cart-preinfusion", "tocilizumab-order"}
    for card in cards:
        carried = card["extension"]["crs-cds.assessments"]
        order = carried[0]["order"]
        assert carried == [{k: v for k, v in a.items() if v is not None}
                           for a in listed if a["order"] == order]
    assert all(a["order"] != "MedicationRequest/mr-zinc" for a in listed)
    update = toci["suggestions"][0]["actions"][0]
    assert update["type"] == "update"
    MedicationRequest.model_validate(update["resource"])
    assert update["resource"]["id"] == "mr-toci"
    assert any("matched-by-text" in w for w in payload["warnings"])


def test_cart_card_lists_easix_with_its_inputs(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, cart_request())
    easix = next(a for a in payload["assessments"] if a.get("check") == "easix")
    assert easix["easix"] == 2.7
    assert easix["mEasix"] == 3.6
    assert {e["reference"] for e in easix["evidence"]} == {
        "Observation/ldh1", "Observation/cr1", "Observation/plt1", "Observation/crp1"}


def test_shared_sandbox_request_gives_no_card_and_no_assessment(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, sandbox_request())
    assert payload["response"]["cards"] == []
    assert payload["assessments"] == []


def test_sandbox_shaped_tocilizumab_order_by_local_name(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    # Same shape as the capture (no Bundle.type, category object, {pill} dose), with a
    # biosimilar under a local code, a CAR-T infusion 3 days ago and a weight on file.
    body = sandbox_request()
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"] = {"text": "Tofidence 400 MG in 20 ML",
                                          "coding": [{"system": "urn:local", "code": "T-400"}]}
    body["prefetch"]["medadmin"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "MedicationAdministration", "id": "ma-cart",
                      "status": "completed", "subject": {"reference": "Patient/p1"},
                      "medicationCodeableConcept": {"coding": [{
                          "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                          "code": "1987402"}]},
                      "effectiveDateTime": "2026-11-18T10:00:00Z"}}]}
    body["prefetch"]["vitals"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": "w1", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                      "subject": {"reference": "Patient/p1"},
                      "effectiveDateTime": "2026-11-20T09:00:00Z",
                      "valueQuantity": {"value": 70, "unit": "kg",
                                        "system": "http://unitsofmeasure.org", "code": "kg"}}}]}
    payload = evaluate(capsys, tmp_path, body)
    (card,) = payload["response"]["cards"]
    assert card["indicator"] == "warning"
    assert card["summary"] == "Tocilizumab order: no dose in mg"
    (suggestion,) = card["suggestions"]
    resource = suggestion["actions"][0]["resource"]
    assert resource["id"] == "request-123"
    assert isinstance(resource["category"], list)  # sandbox quirk normalised
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 560
    assert resource["dispenseRequest"]["expectedSupplyDuration"]["value"] == 30
    warnings = " ".join(payload["warnings"])
    assert "fixup-category" in warnings
    assert "fixup-bundle-type" in warnings


def test_no_order_of_interest_returns_before_any_check(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the CRS assessment must not run without orders of interest")

    monkeypatch.setattr("criteria.order_checks.assess_crs", boom)
    monkeypatch.setattr(order_sign, "assess_orders", boom)
    body = cart_request()
    entries = body["context"]["draftOrders"]["entry"]
    body["context"]["draftOrders"]["entry"] = [e for e in entries
                                               if e["resource"]["id"] == "mr-zinc"]
    payload = evaluate(capsys, tmp_path, body)
    assert payload["response"]["cards"] == []
    assert payload["assessments"] == []


def test_unreadable_draft_is_set_aside_and_the_rest_checked(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    body = cart_request()
    body["context"]["draftOrders"]["entry"][1]["resource"]["dosageInstruction"] = "twice"
    payload = evaluate(capsys, tmp_path, body)
    assert [c["summary"].split(":")[0] for c in payload["response"]["cards"]] == [
        "Delay tisagenlecleucel infusion"]
    assert any("invalid-resource" in w and "mr-toci" in w for w in payload["warnings"])


def test_order_sign_over_http(client: FlaskClient) -> None:
    body = shifted_to_now(cart_request(), datetime(2026, 11, 21, 14, 30, tzinfo=UTC))
    resp = client.post(SERVICE, json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    result = resp.get_json()
    assert find_empty_values(result) == []
    assert [c["indicator"] for c in result["cards"]] == ["critical", "critical"]
    assert all(c["extension"]["crs-cds.assessments"] for c in result["cards"])


def test_sandbox_shaped_request_over_http_and_empty_draft_orders(client: FlaskClient) -> None:
    resp = client.post(SERVICE, json=sandbox_request())
    assert resp.status_code == 200
    assert resp.get_json()["cards"] == []
    body = sandbox_request()
    body["context"]["draftOrders"]["entry"] = []
    resp = client.post(SERVICE, json=body)
    assert resp.status_code == 200
    assert resp.get_json()["cards"] == []


def test_a_draft_that_does_not_validate_loses_only_its_update_suggestion(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # cds-hooks.md §1: parse input leniently. The dose fix re-emits the whole draft, which must
    # validate; when the EHR's own draft does not (here `note` is a string), the update is
    # withheld with a note, and every card is still answered.
    body = cart_request()
    for entry in body["context"]["draftOrders"]["entry"]:
        if entry["resource"]["id"] == "mr-toci":
            entry["resource"]["note"] = "give slowly"
    cards = evaluate(capsys, tmp_path, body)["response"]["cards"]
    toci = next(c for c in cards if c["summary"].startswith("Tocilizumab order"))
    assert "could not be proposed" in toci["detail"]
    actions = [a["type"] for s in toci.get("suggestions", []) for a in s["actions"]]
    assert "update" not in actions
    assert any(c["summary"].startswith("Delay") for c in cards)
