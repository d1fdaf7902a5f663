"""Signing keys: inline, file and URL JWKS sources; URL sources cached with a TTL.

An unknown ``kid`` triggers at most one refresh per source per refresh interval, so a
stream of bad tokens cannot turn the service into a JWKS-fetching amplifier.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import requests

log = logging.getLogger(__name__)

Jwk = Mapping[str, Any]
MAX_JWKS_BYTES = 256_000
# Keys fetched from a URL are dropped this long after the last successful fetch, even if
# the JWKS endpoint is down, so a revoked key cannot outlive an outage (docs/security.md).
# A module constant for now; it could become a setting (CDS_JWKS_MAX_AGE).
MAX_KEY_AGE = 24 * 3600.0


class JwksFetcher(Protocol):
    """Port: fetch a JWKS document from a URL within a timeout."""

    def __call__(self, url: str, timeout: float) -> Mapping[str, Any]: ...


class JwksUnavailable(Exception):
    """A JWKS could not be fetched or parsed."""


def http_fetch(url: str, timeout: float) -> Mapping[str, Any]:
    """Fetch a JWKS over HTTP(S): no redirects, a size cap, connect and read timeouts."""
    try:
        with requests.get(url, timeout=(timeout, timeout), allow_redirects=False, stream=True,
                          headers={"Accept": "application/json"}) as resp:
            if resp.status_code != 200:
                raise JwksUnavailable(f"HTTP {resp.status_code}")
            body = resp.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise JwksUnavailable(type(exc).__name__) from None
    if len(body) > MAX_JWKS_BYTES:
        raise JwksUnavailable("JWKS too large")
    try:
        data = json.loads(body)
    except ValueError:
        raise JwksUnavailable("JWKS is not JSON") from None
    if not isinstance(data, Mapping):
        raise JwksUnavailable("JWKS is not an object")
    return data


def jwks_keys(data: Mapping[str, Any]) -> list[Jwk]:
    """Return the key objects of a JWKS document."""
    keys = data.get("keys")
    return [k for k in keys if isinstance(k, Mapping)] if isinstance(keys, list) else []


class KeySource(Protocol):
    """Where a client's keys come from."""

    def keys(self) -> list[Jwk]:
        """Return the current keys."""

    def refresh(self) -> bool:
        """Try to get newer keys; return True if a refresh was made."""


class StaticKeys:
    """An inline JWKS from the clients file."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = jwks_keys(jwks)

    def keys(self) -> list[Jwk]:
        """Return the inline keys."""
        return self._keys

    def refresh(self) -> bool:
        """Inline keys never change."""
        return False


class FileKeys:
    """A JWKS file, re-read when it changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: float | None = None
        self._keys: list[Jwk] = []

    def keys(self) -> list[Jwk]:
        """Return the file's keys (re-read if the file changed)."""
        try:
            stamp = os.stat(self.path).st_mtime
            if stamp != self._stamp:
                with open(self.path, encoding="utf-8") as fh:
                    self._keys = jwks_keys(json.load(fh))
                self._stamp = stamp
        except (OSError, ValueError) as exc:
            log.error("JWKS file unreadable: %s", type(exc).__name__)
        return self._keys

    def refresh(self) -> bool:
        """Files are re-read on change already."""
        return False


class UrlKeys:
    """A JWKS URL, cached for ``ttl`` seconds (never past ``max_age``); rate-limited refresh."""

    def __init__(self, url: str, fetch: JwksFetcher, *, ttl: float, min_interval: float,
                 timeout: float, clock: Callable[[], float] = time.monotonic,
                 max_age: float = MAX_KEY_AGE) -> None:
        self.url, self.fetch, self.ttl, self.max_age = url, fetch, min(ttl, max_age), max_age
        self.min_interval, self.timeout, self.clock = min_interval, timeout, clock
        self._keys: list[Jwk] = []
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    def _load(self) -> bool:
        self._attempted_at = self.clock()
        try:
            self._keys = jwks_keys(self.fetch(self.url, self.timeout))
        except JwksUnavailable as exc:
            log.warning("JWKS fetch failed: %s", exc)
            return False
        self._fetched_at = self._attempted_at
        return True

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_interval

    def keys(self) -> list[Jwk]:
        """Return the cached keys, fetching when the cache is empty or older than the TTL.

        A failed fetch keeps the previous keys, and is not retried within the interval, until
        they are ``max_age`` old: then no key is trusted until a fetch succeeds.
        """
        with self._lock:
            now = self.clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.ttl
            if stale and self._may_fetch(now):
                self._load()
            if self._keys and self._fetched_at is not None and (
                    self.clock() - self._fetched_at >= self.max_age):
                log.error("JWKS keys dropped: no successful fetch within the maximum age")
                self._keys = []
            return self._keys

    def refresh(self) -> bool:
        """Fetch again for an unknown kid, unless a fetch happened within the interval."""
        with self._lock:
            return self._may_fetch(self.clock()) and self._load()


class KeyCache:
    """One UrlKeys per URL, shared by every client that names it."""

    def __init__(self, fetch: JwksFetcher, *, ttl: float, min_interval: float, timeout: float,
                 clock: Callable[[], float] = time.monotonic,
                 max_age: float = MAX_KEY_AGE) -> None:
        self.fetch, self.ttl, self.min_interval = fetch, ttl, min_interval
        self.timeout, self.clock, self.max_age = timeout, clock, max_age
        self._urls: dict[str, UrlKeys] = {}
        self._files: dict[str, FileKeys] = {}
        self._lock = threading.Lock()

    def url(self, url: str) -> UrlKeys:
        """Return the cached source for a URL."""
        with self._lock:
            if url not in self._urls:
                self._urls[url] = UrlKeys(url, self.fetch, ttl=self.ttl,
                                          min_interval=self.min_interval,
                                          timeout=self.timeout, clock=self.clock,
                                          max_age=self.max_age)
            return self._urls[url]

    def file(self, path: str) -> FileKeys:
        """Return the source for a JWKS file."""
        with self._lock:
            return self._files.setdefault(path, FileKeys(path))
