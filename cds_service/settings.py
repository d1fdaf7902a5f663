"""Typed settings, read once from environment variables at start-up.

Every variable is documented in the README. An invalid value stops start-up with a
``SettingsError`` naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """All service settings; defaults suit local development on the embedded database."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 3  # gunicorn workers: cores + 1 on the 2-core reference machine
    public_base_url: str = ""  # empty: http://{host}:{port}
    database_url: str = "sqlite:///crs-cds.sqlite3"
    max_body_bytes: int = 5_000_000
    max_json_depth: int = 64  # nesting levels of a JSON body (FHIR data needs about 12)
    max_string_length: int = 100_000  # characters of any string or key in a JSON body
    max_prefetch_resources: int = 20_000  # resources in prefetch and draftOrders together
    cors_origins: tuple[str, ...] = ("*",)
    fhir_connect_timeout: float = 0.5
    fhir_read_timeout: float = 1.0
    fhir_total_budget: float = 1.5
    fhir_retries: int = 2
    fhir_max_pages: int = 10
    allow_open_fhir_server: bool = False
    allowed_http_fhir_hosts: tuple[str, ...] = ()
    fhir_host_allowlist: tuple[str, ...] = ()
    rule_overrides_file: str = ""
    log_level: str = "INFO"
    # Trust and persistence (docs/security.md, docs/audit.md)
    auth_required: bool = True
    anonymous_discovery: bool = False
    trusted_clients_file: str = ""  # empty: instance/dev-clients.json, loopback hosts only
    instance_dir: str = "instance"  # where `crs-cds dev-token` keeps its key and clients file
    allowed_algorithms: tuple[str, ...] = ("ES384", "RS384")
    jwt_max_lifetime: int = 3600
    jwt_leeway: int = 60
    jwks_cache_ttl: int = 300
    jwks_fetch_timeout: float = 2.0
    jwks_min_refresh_interval: int = 30
    redis_url: str = ""  # empty: the replay store is the database
    # Secret of the keyed patient hash; empty: generated into instance_dir (SQLite only)
    audit_hash_key: str = field(default="", repr=False)

    @property
    def base_url(self) -> str:
        """Return the public base URL (configured, or derived from host and port)."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def loopback(self) -> bool:
        """Return True when the service binds a loopback address only."""
        return is_loopback(self.host)

    @property
    def is_sqlite(self) -> bool:
        """Return True for the embedded SQLite database."""
        return self.database_url.startswith("sqlite:///")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``CDS_*`` variables; raise SettingsError on a bad value."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            raw = env.get(name)
            if f.name == "database_url" and not (raw or "").strip():
                name, raw = "DATABASE_URL", env.get("DATABASE_URL")  # the common convention
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _parse(name, raw.strip(), PARSERS[f.name])
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Build settings from a mapping of field names; validate every value."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check ranges and relations between settings."""
        checks: list[tuple[bool, str, str]] = [
            (1 <= self.port <= 65535, "PORT", "must be between 1 and 65535"),
            (1 <= self.workers <= 64, "WORKERS", "must be between 1 and 64"),
            (self.max_body_bytes >= 1024, "MAX_BODY_BYTES", "must be at least 1024"),
            (16 <= self.max_json_depth <= 1000, "MAX_JSON_DEPTH", "must be between 16 and 1000"),
            (self.max_string_length >= 1024, "MAX_STRING_LENGTH", "must be at least 1024"),
            (self.max_prefetch_resources >= 100, "MAX_PREFETCH_RESOURCES",
             "must be at least 100"),
            (self.fhir_connect_timeout > 0, "FHIR_CONNECT_TIMEOUT", "must be > 0"),
            (self.fhir_read_timeout > 0, "FHIR_READ_TIMEOUT", "must be > 0"),
            (self.fhir_total_budget > 0, "FHIR_TOTAL_BUDGET", "must be > 0"),
            (0 <= self.fhir_retries <= 5, "FHIR_RETRIES", "must be between 0 and 5"),
            (1 <= self.fhir_max_pages <= 100, "FHIR_MAX_PAGES", "must be between 1 and 100"),
            (self.log_level.upper() in _LEVELS, "LOG_LEVEL", f"must be one of {_LEVELS}"),
            (self.database_url.startswith(DATABASE_SCHEMES), "DATABASE_URL",
             "must be an sqlite:/// or postgresql+psycopg:// URL"),
            (self.public_base_url == "" or self.public_base_url.startswith(("http://", "https://")),
             "PUBLIC_BASE_URL", "must be an absolute http(s) URL"),
        ]
        checks.extend(self._trust_checks())
        for ok, name, why in checks:
            if not ok:
                raise SettingsError(f"{ENV_PREFIX}{name} {why}")
        for name in ("rule_overrides_file", "trusted_clients_file"):
            path = getattr(self, name)
            if path and not os.path.isfile(path):
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}: no such file")

    def _trust_checks(self) -> list[tuple[bool, str, str]]:
        """Checks of the authentication, replay and audit settings."""
        bad_algs = sorted(set(self.allowed_algorithms) - set(PERMITTED_ALGORITHMS))
        return [
            (self.auth_required or self.loopback, "AUTH_REQUIRED",
             "may be false only when CDS_HOST is a loopback address"),
            (not self.auth_required or self.loopback or bool(self.trusted_clients_file),
             "TRUSTED_CLIENTS_FILE", "is required when CDS_HOST is not a loopback address"),
            (self.loopback or bool(self.public_base_url), "PUBLIC_BASE_URL",
             "is required when CDS_HOST is not a loopback address (it is the JWT audience)"),
            (bool(self.allowed_algorithms) and not bad_algs, "ALLOWED_ALGORITHMS",
             f"must be a non-empty list of {', '.join(PERMITTED_ALGORITHMS)}"),
            (60 <= self.jwt_max_lifetime <= 86_400, "JWT_MAX_LIFETIME",
             "must be between 60 and 86400 seconds"),
            (0 <= self.jwt_leeway <= 60, "JWT_LEEWAY", "must be between 0 and 60 seconds"),
            (self.jwks_cache_ttl >= 0, "JWKS_CACHE_TTL", "must be >= 0"),
            (0 < self.jwks_fetch_timeout <= 10, "JWKS_FETCH_TIMEOUT", "must be in (0, 10]"),
            (self.jwks_min_refresh_interval >= 0, "JWKS_MIN_REFRESH_INTERVAL", "must be >= 0"),
            (self.redis_url == "" or self.redis_url.startswith(("redis://", "rediss://")),
             "REDIS_URL", "must be a redis:// or rediss:// URL"),
            (self.audit_hash_key == "" or len(self.audit_hash_key) >= 32, "AUDIT_HASH_KEY",
             "must be at least 32 characters"),
            (bool(self.audit_hash_key) or self.is_sqlite, "AUDIT_HASH_KEY",
             "is required with PostgreSQL (a random secret of at least 32 characters)"),
        ]


