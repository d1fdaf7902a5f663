"""Typed settings, read once from environment variables at start-up.

Every variable is documented in the README. An invalid value stops start-up with a
``SettingsError`` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
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

    @property
    def base_url(self) -> str:
        """Return the public base URL (configured, or derived from host and port)."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``CDS_*`` variables; raise SettingsError on a bad value."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            raw = env.get(name)
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
            (self.fhir_connect_timeout > 0, "FHIR_CONNECT_TIMEOUT", "must be > 0"),
            (self.fhir_read_timeout > 0, "FHIR_READ_TIMEOUT", "must be > 0"),
            (self.fhir_total_budget > 0, "FHIR_TOTAL_BUDGET", "must be > 0"),
            (0 <= self.fhir_retries <= 5, "FHIR_RETRIES", "must be between 0 and 5"),
            (1 <= self.fhir_max_pages <= 100, "FHIR_MAX_PAGES", "must be between 1 and 100"),
            (self.log_level.upper() in _LEVELS, "LOG_LEVEL", f"must be one of {_LEVELS}"),
            (self.database_url.startswith("sqlite:///"), "DATABASE_URL",
             "must be an sqlite:/// URL (PostgreSQL support is not built yet)"),
            (self.public_base_url == "" or self.public_base_url.startswith(("http://", "https://")),
             "PUBLIC_BASE_URL", "must be an absolute http(s) URL"),
        ]
        for ok, name, why in checks:
            if not ok:
                raise SettingsError(f"{ENV_PREFIX}{name} {why}")
        if self.rule_overrides_file and not os.path.isfile(self.rule_overrides_file):
            raise SettingsError(f"{ENV_PREFIX}RULE_OVERRIDES_FILE: no such file")


ENV_PREFIX = "CDS_"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


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
    "max_body_bytes": int, "cors_origins": _list, "fhir_connect_timeout": float,
    "fhir_read_timeout": float, "fhir_total_budget": float, "fhir_retries": int,
    "fhir_max_pages": int, "allow_open_fhir_server": _bool, "allowed_http_fhir_hosts": _list,
    "fhir_host_allowlist": _list, "rule_overrides_file": str, "log_level": str,
}


def _parse(name: str, raw: str, parser: Callable[[str], T]) -> T:
    try:
        return parser(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: invalid value ({exc})") from None
