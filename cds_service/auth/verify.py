"""Check one client JWT (CDS Hooks 2.0 §Trusting CDS Clients; cds-hooks.md §10).

Order: header (alg) -> iss trusted -> alg allowed for it -> aud -> exp/iat/nbf/lifetime
-> tenant -> key (kid, jku) -> signature -> jti unseen, then remembered.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from cds_service.auth.clients import ClientRegistry, TrustedClient
from cds_service.auth.jwks import Jwk, KeyCache, KeySource, StaticKeys
from cds_service.auth.replay import ReplayStore, ReplayStoreUnavailable

log = logging.getLogger(__name__)

# JWK kty/crv that fit each permitted algorithm.
KEY_TYPES = {"ES384": ("EC", "P-384"), "ES256": ("EC", "P-256"), "RS384": ("RSA", None),
             "RS256": ("RSA", None), "PS384": ("RSA", None)}
MAX_JTI = 256
# NumericDate claims must be finite numbers in [0, 1e11) s (before the year 5138): no NaN,
# no infinity, no integer too large for a float.
MAX_NUMERIC_DATE = 1e11
# A jti is stored and logged: no control characters (C0, DEL) and no lone surrogates.
JTI = re.compile(rf"[^\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_JTI}}}")


class Rejected(Exception):
    """The token is not accepted; ``reason`` is for the log only, never the response."""

    def __init__(self, reason: str, claims: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.claims = claims or {}


@dataclass(frozen=True)
class Accepted:
    """What is known about the caller once its token is accepted."""

    iss: str
    jti: str
    tenant: str | None


@dataclass(frozen=True)
class Policy:
    """Verification limits from the settings."""

    algorithms: tuple[str, ...]  # for issuers that name none of their own
    max_lifetime: int
    leeway: int


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if value is None:
        raise Rejected(f"claim {name} missing", claims)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(f"malformed claim {name}: not a number", claims)
    if not 0 <= value < MAX_NUMERIC_DATE:  # also False for NaN; exact for huge integers
        raise Rejected(f"malformed claim {name}: not a finite NumericDate in range", claims)
    return float(value)


def audience_ok(aud: Any, accepted: set[str]) -> bool:
    """Return True if ``aud`` (a string or an array) holds an accepted URL."""
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return any(isinstance(v, str) and v.removesuffix("/") in accepted for v in values)


def key_fits(jwk: Jwk, alg: str) -> bool:
    """Return True if a JWK may verify ``alg``: kty/crv fit, and use/alg agree if given."""
    kty, crv = KEY_TYPES[alg]
    return (jwk.get("kty") == kty and (crv is None or jwk.get("crv") == crv)
            and jwk.get("use", "sig") == "sig" and jwk.get("alg", alg) == alg)


def pick_key(keys: list[Jwk], kid: str | None) -> Jwk | None:
    """Return the key named by ``kid``; without a kid, the only key of the set."""
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.get("kid") == kid), None)


class Verifier:
    """Verifies tokens against the trusted clients and the replay store."""

    def __init__(self, registry: ClientRegistry, keys: KeyCache, replay: ReplayStore,
                 policy: Policy, clock: Callable[[], float] = time.time) -> None:
        self.registry, self.keys, self.replay = registry, keys, replay
        self.policy, self.clock = policy, clock

    def _header(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Rejected("malformed token header") from None
        alg = header.get("alg")
        if not isinstance(alg, str):
            raise Rejected("malformed token header: alg is not a string")
        if alg not in KEY_TYPES:  # asymmetric only: never none, never HS*
            raise Rejected(f"alg {alg[:16]!r} not allowed")
        if header.get("typ") != "JWT":
            log.info("token typ is %r, not JWT (accepted)", str(header.get("typ"))[:16])
        if "kid" in header and not isinstance(header["kid"], str):
            raise Rejected("kid is not a string")
        if "jku" in header and not isinstance(header["jku"], str):
            raise Rejected("jku is not a string")
        return header

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Rejected("malformed token claims") from None
        return claims

    def _timing(self, claims: Mapping[str, Any]) -> None:
        now, leeway = self.clock(), self.policy.leeway
        exp, iat = _number(claims, "exp"), _number(claims, "iat")
        if exp + leeway <= now:
            raise Rejected("token expired", claims)
        if iat - leeway > now:
            raise Rejected("iat in the future", claims)
        if exp - iat > self.policy.max_lifetime:
            raise Rejected("lifetime over the maximum", claims)
        if "nbf" in claims and _number(claims, "nbf") - leeway > now:
            raise Rejected("token not yet valid (nbf)", claims)

    def _sources(self, client: TrustedClient, header: Mapping[str, Any]) -> list[KeySource]:
        if client.jwks is not None:
            sources: list[KeySource] = [StaticKeys(client.jwks)]
        elif client.jwks_file is not None:
            sources = [self.keys.file(client.jwks_file)]
        else:
            sources = [self.keys.url(str(client.jwks_url))]
        jku = header.get("jku")
        if jku is not None:
            if jku not in client.jku_allowlist:
                raise Rejected("jku not on the client's allow-list")
            sources.append(self.keys.url(jku))
        return sources

    def _key(self, client: TrustedClient, header: Mapping[str, Any]) -> Any:
        kid, alg = header.get("kid"), header["alg"]
        for source in self._sources(client, header):
            jwk = pick_key(source.keys(), kid)
            if jwk is None and kid is not None and source.refresh():
                jwk = pick_key(source.keys(), kid)
            if jwk is not None:
                if not key_fits(jwk, alg):
                    raise Rejected("key does not fit alg")
                try:
                    return jwt.PyJWK(dict(jwk), algorithm=alg).key
                except jwt.PyJWTError:
                    raise Rejected("unusable key in JWKS") from None
        raise Rejected("no key for kid" if kid else "no kid and not exactly one key")

    def verify(self, token: str, audiences: set[str], feedback_service_aud: str | None = None
               ) -> Accepted:
        """Return who called, or raise Rejected; ``audiences`` are the endpoint's URLs."""
        # Backstop: whatever a token holds, an unexpected exception is a 401, never a 500;
        # only its type is logged. An unreachable replay store stays a 503.
        try:
            return self._verify(token, audiences, feedback_service_aud)
        except (Rejected, ReplayStoreUnavailable):
            raise
        except Exception as exc:
            log.error("token check failed unexpectedly: %s", type(exc).__name__)
            raise Rejected(f"malformed token ({type(exc).__name__})") from None

    def _verify(self, token: str, audiences: set[str], feedback_service_aud: str | None
                ) -> Accepted:
        header = self._header(token)
        claims = self._claims(token)
        iss = claims.get("iss")
        client = self.registry.get(iss) if isinstance(iss, str) else None
        if client is None or not isinstance(iss, str):
            raise Rejected("issuer not trusted", claims)
        if header["alg"] not in (client.algorithms or self.policy.algorithms):
            raise Rejected("alg not allowed for this issuer", claims)
        accepted = set(audiences) | {a.removesuffix("/") for a in client.extra_audiences}
        if feedback_service_aud and client.feedback_accepts_service_aud:
            accepted.add(feedback_service_aud)
        if "aud" not in claims or not audience_ok(claims["aud"], accepted):
            raise Rejected("aud missing or not this endpoint", claims)
        self._timing(claims)
        jti = claims.get("jti")
        if not isinstance(jti, str) or JTI.fullmatch(jti) is None:
            raise Rejected("jti missing or malformed", claims)
        if client.tenant is not None and claims.get("tenant") != client.tenant:
            raise Rejected("tenant not allowed", claims)
        key = self._key(client, header)
        try:
            jwt.decode(token, key=key, algorithms=[header["alg"]],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                "verify_aud": False, "verify_iss": False, "verify_jti": False,
                                "verify_sub": False})
        except jwt.PyJWTError:
            raise Rejected("bad signature", claims) from None
        expires_at = int(_number(claims, "exp")) + self.policy.leeway
        if not self.replay.first_use(iss, jti, expires_at):
            raise Rejected("jti replayed", claims)
        tenant = claims.get("tenant")
        return Accepted(iss=iss, jti=jti, tenant=tenant if isinstance(tenant, str) else None)