ENV_PREFIX = "CDS_"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_SCHEMES = ("sqlite:///", "postgresql+psycopg://")
# Asymmetric algorithms only: `none` and HS* can never be enabled (cds-hooks.md §10).
PERMITTED_ALGORITHMS = ("ES384", "RS384", "ES256", "RS256", "PS384")


def is_loopback(host: str) -> bool:
    """Return True for localhost and loopback IP addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bool(raw: str) -> bool:
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


PARSERS: Mapping[str, Callable[[str], Any]] = {
    "host": str, "port": int, "workers": int, "public_base_url": str, "database_url": str,
    "max_body_bytes": int, "max_json_depth": int, "max_string_length": int,
    "max_prefetch_resources": int, "cors_origins": _list, "fhir_connect_timeout": float,
    "fhir_read_timeout": float, "fhir_total_budget": float, "fhir_retries": int,
    "fhir_max_pages": int, "allow_open_fhir_server": _bool, "allowed_http_fhir_hosts": _list,
    "fhir_host_allowlist": _list, "rule_overrides_file": str, "log_level": str,
    "auth_required": _bool, "anonymous_discovery": _bool, "trusted_clients_file": str,
    "instance_dir": str, "allowed_algorithms": _list, "jwt_max_lifetime": int,
    "jwt_leeway": int, "jwks_cache_ttl": int, "jwks_fetch_timeout": float,
    "jwks_min_refresh_interval": int, "redis_url": str, "audit_hash_key": str,
}


def _parse(name: str, raw: str, parser: Callable[[str], T]) -> T:
    try:
        return parser(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: invalid value ({exc})") from None
