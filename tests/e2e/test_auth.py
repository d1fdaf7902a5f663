"""Client JWT authentication over HTTP: the negative matrix, accepted tokens, order of checks.

cds-hooks.md §10; the issue's "Done when" list. Keys are generated at test time.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient

from cds_service import close_app, create_app
from cds_service.settings import Settings, SettingsError
from tests.conftest import TEST_ISSUER, SignedJwt, load_json, write_clients_file

DISCOVERY = "/cds-services"
SERVICE = "/cds-services/crs-patient-view"
FEEDBACK = SERVICE + "/feedback"


def assert_401(resp: Any) -> None:
    """A refusal: 401, WWW-Authenticate: Bearer, CORS headers, and no body at all."""
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.get_data() == b""


def hs256_with_public_key(s: SignedJwt) -> str:
    """The classic key-confusion attack: HS256 keyed with the ES384 public key's PEM."""
    pem = s.keys.es384.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "es1"}).encode())
    body = b64(json.dumps(s.claims()).encode())
    sig = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def alg_none(s: SignedJwt) -> str:
    """An unsigned token (alg none)."""
    return jwt.encode(s.claims(), None, algorithm="none", headers={"kid": "es1"})


def bad_signature(s: SignedJwt) -> str:
    """A valid token whose signature belongs to other claims."""
    good = s.token()
    other = s.token(jti="another")
    return ".".join(good.split(".")[:2] + other.split(".")[2:])


def now() -> int:
    """Return the current epoch second."""
    return int(time.time())


def es256_key() -> Any:
    """Return a P-256 key (ES256 is not enabled by default)."""
    return ec.generate_private_key(ec.SECP256R1())


# case -> (token maker, the reason that must be logged)
NEGATIVE: dict[str, tuple[Callable[[SignedJwt], str], str]] = {
    "alg none": (alg_none, "alg 'none' not allowed"),
    "HS256 keyed with the public key": (hs256_with_public_key, "alg 'HS256' not allowed"),
    "expired": (lambda s: s.token(iat=now() - 700, exp=now() - 400), "token expired"),
    "iat in the future": (lambda s: s.token(iat=now() + 600, exp=now() + 900),
                          "iat in the future"),
    "nbf in the future": (lambda s: s.token(nbf=now() + 600), "not yet valid"),
    "wrong aud": (lambda s: s.token(aud="https://other.test/cds-services"), "aud"),
    "aud of another endpoint": (lambda s: s.token(aud=s.base + SERVICE), "aud"),
    "aud from the request host": (lambda s: s.token(aud="http://localhost/cds-services"),
                                  "aud"),
    "wrong iss": (lambda s: s.token(iss="https://evil.test"), "issuer not trusted"),
    "unknown kid": (lambda s: s.token(headers={"kid": "nope"}), "no key for kid"),
    "stranger's key, trusted kid": (lambda s: s.token(key=s.keys.stranger), "bad signature"),
    "jku off the allow-list": (lambda s: s.token(headers={"jku": "https://evil.test/j.json"}),
                               "jku not on the client's allow-list"),
    "iss missing": (lambda s: s.token(iss=None), "issuer not trusted"),
    "aud missing": (lambda s: s.token(aud=None), "aud missing"),
    "exp missing": (lambda s: s.token(exp=None), "claim exp missing"),
    "iat missing": (lambda s: s.token(iat=None), "claim iat missing"),
    "jti missing": (lambda s: s.token(jti=None), "jti missing"),
    "exp not a number": (lambda s: s.token(exp="tomorrow"), "claim exp"),
    "lifetime too long": (lambda s: s.token(exp=now() + 3700), "lifetime over the maximum"),
    "bad signature": (bad_signature, "bad signature"),
    "RS384 on the EC key id": (lambda s: s.token(alg="RS384", headers={"kid": "es1"}),
                               "key does not fit alg"),
    "ES256 not enabled": (lambda s: s.token(alg="ES256", key=es256_key()),
                          "alg not allowed for this issuer"),
    "not a JWT": (lambda s: "not-a-token", "no bearer JWT"),
}


@pytest.mark.parametrize("case", list(NEGATIVE))
def test_negative_matrix_is_401_with_no_body(auth_client: FlaskClient, signed_jwt: SignedJwt,
                                             caplog: pytest.LogCaptureFixture,
                                             case: str) -> None:
    make, reason = NEGATIVE[case]
    resp = auth_client.get(DISCOVERY, headers={"Authorization": f"Bearer {make(signed_jwt)}",
                                               "Origin": "https://ehr.example.org"})
    assert_401(resp)
    logged = [str(getattr(r, "reason", "")) for r in caplog.records]
    assert any(reason in r for r in logged), logged


