"""Malformed tokens over HTTP: always 401 with no body, never 500 or 503 (cds-hooks.md §10)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import close_app, create_app
from cds_service.settings import Settings
from tests.conftest import PUBLIC_BASE, SignedJwt
from tests.e2e.test_auth import DISCOVERY, assert_401
from tests.unit.auth.test_verify_malformed import unsigned


def claims_json(s: SignedJwt, **changes: Any) -> str:
    """Sandbox-shaped claims as JSON text (NaN and huge integers written as-is)."""
    return json.dumps(s.claims(**changes))


MALFORMED: dict[str, Callable[[SignedJwt], str]] = {
    "alg is an array": lambda s: unsigned({"alg": ["ES384"], "kid": "es1"}, claims_json(s)),
    "alg is an object": lambda s: unsigned({"alg": {}, "kid": "es1"}, claims_json(s)),
    "alg array, empty claims": lambda s: unsigned({"alg": ["ES384"]}, "{}"),
    "exp 10**400": lambda s: unsigned({"alg": "ES384", "kid": "es1"},
                                      claims_json(s, exp=10**400)),
    "iat 10**400": lambda s: unsigned({"alg": "ES384", "kid": "es1"},
                                      claims_json(s, iat=10**400)),
    "nbf 10**400": lambda s: unsigned({"alg": "ES384", "kid": "es1"},
                                      claims_json(s, nbf=10**400)),
    "signed, exp NaN": lambda s: s.token(exp=float("nan")),
    "signed, iat NaN, exp in 10 years": lambda s: s.token(
        iat=float("nan"), exp=int(time.time()) + 10 * 365 * 86400),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_token_is_401_with_no_body(auth_client: FlaskClient, signed_jwt: SignedJwt,
                                             case: str) -> None:
    token = MALFORMED[case](signed_jwt)
    assert_401(auth_client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}))


@pytest.fixture
def auth_store_app(store_settings: Settings, clients_file: Path) -> Iterator[Flask]:
    """Authentication on, over SQLite and PostgreSQL (the replay store's two homes)."""
    app = create_app({"SETTINGS": dataclasses.replace(
        store_settings, auth_required=True, public_base_url=PUBLIC_BASE,
        trusted_clients_file=str(clients_file)), "TESTING": True})
    yield app
    close_app(app)


@pytest.mark.parametrize("jti", ["a\x00b", "a\nb", "\x1b[31m"])
def test_jti_with_control_characters_is_401_on_each_backend(
        auth_store_app: Flask, signed_jwt: SignedJwt, jti: str) -> None:
    client = auth_store_app.test_client()
    assert_401(client.get(DISCOVERY, headers=signed_jwt.headers(jti=jti)))
    ok = signed_jwt.headers(jti="plain-é-jti")
    assert client.get(DISCOVERY, headers=ok).status_code == 200
    assert_401(client.get(DISCOVERY, headers=ok))  # the store still works: a replay is refused

