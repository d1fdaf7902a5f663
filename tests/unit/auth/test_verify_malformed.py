"""Malformed tokens are rejections, never crashes: odd alg, huge or NaN times, odd jti."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from cds_service.auth.replay import ReplayStoreUnavailable
from cds_service.auth.verify import Rejected
from tests.conftest import SigningKeys
from tests.unit.auth.test_verify import Rig

TEN_YEARS = 10 * 365 * 86400


def b64(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: Any, payload: str) -> str:
    """A token with any header and raw claims JSON, and a bogus signature."""
    return f"{b64(json.dumps(header).encode())}.{b64(payload.encode())}.{b64(b'x' * 96)}"


def raw_claims(rig: Rig, **changes: Any) -> str:
    """Sandbox-shaped claims as JSON text (json.dumps writes NaN and huge integers as-is)."""
    return json.dumps(rig.tokens.claims(**changes))


@pytest.fixture
def rig(tmp_path: Path, signing_keys: SigningKeys) -> Rig:
    """A verifier trusting the test issuer's inline keys."""
    return Rig(tmp_path, signing_keys, {"jwks": signing_keys.jwks()})


@pytest.mark.parametrize("alg", [["ES384"], {}, {"a": 1}, 384, None])
def test_alg_that_is_not_a_string_is_malformed(rig: Rig, alg: Any) -> None:
    with pytest.raises(Rejected, match="malformed|not allowed"):
        rig.verify(unsigned({"alg": alg, "kid": "es1"}, raw_claims(rig)))


def test_jku_that_is_not_a_string_is_rejected(rig: Rig) -> None:
    with pytest.raises(Rejected, match="jku"):
        rig.verify(rig.tokens.token(headers={"jku": ["https://evil.test/j"]}))


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [10**400, 10**20, 1e11, -1, float("inf"), float("nan"), True])
def test_numeric_date_out_of_range_or_not_finite_is_malformed(rig: Rig, claim: str,
                                                              value: Any) -> None:
    payload = raw_claims(rig, **{claim: value})
    with pytest.raises(Rejected, match=f"malformed claim {claim}"):
        rig.verify(unsigned({"alg": "ES384", "kid": "es1"}, payload))


def test_signed_token_with_nan_iat_and_far_exp_is_refused_and_not_remembered(rig: Rig) -> None:
    now = int(time.time())
    token = rig.tokens.token(iat=float("nan"), exp=now + TEN_YEARS)  # a genuine signature
    with pytest.raises(Rejected, match="malformed claim iat"):
        rig.verify(token)
    assert rig.replay.seen == {}


def test_signed_token_with_nan_exp_is_a_rejection(rig: Rig) -> None:
    with pytest.raises(Rejected, match="malformed claim exp"):
        rig.verify(rig.tokens.token(exp=float("nan")))


@pytest.mark.parametrize("jti", ["a\x00b", "tab\there", "line\n", "del\x7f", "\ud800",
                                 "x" * 257, ""])
def test_jti_with_control_characters_or_out_of_bounds_is_malformed(rig: Rig, jti: str) -> None:
    with pytest.raises(Rejected, match="jti missing or malformed"):
        rig.verify(rig.tokens.token(jti=jti))
    assert rig.replay.seen == {}


def test_unicode_jti_of_256_characters_is_accepted(rig: Rig) -> None:
    assert rig.verify(rig.tokens.token(jti="é" * 256)).jti == "é" * 256


def test_any_unexpected_exception_is_a_rejection_logging_only_its_type(
        rig: Rig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def boom(iss: str) -> None:
        raise RuntimeError("secret-detail")

    monkeypatch.setattr(rig.verifier.registry, "get", boom)
    with pytest.raises(Rejected, match=r"malformed token \(RuntimeError\)"):
        rig.verify(rig.tokens.token())
    assert "RuntimeError" in caplog.text
    assert "secret-detail" not in caplog.text


def test_unreachable_replay_store_still_passes_through(rig: Rig,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def down(iss: str, jti: str, expires_at: int) -> bool:
        raise ReplayStoreUnavailable("down")

    monkeypatch.setattr(rig.replay, "first_use", down)
    with pytest.raises(ReplayStoreUnavailable):
        rig.verify(rig.tokens.token())
