"""The trusted-clients file: per issuer, its keys, audiences, tenant and algorithms.

Format (JSON; docs/security.md)::

    {"clients": [{"iss": "https://ehr.example.org",
                  "jwks_url": "https://ehr.example.org/.well-known/jwks.json",
                  "jku_allowlist": ["https://ehr.example.org/.well-known/jwks.json"],
                  "tenant": "site-1", "algorithms": ["RS384"],
                  "extra_audiences": ["https://cds.example.org/hooks"],
                  "feedback_accepts_service_aud": false}]}

Each client has exactly one of ``jwks`` (inline), ``jwks_file`` or ``jwks_url``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cds_service.settings import PERMITTED_ALGORITHMS, is_loopback

log = logging.getLogger(__name__)

KNOWN_MEMBERS = {"iss", "jwks", "jwks_file", "jwks_url", "jku_allowlist", "tenant",
                 "algorithms", "extra_audiences", "feedback_accepts_service_aud", "note"}


class ClientsFileError(ValueError):
    """The trusted-clients file is invalid; the message names the member."""


@dataclass(frozen=True)
class TrustedClient:
    """One trusted issuer and how to check its tokens."""

    iss: str
    jwks: Mapping[str, Any] | None = None
    jwks_file: str | None = None
    jwks_url: str | None = None
    jku_allowlist: tuple[str, ...] = ()
    tenant: str | None = None
    algorithms: tuple[str, ...] = ()  # empty: CDS_ALLOWED_ALGORITHMS
    extra_audiences: tuple[str, ...] = ()
    feedback_accepts_service_aud: bool = False


def check_fetch_url(url: Any, where: str) -> str:
    """Return a JWKS URL if it is https, or http on a loopback host (tests, development)."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname or parts.scheme not in ("https", "http"):
        raise ClientsFileError(f"{where} must be an absolute https URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ClientsFileError(f"{where} must use https (http only on a loopback host)")
    return str(url)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ClientsFileError(f"{where} must be an array of strings")
    return tuple(value)


def parse_client(raw: Any, where: str, base_dir: str) -> TrustedClient:
    """Validate one client entry."""
    if not isinstance(raw, Mapping):
        raise ClientsFileError(f"{where} must be an object")
    unknown = sorted(set(raw) - KNOWN_MEMBERS)
    if unknown:
        raise ClientsFileError(f"{where} has unknown member(s): {', '.join(unknown)}")
    if not isinstance(raw.get("iss"), str) or not raw["iss"]:
        raise ClientsFileError(f"{where}.iss must be a non-empty string")
    sources = [k for k in ("jwks", "jwks_file", "jwks_url") if raw.get(k) is not None]
    if len(sources) != 1:
        raise ClientsFileError(f"{where} needs exactly one of jwks, jwks_file, jwks_url")
    jwks = raw.get("jwks")
    if jwks is not None and not (isinstance(jwks, Mapping) and isinstance(jwks.get("keys"), list)):
        raise ClientsFileError(f"{where}.jwks must be a JWKS object with a keys array")
    jwks_file = raw.get("jwks_file")
    if jwks_file is not None:
        jwks_file = os.path.join(base_dir, str(jwks_file))
        if not os.path.isfile(jwks_file):
            raise ClientsFileError(f"{where}.jwks_file: no such file")
    algorithms = _strings(raw.get("algorithms", []), f"{where}.algorithms")
    bad = sorted(set(algorithms) - set(PERMITTED_ALGORITHMS))
    if bad:
        raise ClientsFileError(f"{where}.algorithms: not permitted: {', '.join(bad)}")
    tenant = raw.get("tenant")
    if tenant is not None and (not isinstance(tenant, str) or not tenant):
        raise ClientsFileError(f"{where}.tenant must be a non-empty string")
    flag = raw.get("feedback_accepts_service_aud", False)
    if not isinstance(flag, bool):
        raise ClientsFileError(f"{where}.feedback_accepts_service_aud must be true or false")
    return TrustedClient(
        iss=raw["iss"], jwks=jwks, jwks_file=jwks_file,
        jwks_url=(check_fetch_url(raw["jwks_url"], f"{where}.jwks_url")
                  if raw.get("jwks_url") is not None else None),
        jku_allowlist=tuple(check_fetch_url(u, f"{where}.jku_allowlist")
                            for u in _strings(raw.get("jku_allowlist", []),
                                              f"{where}.jku_allowlist")),
        tenant=tenant, algorithms=algorithms,
        extra_audiences=_strings(raw.get("extra_audiences", []), f"{where}.extra_audiences"),
        feedback_accepts_service_aud=flag)


def parse_clients(data: Any, base_dir: str = ".") -> dict[str, TrustedClient]:
    """Validate a whole clients document; return clients by issuer."""
    if not isinstance(data, Mapping) or not isinstance(data.get("clients"), list):
        raise ClientsFileError('the file must be an object {"clients": [...]}')
    clients: dict[str, TrustedClient] = {}
    for i, raw in enumerate(data["clients"]):
        client = parse_client(raw, f"clients[{i}]", base_dir)
        if client.iss in clients:
            raise ClientsFileError(f"clients[{i}].iss repeats an earlier issuer")
        clients[client.iss] = client
    return clients


def load_clients_file(path: str) -> dict[str, TrustedClient]:
    """Read and validate a clients file; raise ClientsFileError naming the problem."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ClientsFileError(f"{path}: cannot read ({type(exc).__name__})") from None
    try:
        return parse_clients(data, os.path.dirname(os.path.abspath(path)))
    except ClientsFileError as exc:
        raise ClientsFileError(f"{path}: {exc}") from None


class ClientRegistry:
    """The trusted clients, re-read when the file changes (a bad edit keeps the old list)."""

    def __init__(self, path: str, *, required: bool = True) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._clients: dict[str, TrustedClient] = {}
        if required or os.path.isfile(path):
            self._clients = load_clients_file(path)
            self._stamp = self._stat()

    def _stat(self) -> tuple[float, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime, st.st_size)

    def get(self, iss: str) -> TrustedClient | None:
        """Return the client trusted for this issuer, if any."""
        stamp = self._stat()
        if stamp is not None and stamp != self._stamp:
            try:
                self._clients = load_clients_file(self.path)
                log.info("trusted clients reloaded: %d issuer(s)", len(self._clients))
            except ClientsFileError as exc:
                log.error("trusted clients file not reloaded: %s", exc)
            self._stamp = stamp
        return self._clients.get(iss)
