"""JWKS sources: TTL cache, one rate-limited refresh for an unknown kid, real HTTP fetch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cds_service.auth.jwks import MAX_KEY_AGE, JwksUnavailable, KeyCache, UrlKeys, http_fetch
from tests.unit.auth.fakes import FakeClock, FakeJwks

URL = "https://ehr.test/jwks.json"
OLD = {"keys": [{"kty": "EC", "kid": "old"}]}
NEW = {"keys": [{"kty": "EC", "kid": "old"}, {"kty": "EC", "kid": "new"}]}


def source(fetch: FakeJwks, clock: FakeClock) -> UrlKeys:
    """A URL source with a 300 s TTL and a 30 s refresh interval."""
    return UrlKeys(URL, fetch, ttl=300, min_interval=30, timeout=2.0, clock=clock)


def test_keys_are_cached_for_the_ttl_with_the_timeout_passed() -> None:
    fetch, clock = FakeJwks({URL: OLD}), FakeClock()
    keys = source(fetch, clock)
    assert [k["kid"] for k in keys.keys()] == ["old"]  # noqa: SIM118 - not a dict
    clock.advance(299)
    keys.keys()
    assert fetch.fetches == [(URL, 2.0)]
    clock.advance(2)
    keys.keys()
    assert len(fetch.fetches) == 2


def test_unknown_kid_refresh_is_rate_limited() -> None:
    fetch, clock = FakeJwks({URL: OLD}), FakeClock()
    keys = source(fetch, clock)
    keys.keys()
    clock.advance(31)
    fetch.documents[URL] = NEW
    assert keys.refresh() is True
    assert [k["kid"] for k in keys.keys()] == ["old", "new"]  # noqa: SIM118 - not a dict
    assert keys.refresh() is False  # a flood of unknown kids: no second fetch in 30 s
    clock.advance(10)
    assert keys.refresh() is False
    assert len(fetch.fetches) == 2


def test_failed_fetch_keeps_the_old_keys_and_is_not_hammered() -> None:
    fetch, clock = FakeJwks({URL: OLD}), FakeClock()
    keys = source(fetch, clock)
    keys.keys()
    fetch.down = True
    clock.advance(301)
    assert [k["kid"] for k in keys.keys()] == ["old"]  # noqa: SIM118 - not a dict
    keys.keys()
    assert len(fetch.fetches) == 2


def test_cached_keys_expire_at_the_maximum_age_while_the_endpoint_is_down() -> None:
    fetch, clock = FakeJwks({URL: OLD}), FakeClock()
    keys = UrlKeys(URL, fetch, ttl=300, min_interval=30, timeout=2.0, clock=clock,
                   max_age=3600)
    keys.keys()
    fetch.down = True
    clock.advance(3599)
    assert [k["kid"] for k in keys.keys()] == ["old"]  # noqa: SIM118 - not a dict
    clock.advance(1)
    assert keys.keys() == []  # a revoked key cannot outlive the outage
    assert keys.refresh() is False
    assert keys.keys() == []
    fetch.down = False
    clock.advance(30)
    assert [k["kid"] for k in keys.keys()] == ["old"]  # noqa: SIM118 - not a dict


def test_default_maximum_age_is_a_day_and_caps_the_ttl() -> None:
    fetch, clock = FakeJwks({URL: OLD}), FakeClock()
    keys = KeyCache(fetch, ttl=10 * 86400, min_interval=30, timeout=1.0, clock=clock).url(URL)
    assert MAX_KEY_AGE == 86400
    keys.keys()
    clock.advance(86400)
    keys.keys()
    assert len(fetch.fetches) == 2  # a TTL over the maximum age is capped to it
    fetch.down = True
    clock.advance(86400)
    assert keys.keys() == []


def test_cache_shares_one_source_per_url() -> None:
    cache = KeyCache(FakeJwks({URL: OLD}), ttl=300, min_interval=30, timeout=1.0)
    assert cache.url(URL) is cache.url(URL)


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes, float]] = {}

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        status, body, delay = self.routes.get(self.path, (404, b"", 0.0))
        time.sleep(delay)
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jwks_server() -> Iterator[str]:
    """A JWKS server on 127.0.0.1 (the real port behind http_fetch)."""
    _Handler.routes = {
        "/jwks.json": (200, json.dumps(NEW).encode(), 0.0),
        "/slow.json": (200, json.dumps(NEW).encode(), 1.5),
        "/moved.json": (302, b"", 0.0),
        "/huge.json": (200, b"{" + b" " * 300_000 + b"}", 0.0),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_fetch_reads_a_jwks(jwks_server: str) -> None:
    assert http_fetch(jwks_server + "/jwks.json", 2.0) == NEW


@pytest.mark.parametrize("path", ["/slow.json", "/moved.json", "/huge.json", "/missing.json"])
def test_http_fetch_fails_closed(jwks_server: str, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(JwksUnavailable):
        http_fetch(jwks_server + path, 0.3)
    assert time.monotonic() - started < 1.4  # the timeout, not the server, ends a slow fetch
