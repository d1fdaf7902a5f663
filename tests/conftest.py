"""Shared fixtures: settings, app and client in the style of flaskr, and a clean environment."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service import close_app, create_app
from cds_service.settings import Settings

DATA = Path(__file__).parent / "data"
# Request bodies captured from the public CDS Hooks sandbox (https://sandbox.cds-hooks.org).
SANDBOX_EXAMPLES = DATA / "cds" / "sandbox"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop every CDS_* variable (and DATABASE_URL) so tests never see the developer's."""
    for name in list(os.environ):
        if name.startswith("CDS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo the JSON log handler that create_app puts on the root logger, after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def load_json(relative: str) -> Any:
    """Read a JSON file under tests/data."""
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for tests: a throw-away SQLite file, local FHIR stubs allowed over http.

    Authentication is off, which is allowed because the service binds 127.0.0.1; the
    ``auth_*`` fixtures turn it on.
    """
    return Settings.from_mapping({
        "database_url": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "allowed_http_fhir_hosts": ("127.0.0.1",),
        "fhir_total_budget": 2.0,
        "auth_required": False,
        "instance_dir": str(tmp_path / "instance"),
    })


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app under test."""
    app = create_app({"SETTINGS": settings, "TESTING": True})
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


# --- trust and persistence: auth-on app, signed tokens, real PostgreSQL and Redis ----------

PUBLIC_BASE = "https://cds.test"
TEST_ISSUER = "https://ehr.test"


@dataclass(frozen=True)
class SigningKeys:
    """Keys generated at test time: ES384 and RS384 trusted, one ES384 key nobody trusts."""

    es384: Any
    rs384: Any
    stranger: Any

    def jwks(self) -> dict[str, Any]:
        """Return the public JWKS of the trusted keys (kid es1 and rs1)."""
        es = ECAlgorithm.to_jwk(self.es384.public_key(), as_dict=True)
        rs = RSAAlgorithm.to_jwk(self.rs384.public_key(), as_dict=True)
        return {"keys": [{**es, "kid": "es1", "use": "sig"}, {**rs, "kid": "rs1", "use": "sig"}]}


@pytest.fixture(scope="session")
def signing_keys() -> SigningKeys:
    """Generate the test keys once per session."""
    return SigningKeys(es384=ec.generate_private_key(ec.SECP384R1()),
                       rs384=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                       stranger=ec.generate_private_key(ec.SECP384R1()))


class SignedJwt:
    """Mints client JWTs like the CDS Hooks sandbox does (cds-hooks.md §9), flaskr style."""

    def __init__(self, keys: SigningKeys, base: str = PUBLIC_BASE) -> None:
        self.keys = keys
        self.base = base

    def claims(self, path: str = "/cds-services", **changes: Any) -> dict[str, Any]:
        """Return sandbox-shaped claims for a path; a change of None drops the claim."""
        now = int(time.time())
        claims = {"iss": TEST_ISSUER, "aud": self.base + path, "iat": now, "exp": now + 300,
                  "jti": str(uuid.uuid4())}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, path: str = "/cds-services", *, alg: str = "ES384", key: Any = None,
              headers: dict[str, Any] | None = None, **changes: Any) -> str:
        """Return a signed token (ES384 with kid es1 by default)."""
        if key is None:
            key = self.keys.es384 if alg.startswith("ES") else self.keys.rs384
        head = {"kid": "es1" if alg.startswith("ES") else "rs1", "typ": "JWT"}
        head.update(headers or {})
        return jwt.encode(self.claims(path, **changes), key, algorithm=alg,
                          headers={k: v for k, v in head.items() if v is not None})

    def headers(self, path: str = "/cds-services", **kw: Any) -> dict[str, str]:
        """Return an Authorization header for a call to ``path``."""
        return {"Authorization": f"Bearer {self.token(path, **kw)}"}


@pytest.fixture
def signed_jwt(signing_keys: SigningKeys) -> SignedJwt:
    """Token minting for tests."""
    return SignedJwt(signing_keys)


def write_clients_file(path: Path, clients: list[dict[str, Any]]) -> Path:
    """Write a trusted-clients file."""
    path.write_text(json.dumps({"clients": clients}), encoding="utf-8")
    return path


@pytest.fixture
def clients_file(tmp_path: Path, signing_keys: SigningKeys) -> Path:
    """A clients file trusting the test issuer's ES384 and RS384 keys (inline JWKS)."""
    return write_clients_file(tmp_path / "clients.json",
                              [{"iss": TEST_ISSUER, "jwks": signing_keys.jwks()}])


@pytest.fixture
def auth_settings(settings: Settings, clients_file: Path) -> Settings:
    """The test settings with authentication on, as in production."""
    return dataclasses.replace(settings, auth_required=True, public_base_url=PUBLIC_BASE,
                               trusted_clients_file=str(clients_file))


@pytest.fixture
def auth_app(auth_settings: Settings) -> Iterator[Flask]:
    """The app with authentication on."""
    app = create_app({"SETTINGS": auth_settings, "TESTING": True})
    yield app
    close_app(app)


@pytest.fixture
def auth_client(auth_app: Flask) -> FlaskClient:
    """A test client of the authenticated app."""
    return auth_app.test_client()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL at 127.0.0.1:5432 (database test), dropped after."""
    if not _listening(5432):
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    from sqlalchemy import create_engine, text

    base = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    schema = f"crs_cds_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{base}?options=-csearch_path%3D{schema}"
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def redis_url() -> str:
    """The real Redis at 127.0.0.1:6379, database 0 (keys are random, nothing is flushed)."""
    if not _listening(6379):
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test settings on each storage backend; PostgreSQL migrated with `db upgrade`."""
    if request.param == "sqlite":
        return settings
    from cds_service.db import Database

    url = request.getfixturevalue("postgres_url")
    database = Database(url)
    database.upgrade()
    database.dispose()
    return dataclasses.replace(settings, database_url=url, audit_hash_key="k" * 40)


@pytest.fixture
def store_app(store_settings: Settings) -> Iterator[Flask]:
    """The app on each storage backend (authentication off)."""
    app = create_app({"SETTINGS": store_settings, "TESTING": True})
    yield app
    close_app(app)


ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def shifted_to_now(body: Any, captured_now: datetime) -> Any:
    """Return a copy of a captured request with every date-time moved so that
    ``captured_now`` becomes the present (the HTTP endpoint always evaluates at now)."""
    delta = datetime.now(UTC).replace(microsecond=0) - captured_now

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and ISO_TIME.match(node):
            moved = datetime.fromisoformat(node.replace("Z", "+00:00")) + delta
            return moved.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return node

    return walk(body)


def grade3_request() -> dict[str, Any]:
    """The grade-3 CRS patient-view request (tests/data), moved to the present."""
    return shifted_to_now(load_json("cds/patient-view-crs-grade3.json"),
                          datetime(2026, 11, 21, 14, 20, tzinfo=UTC))
