"""The verifier with fakes: key sources, jku allow-list, refresh on unknown kid, replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.auth.clients import ClientRegistry, ClientsFileError, parse_clients
from cds_service.auth.jwks import KeyCache
from cds_service.auth.verify import Policy, Rejected, Verifier, audience_ok, key_fits
from tests.conftest import PUBLIC_BASE, TEST_ISSUER, SignedJwt, SigningKeys, write_clients_file
from tests.unit.auth.fakes import FakeClock, FakeJwks, FakeReplayStore

AUD = {PUBLIC_BASE + "/cds-services"}
JWKS_URL = "https://ehr.test/.well-known/jwks.json"
JKU = "https://ehr.test/jku.json"


class Rig:
    """A verifier wired to fakes, with a clients file in a temporary folder."""

    def __init__(self, tmp_path: Path, keys: SigningKeys, client: dict[str, Any]) -> None:
        self.fetch = FakeJwks()
        self.clock = FakeClock()
        self.replay = FakeReplayStore()
        path = write_clients_file(tmp_path / "clients.json", [{"iss": TEST_ISSUER, **client}])
        cache = KeyCache(self.fetch, ttl=300, min_interval=30, timeout=1.0, clock=self.clock)
        self.verifier = Verifier(ClientRegistry(str(path)), cache, self.replay,
                                 Policy(("ES384", "RS384"), 3600, 60))
        self.tokens = SignedJwt(keys)

    def verify(self, token: str) -> Any:
        return self.verifier.verify(token, AUD)


def test_jwks_url_is_fetched_and_an_unknown_kid_refreshes_once(tmp_path: Path,
                                                               signing_keys: SigningKeys) -> None:
    rig = Rig(tmp_path, signing_keys, {"jwks_url": JWKS_URL})
    jwks = signing_keys.jwks()
    rig.fetch.documents[JWKS_URL] = {"keys": jwks["keys"][1:]}  # rs1 only: es1 not yet published
    assert rig.verify(rig.tokens.token(alg="RS384")).iss == TEST_ISSUER
    with pytest.raises(Rejected, match="no key for kid"):
        rig.verify(rig.tokens.token())  # es1 unknown; refresh too soon after the first fetch
    rig.clock.advance(31)
    rig.fetch.documents[JWKS_URL] = jwks  # key rotation published
    assert rig.verify(rig.tokens.token()).iss == TEST_ISSUER
    assert len(rig.fetch.fetches) == 2
    for _ in range(5):
        with pytest.raises(Rejected):
            rig.verify(rig.tokens.token(headers={"kid": "nope"}))
    assert len(rig.fetch.fetches) == 2  # unknown kids do not make us fetch again


def test_jku_on_the_allow_list_is_fetched_and_others_never(tmp_path: Path,
                                                           signing_keys: SigningKeys) -> None:
    rig = Rig(tmp_path, signing_keys, {"jwks": {"keys": []}, "jku_allowlist": [JKU]})
    rig.fetch.documents[JKU] = signing_keys.jwks()
    assert rig.verify(rig.tokens.token(headers={"jku": JKU})).iss == TEST_ISSUER
    with pytest.raises(Rejected, match="allow-list"):
        rig.verify(rig.tokens.token(headers={"jku": "https://evil.test/jwks"}))
    assert [url for url, _ in rig.fetch.fetches] == [JKU]


def test_jwks_file_and_kid_less_single_key(tmp_path: Path, signing_keys: SigningKeys) -> None:
    only_es = {"keys": [signing_keys.jwks()["keys"][0]]}
    (tmp_path / "ehr-jwks.json").write_text(json.dumps(only_es))
    rig = Rig(tmp_path, signing_keys, {"jwks_file": "ehr-jwks.json"})
    assert rig.verify(rig.tokens.token(headers={"kid": None})).iss == TEST_ISSUER


def test_kid_less_token_with_several_keys_is_rejected(tmp_path: Path,
                                                      signing_keys: SigningKeys) -> None:
    rig = Rig(tmp_path, signing_keys, {"jwks": signing_keys.jwks()})
    with pytest.raises(Rejected, match="no kid"):
        rig.verify(rig.tokens.token(headers={"kid": None}))


def test_replay_is_checked_after_the_signature(tmp_path: Path,
                                               signing_keys: SigningKeys) -> None:
    rig = Rig(tmp_path, signing_keys, {"jwks": signing_keys.jwks()})
    forged = rig.tokens.token(key=signing_keys.stranger, jti="j1")
    with pytest.raises(Rejected, match="signature"):
        rig.verify(forged)
    assert rig.replay.seen == {}  # a forgery cannot burn a jti
    token = rig.tokens.token(jti="j1")
    rig.verify(token)
    assert (TEST_ISSUER, "j1") in rig.replay.seen
    with pytest.raises(Rejected, match="replayed"):
        rig.verify(token)


def test_clients_file_changes_are_picked_up(tmp_path: Path, signing_keys: SigningKeys) -> None:
    import os

    rig = Rig(tmp_path, signing_keys, {"jwks": {"keys": []}})
    with pytest.raises(Rejected):
        rig.verify(rig.tokens.token())
    path = tmp_path / "clients.json"
    write_clients_file(path, [{"iss": TEST_ISSUER, "jwks": signing_keys.jwks()}])
    os.utime(path, (1, 1))  # a distinct mtime even on coarse file systems
    assert rig.verify(rig.tokens.token()).iss == TEST_ISSUER


@pytest.mark.parametrize(("jwk", "alg", "fits"), [
    ({"kty": "EC", "crv": "P-384"}, "ES384", True),
    ({"kty": "EC", "crv": "P-256"}, "ES384", False),
    ({"kty": "RSA"}, "ES384", False),
    ({"kty": "RSA"}, "RS384", True),
    ({"kty": "RSA", "alg": "RS256"}, "RS384", False),
    ({"kty": "RSA", "use": "enc"}, "RS384", False),
])
def test_key_must_fit_the_algorithm(jwk: dict[str, str], alg: str, fits: bool) -> None:
    assert key_fits(jwk, alg) is fits


def test_audience_may_be_a_string_or_an_array() -> None:
    assert audience_ok("https://a.test/x/", {"https://a.test/x"})
    assert audience_ok(["https://b.test", "https://a.test/x"], {"https://a.test/x"})
    assert not audience_ok("https://A.test/x", {"https://a.test/x"})  # exact, case-sensitive
    assert not audience_ok(None, {"https://a.test/x"})


@pytest.mark.parametrize(("clients", "named"), [
    ({"clients": [{"iss": "x"}]}, "exactly one of jwks"),
    ({"clients": [{"iss": "x", "jwks": {"keys": []}, "jwks_url": "https://a.test"}]},
     "exactly one"),
    ({"clients": [{"iss": "x", "jwks_url": "http://ehr.example.org/jwks"}]}, "https"),
    ({"clients": [{"iss": "x", "jwks": {"keys": []}, "algorithms": ["HS256"]}]},
     "not permitted"),
    ({"clients": [{"iss": "x", "jwks": {"keys": []}, "colour": "red"}]}, "unknown member"),
    ({"clients": [{"iss": "x", "jwks": {"keys": []}}, {"iss": "x", "jwks": {"keys": []}}]},
     "repeats"),
    ({"clients": [{"iss": "x", "jwks_file": "missing.json"}]}, "no such file"),
    ([], "clients"),
])
def test_bad_clients_file_is_refused_naming_the_member(clients: Any, named: str,
                                                       tmp_path: Path) -> None:
    with pytest.raises(ClientsFileError, match=named):
        parse_clients(clients, str(tmp_path))
