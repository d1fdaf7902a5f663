"""Security headers on every answer (errors, 401, preflight and 500 included); no tracebacks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import close_app, create_app
from cds_service.settings import Settings
from tests.conftest import SignedJwt, grade3_request, load_json

SERVICE = "/cds-services/crs-patient-view"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
HSTS = "Strict-Transport-Security"
# (method, path, keyword arguments, expected status) with authentication off
CALLS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/cds-services", {}, 200),
    ("POST", SERVICE, {"json": load_json("cds/patient-view-minimal.json")}, 200),
    ("POST", SERVICE + "/feedback", {"json": load_json("cds/sandbox-feedback.json")}, 200),
    ("GET", "/healthz", {}, 200),
    ("GET", "/readyz", {}, 200),
    ("GET", "/openapi.json", {}, 200),
    ("OPTIONS", SERVICE, {}, 204),
    ("POST", SERVICE, {"data": "{", "content_type": "application/json"}, 400),
    ("POST", SERVICE, {"data": "x", "content_type": "text/plain"}, 415),
    ("POST", SERVICE, {"data": "x" * 6_000_000, "content_type": "application/json"}, 413),
    ("POST", SERVICE, {"json": {"hook": "patient-view", "hookInstance": "x",
                                "context": {"userId": "u", "patientId": "p"}}}, 412),
    ("POST", "/cds-services/nope", {"json": {}}, 404),
    ("GET", SERVICE, {}, 405),
    ("GET", "/no/such/path", {}, 404),
]


def assert_secure(resp: Any, *, https: bool) -> None:
    """Assert the security headers, and HSTS exactly when the public URL is https."""
    for name, value in ALWAYS.items():
        assert resp.headers.get(name) == value, name
    if https:
        assert resp.headers[HSTS] == "max-age=31536000; includeSubDomains"
    else:
        assert HSTS not in resp.headers
    assert b"Traceback" not in resp.data
    assert b'File "' not in resp.data


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), CALLS)
def test_every_answer_has_the_headers(client: FlaskClient, method: str, path: str,
                                      kwargs: dict[str, Any], status: int) -> None:
    resp = client.open(path, method=method, **kwargs)
    assert resp.status_code == status
    assert_secure(resp, https=False)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/cds-services"), ("POST", SERVICE), ("POST", SERVICE + "/feedback"),
    ("GET", "/openapi.json"), ("POST", "/cds-services/nope"), ("GET", "/nowhere")])
def test_401_answers_have_them_and_hsts_on_https(auth_client: FlaskClient, method: str,
                                                 path: str) -> None:
    resp = auth_client.open(path, method=method, json={})
    assert resp.status_code == 401
    assert resp.data == b""
    assert_secure(resp, https=True)


def test_authenticated_answers_have_hsts(auth_client: FlaskClient,
                                         signed_jwt: SignedJwt) -> None:
    resp = auth_client.post(SERVICE, json=grade3_request(), headers=signed_jwt.headers(SERVICE))
    assert resp.status_code == 200
    assert_secure(resp, https=True)
    for path in ("/healthz", "/readyz"):
        assert_secure(auth_client.get(path), https=True)
    assert_secure(auth_client.options(SERVICE), https=True)


class BrokenRules:
    """A rule set whose every attribute read fails, to force an unexpected error."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"secret-detail-{name}")


@pytest.fixture
def broken_app(settings: Settings) -> Iterator[Flask]:
    """The app with a rule set that raises, so a hook call ends in a 500."""
    app = create_app({"SETTINGS": dataclasses.replace(settings), "RULES": BrokenRules()})
    yield app
    close_app(app)


def test_a_500_has_the_headers_and_no_traceback(broken_app: Flask) -> None:
    resp = broken_app.test_client().post(SERVICE, json=grade3_request())
    assert resp.status_code == 500
    assert resp.get_json() == {"error": "internal-error",
                               "detail": "an unexpected error occurred"}
    assert b"secret-detail" not in resp.data
    assert_secure(resp, https=False)
