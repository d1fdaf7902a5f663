"""HTTP protocol rules of CDS Hooks 2.0 (cds-hooks.md §2, §3, §5, §10) on the real app."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from cards.json_rules import find_empty_values
from tests.conftest import load_json

SERVICE = "/cds-services/crs-patient-view"


def post(client: FlaskClient, body: Any, path: str = SERVICE, **kw: Any):  # noqa: ANN201
    """POST a JSON body."""
    return client.post(path, json=body, **kw)


def minimal() -> dict[str, Any]:
    """A valid patient-view request with every optional key null (no data)."""
    return copy.deepcopy(load_json("cds/patient-view-minimal.json"))


def test_discovery_lists_both_services_with_prefetch(client: FlaskClient) -> None:
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    services = {s["id"]: s for s in resp.get_json()["services"]}
    assert set(services) == {"crs-patient-view", "crs-order-sign"}
    assert services["crs-patient-view"]["hook"] == "patient-view"
    assert services["crs-order-sign"]["hook"] == "order-sign"
    for s in services.values():
        assert s["title"]
        assert s["description"]
        assert s["usageRequirements"]
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert "_sort=-effective-time" in s["prefetch"]["medadmin"]
        assert "_count=" in s["prefetch"]["medadmin"]
    assert find_empty_values(resp.get_json()) == []


def test_valid_request_without_data_answers_empty_cards(client: FlaskClient) -> None:
    resp = post(client, minimal())
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["cards"] == []
    assert find_empty_values(body) == []


def test_unknown_service_is_404_with_json(client: FlaskClient) -> None:
    resp = post(client, minimal(), path="/cds-services/nope")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "unknown-service"


def test_get_on_service_is_405_with_allow(client: FlaskClient) -> None:
    resp = client.get(SERVICE)
    assert resp.status_code == 405
    assert "POST" in resp.headers["Allow"]
    assert resp.get_json()["error"] == "method-not-allowed"


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    resp = client.post(SERVICE, data="{}", content_type="text/plain")
    assert resp.status_code == 415
    assert resp.get_json()["error"] == "unsupported-media-type"


def test_json_with_charset_is_accepted(client: FlaskClient) -> None:
    import json

    resp = client.post(SERVICE, data=json.dumps(minimal()),
                       content_type="application/json; charset=utf-8")
    assert resp.status_code == 200


def test_body_over_limit_is_413(client: FlaskClient) -> None:
    body = minimal()
    body["extension"] = {"padding": "x" * 5_100_000}
    resp = post(client, body)
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "payload-too-large"


def test_malformed_json_is_400(client: FlaskClient) -> None:
    resp = client.post(SERVICE, data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "malformed-json"


@pytest.mark.parametrize("body", [[], "text", 3, None])
def test_body_not_an_object_is_400(client: FlaskClient, body: Any) -> None:
    import json

    resp = client.post(SERVICE, data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 400
    assert "JSON object" in resp.get_json()["detail"]


@pytest.mark.parametrize(("path", "named"), [
    (("hook",), "hook"),
    (("hookInstance",), "hookInstance"),
    (("context",), "context"),
    (("context", "patientId"), "context.patientId"),
    (("context", "userId"), "context.userId"),
])
def test_missing_required_field_is_400_naming_it(client: FlaskClient, path: tuple[str, ...],
                                                 named: str) -> None:
    body = minimal()
    target = body
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    resp = post(client, body)
    assert resp.status_code == 400
    assert named in resp.get_json()["detail"]


def test_ill_typed_context_field_is_400(client: FlaskClient) -> None:
    body = minimal()
    body["context"]["patientId"] = 42
    resp = post(client, body)
    assert resp.status_code == 400
    assert "context.patientId" in resp.get_json()["detail"]


def test_hook_not_registered_for_service_is_400(client: FlaskClient) -> None:
    body = minimal()
    body["hook"] = "order-select"
    resp = post(client, body)
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "hook-mismatch"


def test_fhir_authorization_without_fhir_server_is_400(client: FlaskClient) -> None:
    body = minimal()
    del body["fhirServer"]
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    resp = post(client, body)
    assert resp.status_code == 400
    assert "cds-r-1" in resp.get_json()["detail"]


def test_order_sign_draft_orders_must_be_a_bundle(client: FlaskClient) -> None:
    body = minimal()
    body["hook"] = "order-sign"
    body["context"]["draftOrders"] = {"resourceType": "MedicationRequest"}
    resp = post(client, body, path="/cds-services/crs-order-sign")
    assert resp.status_code == 400
    assert "context.draftOrders.resourceType" in resp.get_json()["detail"]


def test_order_sign_without_draft_orders_is_400(client: FlaskClient) -> None:
    body = minimal()
    body["hook"] = "order-sign"
    resp = post(client, body, path="/cds-services/crs-order-sign")
    assert resp.status_code == 400
    assert "context.draftOrders" in resp.get_json()["detail"]


def test_non_uuid_hook_instance_and_unknown_extension_are_accepted(client: FlaskClient) -> None:
    body = minimal()
    body["hookInstance"] = "not-a-uuid"
    body["extension"] = {"com.example.unknown": {"a": 1}}
    body["context"]["extension"] = {"com.example.other": True}
    resp = post(client, body)
    assert resp.status_code == 200
    warnings = resp.get_json()["extension"]["crs-cds.warnings"]
    assert any("hookInstance is not a UUID" in w for w in warnings)


def test_missing_required_key_without_token_is_412_naming_it(client: FlaskClient) -> None:
    body = minimal()
    del body["prefetch"]["patient"]
    resp = post(client, body)
    assert resp.status_code == 412
    payload = resp.get_json()
    assert payload["error"] == "prefetch-unavailable"
    assert "'patient'" in payload["detail"]


@pytest.mark.parametrize("path", ["/cds-services", SERVICE, SERVICE + "/feedback"])
def test_cors_preflight_is_204_with_headers(client: FlaskClient, path: str) -> None:
    resp = client.options(path, headers={
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    })
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    allowed = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_cors_headers_on_errors_too(client: FlaskClient) -> None:
    resp = client.post(SERVICE, data="x", content_type="application/json",
                       headers={"Origin": "https://ehr.example.org"})
    assert resp.status_code == 400
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_allow_list_echoes_listed_origin_only(settings) -> None:  # noqa: ANN001
    import dataclasses

    from cds_service import create_app

    app = create_app({"SETTINGS": dataclasses.replace(settings,
                                                      cors_origins=("https://ehr.example.org",))})
    c = app.test_client()
    ok = c.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    assert "Origin" in ok.headers["Vary"]
    other = c.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"storage": "ok", "rules": "ok"}


def test_readyz_fails_when_storage_unreachable(settings) -> None:  # noqa: ANN001
    import dataclasses

    from cds_service import create_app

    bad = dataclasses.replace(settings, database_url="sqlite:////nonexistent-dir/x/db.sqlite3")
    resp = create_app({"SETTINGS": bad}).test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["storage"] == "failing"


def test_sandbox_feedback_is_stored_and_acknowledged(client: FlaskClient) -> None:
    # The card was never issued here: stored and flagged orphaned, never 404 (cds-hooks.md §6).
    body = load_json("cds/sandbox-feedback.json")
    resp = post(client, body, path=SERVICE + "/feedback")
    assert resp.status_code == 200
    assert resp.get_json() == {"stored": 1}
    assert find_empty_values(resp.get_json()) == []


def test_unknown_path_is_404_json(client: FlaskClient) -> None:
    resp = client.get("/nope")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "not-found"
