"""Client authentication: every non-OPTIONS call but the probes carries a trusted JWT.

A failure is a 401 with an empty body; the reason goes to the log, the token never does.
"""

from __future__ import annotations

import logging
import os
import re

from flask import Flask, current_app, g, request

from cds_service.auth import devtoken
from cds_service.auth.clients import ClientRegistry
from cds_service.auth.jwks import KeyCache, http_fetch
from cds_service.auth.replay import RedisReplayStore, ReplayStore, SqlReplayStore
from cds_service.auth.verify import Policy, Rejected, Verifier
from cds_service.db import Database
from cds_service.errors import Unauthorized
from cds_service.settings import Settings

log = logging.getLogger(__name__)
EXTENSION = "crs_cds_auth"
BEARER = re.compile(r"Bearer +([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*)[ \t]*",
                    re.IGNORECASE)  # used with fullmatch
FEEDBACK_SUFFIX = "/feedback"


def clients_path(settings: Settings) -> tuple[str, bool]:
    """Return the clients file and whether it must exist (the dev file need not)."""
    if settings.trusted_clients_file:
        return settings.trusted_clients_file, True
    return os.path.join(settings.instance_dir, devtoken.CLIENTS_FILE), False


def build_verifier(settings: Settings, db: Database) -> Verifier:
    """Compose the verifier from the settings: clients, key cache, replay store."""
    path, required = clients_path(settings)
    if not required:
        log.warning("CDS_TRUSTED_CLIENTS_FILE is not set: trusting only the development "
                    "clients file %s written by `crs-cds dev-token` (loopback host only)", path)
    replay: ReplayStore = (RedisReplayStore(settings.redis_url) if settings.redis_url
                           else SqlReplayStore(db))
    keys = KeyCache(http_fetch, ttl=settings.jwks_cache_ttl,
                    min_interval=settings.jwks_min_refresh_interval,
                    timeout=settings.jwks_fetch_timeout)
    policy = Policy(algorithms=settings.allowed_algorithms,
                    max_lifetime=settings.jwt_max_lifetime, leeway=settings.jwt_leeway)
    return Verifier(ClientRegistry(path, required=required), keys, replay, policy)


def expected_audiences(settings: Settings, path: str) -> tuple[set[str], str | None]:
    """Return the endpoint's public URL(s) and, for feedback, its service URL."""
    url = settings.base_url + path.removesuffix("/")
    service_url = url.removesuffix(FEEDBACK_SUFFIX) if url.endswith(FEEDBACK_SUFFIX) else None
    return {url}, service_url


def _safe(value: object, limit: int = 200) -> str | None:
    return str(value)[:limit] if isinstance(value, str) else None


def authenticate() -> None:
    """Before each request: 401 unless the bearer JWT is accepted."""
    settings: Settings = current_app.config["SETTINGS"]
    if request.method == "OPTIONS" or request.blueprint == "ops":
        return
    if settings.anonymous_discovery and request.path.rstrip("/") == "/cds-services":
        return
    match = BEARER.fullmatch(request.headers.get("Authorization", ""))
    if match is None:
        log.warning("request refused (401): no bearer JWT",
                    extra={"event": "auth-rejected", "reason": "no bearer JWT"})
        raise Unauthorized("")
    verifier: Verifier = current_app.extensions[EXTENSION]
    audiences, service_aud = expected_audiences(settings, request.path)
    try:
        accepted = verifier.verify(match.group(1), audiences, service_aud)
    except Rejected as exc:
        log.warning("request refused (401): %s", exc.reason, extra={
            "event": "auth-rejected", "reason": exc.reason,
            "iss": _safe(exc.claims.get("iss")), "jti": _safe(exc.claims.get("jti"), 256)})
        raise Unauthorized("") from None
    g.jwt_iss, g.jwt_jti, g.jwt_tenant = accepted.iss, accepted.jti, accepted.tenant


def init_app(app: Flask, settings: Settings, db: Database) -> None:
    """Install authentication; shout in the log when it is off."""
    if not settings.auth_required:
        log.warning("AUTHENTICATION IS OFF (CDS_AUTH_REQUIRED=false): any caller that can "
                    "reach %s:%d is trusted; allowed on loopback addresses only",
                    settings.host, settings.port)
        return
    app.extensions[EXTENSION] = build_verifier(settings, db)
    app.before_request(authenticate)


def close(app: Flask) -> None:
    """Release the replay store's connections."""
    verifier = app.extensions.get(EXTENSION)
    closer = getattr(getattr(verifier, "replay", None), "close", None)
    if callable(closer):
        closer()