def test_replayed_jti_is_401(auth_client: FlaskClient, signed_jwt: SignedJwt) -> None:
    headers = signed_jwt.headers()
    assert auth_client.get(DISCOVERY, headers=headers).status_code == 200
    assert_401(auth_client.get(DISCOVERY, headers=headers))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwdw=="},
                                     {"Authorization": "Bearer"}])
def test_missing_token_is_401(auth_client: FlaskClient, headers: dict[str, str]) -> None:
    assert_401(auth_client.get(DISCOVERY, headers=headers))


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_es384_and_rs384_are_accepted_on_every_endpoint(auth_client: FlaskClient,
                                                        signed_jwt: SignedJwt, alg: str) -> None:
    resp = auth_client.get(DISCOVERY, headers=signed_jwt.headers(DISCOVERY, alg=alg))
    assert resp.status_code == 200
    resp = auth_client.post(FEEDBACK, json=load_json("cds/sandbox-feedback.json"),
                            headers=signed_jwt.headers(FEEDBACK, alg=alg))
    assert resp.status_code == 200
    resp = auth_client.post(SERVICE, data="{", content_type="application/json",
                            headers=signed_jwt.headers(SERVICE, alg=alg))
    assert resp.status_code == 400  # authenticated: the body is checked next


def test_sandbox_token_shape_is_accepted(auth_client: FlaskClient,
                                         signed_jwt: SignedJwt) -> None:
    # ES384, typ JWT, kid, a jku on the allow-list (not fetched: the kid is inline), aud as an
    # array, exp = iat + 300, a uuid jti, and unknown claims such as sub (cds-hooks.md §9).
    path = Path(auth_client.application.config["SETTINGS"].trusted_clients_file)
    data = json.loads(path.read_text())
    data["clients"][0]["jku_allowlist"] = ["https://sandbox.example/.well-known/jwks.json"]
    path.write_text(json.dumps(data))
    token = signed_jwt.token(aud=[signed_jwt.base + DISCOVERY], sub="someone",
                             headers={"jku": "https://sandbox.example/.well-known/jwks.json"})
    resp = auth_client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


def test_trailing_slash_and_leeway(auth_client: FlaskClient, signed_jwt: SignedJwt) -> None:
    token = signed_jwt.token(aud=signed_jwt.base + DISCOVERY + "/", iat=now() - 330,
                             exp=now() - 30)  # expired 30 s ago: within the 60 s leeway
    assert auth_client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}
                           ).status_code == 200


def test_missing_typ_is_accepted(auth_client: FlaskClient, signed_jwt: SignedJwt) -> None:
    resp = auth_client.get(DISCOVERY, headers=signed_jwt.headers(headers={"typ": None}))
    assert resp.status_code == 200


def test_preflight_and_probes_need_no_token(auth_client: FlaskClient) -> None:
    for path in (DISCOVERY, SERVICE, FEEDBACK):
        resp = auth_client.options(path, headers={"Origin": "https://ehr.example.org",
                                                  "Access-Control-Request-Method": "POST"})
        assert resp.status_code == 204
    assert auth_client.get("/healthz").status_code == 200
    assert auth_client.get("/readyz").status_code == 200


def test_401_comes_before_404_405_415(auth_client: FlaskClient, signed_jwt: SignedJwt) -> None:
    assert_401(auth_client.post("/cds-services/nope", json={}))
    assert_401(auth_client.get(SERVICE))
    assert_401(auth_client.post(SERVICE, data="x", content_type="text/plain"))
    assert auth_client.post("/cds-services/nope", json={},
                            headers=signed_jwt.headers("/cds-services/nope")).status_code == 404
    assert auth_client.get(SERVICE, headers=signed_jwt.headers(SERVICE)).status_code == 405
    assert auth_client.post(SERVICE, data="x", content_type="text/plain",
                            headers=signed_jwt.headers(SERVICE)).status_code == 415


def _app_with(auth_settings: Settings, tmp_path: Path, signed_jwt: SignedJwt,
              **client: Any) -> Any:
    path = write_clients_file(tmp_path / "clients2.json", [
        {"iss": TEST_ISSUER, "jwks": signed_jwt.keys.jwks(), **client}])
    return create_app({"SETTINGS": dataclasses.replace(
        auth_settings, trusted_clients_file=str(path)), "TESTING": True})


