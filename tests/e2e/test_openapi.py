"""The OpenAPI document matches the app: every route and method, every sampled answer."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import SignedJwt, grade3_request, load_json

DOC: dict[str, Any] = json.loads(
    resources.files("cds_service").joinpath("openapi.json").read_text())
METHODS = {"get", "post", "put", "patch", "delete", "options", "head"}
SERVICE = "/cds-services/crs-patient-view"
REQUESTS = ["cds/patient-view-minimal.json", "cds/patient-view-hyper-hscore.json",
            "cds/patient-view-hyper-mas.json", "cds/patient-view-hyper-carhlh.json"]


def documented() -> set[tuple[str, str]]:
    """Return every (path, METHOD) the document describes."""
    return {(path, m.upper()) for path, item in DOC["paths"].items() for m in item
            if m in METHODS}


def implemented(app: Flask) -> set[tuple[str, str]]:
    """Return every (path, METHOD) the app routes, in OpenAPI path syntax (HEAD is implied)."""
    out = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        out |= {(path, m) for m in rule.methods or () if m != "HEAD"}
    return out


def schema_validator(ref: str) -> Draft202012Validator:
    """Return a validator for a schema inside the document (``#/components/...``)."""
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(DOC, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": "urn:openapi" + ref}, registry=registry)


def response_schema(path: str, method: str, status: int) -> dict[str, Any] | None:
    """Return the documented JSON schema of an answer; fail if the status is undocumented."""
    responses = DOC["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} {status} is not documented"
    answer = responses[str(status)]
    if "$ref" in answer:
        answer = DOC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    content = answer.get("content")
    return content["application/json"]["schema"] if content else None


def check(resp: Any, path: str, method: str) -> None:
    """Assert an answer conforms to the document: status, content type, body schema."""
    schema = response_schema(path, method, resp.status_code)
    if schema is None:
        assert resp.data == b""
        return
    assert resp.mimetype == "application/json"
    ref = schema.get("$ref")
    validator = schema_validator(ref) if ref else Draft202012Validator(schema)
    errors = [e.message for e in validator.iter_errors(resp.get_json())]
    assert errors == [], (method, path, resp.status_code, errors)


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    assert implemented(app) == documented()


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"] == "3.1.0"
    for name in DOC["components"]["schemas"]:
        schema_validator(f"#/components/schemas/{name}")  # every $ref resolves when used
    Draft202012Validator.check_schema({"$defs": DOC["components"]["schemas"]})


def test_openapi_json_is_served_and_needs_a_token(auth_client: FlaskClient,
                                                   signed_jwt: SignedJwt) -> None:
    assert auth_client.get("/openapi.json").status_code == 401
    resp = auth_client.get("/openapi.json", headers=signed_jwt.headers("/openapi.json"))
    assert resp.status_code == 200
    assert resp.get_json() == DOC
    check(resp, "/openapi.json", "GET")


@pytest.mark.parametrize("relative", REQUESTS)
def test_card_answers_conform(client: FlaskClient, relative: str) -> None:
    check(client.post(SERVICE, json=load_json(relative)), "/cds-services/{service_id}", "POST")


def test_grade3_cards_and_feedback_conform(client: FlaskClient) -> None:
    resp = client.post(SERVICE, json=grade3_request())
    assert resp.status_code == 200
    assert resp.get_json()["cards"]
    check(resp, "/cds-services/{service_id}", "POST")
    fb = client.post(SERVICE + "/feedback", json=load_json("cds/sandbox-feedback.json"))
    assert fb.status_code == 200
    check(fb, "/cds-services/{service_id}/feedback", "POST")


def test_probes_discovery_and_preflight_conform(client: FlaskClient) -> None:
    check(client.get("/cds-services"), "/cds-services", "GET")
    check(client.get("/healthz"), "/healthz", "GET")
    check(client.get("/readyz"), "/readyz", "GET")
    for path, method in documented():
        if method == "OPTIONS":
            concrete = path.replace("{service_id}", "crs-patient-view")
            check(client.options(concrete), path, method)


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"data": "{", "content_type": "application/json"}, 400),
    ({"data": "x", "content_type": "text/plain"}, 415),
    ({"json": {"hook": "patient-view", "hookInstance": "x",
               "context": {"userId": "u", "patientId": "p"}}}, 412),
    ({"json": {"hook": "order-sign"}}, 400),
    ({"data": "[" * 100 + "]" * 100, "content_type": "application/json"}, 400),
    ({"data": '"' + "x" * 200_000 + '"', "content_type": "application/json"}, 413),
])
def test_error_answers_conform(client: FlaskClient, kwargs: dict[str, Any], status: int) -> None:
    resp = client.post(SERVICE, **kwargs)
    assert resp.status_code == status
    check(resp, "/cds-services/{service_id}", "POST")
    fb = client.post(SERVICE + "/feedback", data="{}", content_type="application/json")
    assert fb.status_code == 400
    check(fb, "/cds-services/{service_id}/feedback", "POST")


def test_unknown_service_and_401_conform(client: FlaskClient, auth_client: FlaskClient) -> None:
    check(client.post("/cds-services/nope", json={}), "/cds-services/{service_id}", "POST")
    check(client.post("/cds-services/nope/feedback", json={}),
          "/cds-services/{service_id}/feedback", "POST")
    for path, method in documented():
        security = DOC["paths"][path][method.lower()].get("security", DOC["security"])
        if security:
            concrete = path.replace("{service_id}", "crs-patient-view")
            resp = auth_client.open(concrete, method=method, json={})
            assert resp.status_code == 401, (method, path)
            check(resp, path, method)
