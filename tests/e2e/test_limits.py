"""Body limits: size, JSON nesting depth, string length, resources per prefetch; each a 4xx."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import close_app, create_app
from cds_service.settings import Settings, SettingsError
from tests.conftest import load_json

SERVICE = "/cds-services/crs-patient-view"
FEEDBACK = SERVICE + "/feedback"


def minimal() -> dict[str, Any]:
    """A valid patient-view request that gives no card."""
    return copy.deepcopy(load_json("cds/patient-view-minimal.json"))


def nested(levels: int) -> Any:
    """Return a value nesting ``levels`` containers (objects and arrays in turn)."""
    value: Any = 1
    for i in range(levels):
        value = {"a": value} if i % 2 else [value]
    return value


def post(client: FlaskClient, body: Any, path: str = SERVICE) -> Any:
    """POST a body serialised here (the test client would not send orjson's depth)."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(path, data=data, content_type="application/json")


def assert_limit(resp: Any, status: int, code: str, setting: str) -> None:
    """Assert a limit answer: status, JSON body with the code, the setting named."""
    assert resp.status_code == status
    body = resp.get_json()
    assert body["error"] == code
    assert setting in body["detail"]


def test_defaults_and_environment() -> None:
    defaults = Settings()
    assert (defaults.max_json_depth, defaults.max_string_length,
            defaults.max_prefetch_resources) == (64, 100_000, 20_000)
    env = {"CDS_MAX_JSON_DEPTH": "32", "CDS_MAX_STRING_LENGTH": "5000",
           "CDS_MAX_PREFETCH_RESOURCES": "500"}
    got = Settings.from_env(env)
    assert (got.max_json_depth, got.max_string_length, got.max_prefetch_resources) == (
        32, 5000, 500)


@pytest.mark.parametrize(("name", "value"), [
    ("CDS_MAX_JSON_DEPTH", "8"), ("CDS_MAX_JSON_DEPTH", "5000"), ("CDS_MAX_JSON_DEPTH", "x"),
    ("CDS_MAX_STRING_LENGTH", "10"), ("CDS_MAX_PREFETCH_RESOURCES", "0")])
def test_bad_limit_settings_stop_start_up(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_body_size_limit_gives_413(client: FlaskClient) -> None:
    body = minimal()
    body["extension"] = {"pad": ["y" * 90_000] * 60}  # ~5.4 MB, every string under its limit
    assert_limit(post(client, body), 413, "payload-too-large", "5000000 bytes")


@pytest.mark.parametrize("path", [SERVICE, FEEDBACK])
def test_nesting_one_past_the_limit_gives_400(client: FlaskClient, path: str) -> None:
    body = minimal() if path == SERVICE else load_json("cds/sandbox-feedback.json")
    body["extension"] = {"deep": nested(62)}  # body, extension and 62 more: 64 levels
    assert post(client, body, path).status_code == 200
    body["extension"] = {"deep": nested(63)}
    assert_limit(post(client, body, path), 400, "limit-json-depth", "CDS_MAX_JSON_DEPTH")


def test_nesting_beyond_the_parser_bound_gives_the_same_400(client: FlaskClient) -> None:
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    assert_limit(post(client, deep), 400, "limit-json-depth", "CDS_MAX_JSON_DEPTH")


@pytest.mark.parametrize("where", ["value", "key", "array", "prefetch"])
def test_a_string_one_past_the_limit_gives_413(client: FlaskClient, where: str) -> None:
    body = minimal()
    at_limit, over = "s" * 100_000, "s" * 100_001
    places = {"value": lambda s: body["context"].update(encounterId=s),
              "key": lambda s: body["extension"].update({s: 1}),
              "array": lambda s: body["extension"].update(notes=["a", s]),
              "prefetch": lambda s: body["prefetch"]["patient"].update(id=s)}
    body["extension"] = {}
    places[where](at_limit)
    assert post(client, body).status_code in (200, 412)  # read in full, answered normally
    places[where](over)
    assert_limit(post(client, body), 413, "limit-string-length", "CDS_MAX_STRING_LENGTH")


@pytest.fixture
def small_app(settings: Settings) -> Iterator[Flask]:
    """The app with a prefetch resource limit of 100."""
    app = create_app({"SETTINGS": dataclasses.replace(settings, max_prefetch_resources=100)})
    yield app
    close_app(app)


def bundle(n: int) -> dict[str, Any]:
    """A searchset of ``n`` bare Observations."""
    return {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": f"o{i}", "status": "final",
                      "code": {"text": "note"}}} for i in range(n)]}


def test_resources_past_the_limit_give_413(small_app: Flask) -> None:
    client = small_app.test_client()
    body = minimal()
    body["prefetch"]["labs"] = bundle(60)
    body["prefetch"]["vitals"] = bundle(39)  # + the Patient: exactly 100
    assert post(client, body).status_code == 200
    body["prefetch"]["vitals"] = bundle(40)
    assert_limit(post(client, body), 413, "limit-prefetch-resources",
                 "CDS_MAX_PREFETCH_RESOURCES")


def test_draft_orders_count_toward_the_resource_limit(small_app: Flask) -> None:
    body = load_json("cds/sandbox-order-sign.json")
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": f"m{i}"}} for i in range(101)]}
    resp = post(small_app.test_client(), body, "/cds-services/crs-order-sign")
    assert_limit(resp, 413, "limit-prefetch-resources", "CDS_MAX_PREFETCH_RESOURCES")