def test_feedback_aud_is_the_feedback_url_unless_the_client_allows_the_service_url(
        auth_settings: Settings, tmp_path: Path, signed_jwt: SignedJwt) -> None:
    body = load_json("cds/sandbox-feedback.json")
    strict = create_app({"SETTINGS": auth_settings, "TESTING": True})
    lenient = _app_with(auth_settings, tmp_path, signed_jwt, feedback_accepts_service_aud=True)
    try:
        assert_401(strict.test_client().post(FEEDBACK, json=body,
                                             headers=signed_jwt.headers(SERVICE)))
        assert lenient.test_client().post(FEEDBACK, json=body,
                                          headers=signed_jwt.headers(SERVICE)).status_code == 200
    finally:
        close_app(strict)
        close_app(lenient)


def test_extra_audience_tenant_and_algorithms_per_client(auth_settings: Settings,
                                                         tmp_path: Path,
                                                         signed_jwt: SignedJwt) -> None:
    app = _app_with(auth_settings, tmp_path, signed_jwt, tenant="site-1", algorithms=["RS384"],
                    extra_audiences=["https://alias.test/hooks/"])
    c = app.test_client()
    try:
        ok = signed_jwt.headers(aud="https://alias.test/hooks", tenant="site-1", alg="RS384")
        assert c.get(DISCOVERY, headers=ok).status_code == 200
        assert_401(c.get(DISCOVERY, headers=signed_jwt.headers(tenant="site-2", alg="RS384")))
        assert_401(c.get(DISCOVERY, headers=signed_jwt.headers(alg="RS384")))  # no tenant
        assert_401(c.get(DISCOVERY, headers=signed_jwt.headers(tenant="site-1")))  # ES384
    finally:
        close_app(app)


def test_anonymous_discovery_setting(auth_settings: Settings) -> None:
    app = create_app({"SETTINGS": dataclasses.replace(auth_settings, anonymous_discovery=True)})
    try:
        c = app.test_client()
        assert c.get(DISCOVERY).status_code == 200
        assert_401(c.post(FEEDBACK, json=load_json("cds/sandbox-feedback.json")))
    finally:
        close_app(app)


@pytest.mark.parametrize(("values", "named"), [
    ({"auth_required": False, "host": "0.0.0.0"}, "CDS_AUTH_REQUIRED"),
    ({"host": "10.1.2.3", "public_base_url": "https://cds.test"}, "CDS_TRUSTED_CLIENTS_FILE"),
    ({"allowed_algorithms": ("HS256",)}, "CDS_ALLOWED_ALGORITHMS"),
    ({"allowed_algorithms": ("none",)}, "CDS_ALLOWED_ALGORITHMS"),
    ({"jwt_leeway": 120}, "CDS_JWT_LEEWAY"),
    ({"trusted_clients_file": "/nonexistent/clients.json"}, "CDS_TRUSTED_CLIENTS_FILE"),
])
def test_unsafe_settings_stop_start_up(values: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_mapping(values)


def test_auth_off_is_allowed_on_loopback_and_logged_loudly(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app({"SETTINGS": dataclasses.replace(settings, host="::1")})
    try:
        assert app.test_client().get(DISCOVERY).status_code == 200
    finally:
        close_app(app)
    assert any("AUTHENTICATION IS OFF" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)


def test_reason_is_logged_and_token_is_not(auth_client: FlaskClient, signed_jwt: SignedJwt,
                                           caplog: pytest.LogCaptureFixture,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    token = signed_jwt.token(iss="https://evil.test")
    assert_401(auth_client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}))
    reasons = [getattr(r, "reason", None) for r in caplog.records]
    assert "issuer not trusted" in reasons
    logged = capsys.readouterr().err + "\n".join(r.getMessage() for r in caplog.records)
    assert "issuer not trusted" in logged
    for part in token.split("."):
        assert part not in logged


def test_unreachable_replay_store_accepts_no_token(auth_settings: Settings, tmp_path: Path,
                                                   signed_jwt: SignedJwt) -> None:
    broken = dataclasses.replace(
        auth_settings, database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    app = create_app({"SETTINGS": broken})
    try:
        resp = app.test_client().get(DISCOVERY, headers=signed_jwt.headers())
    finally:
        close_app(app)
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "auth-store-unavailable"
