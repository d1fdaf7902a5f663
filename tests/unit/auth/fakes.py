"""Hand-written fakes for the auth ports: a clock, a JWKS fetcher, a replay store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.auth.jwks import JwksUnavailable


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class FakeJwks:
    """Serves JWKS documents by URL and counts fetches; ``down`` makes every fetch fail."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.documents = dict(documents or {})
        self.fetches: list[tuple[str, float]] = []
        self.down = False

    def __call__(self, url: str, timeout: float) -> Mapping[str, Any]:
        self.fetches.append((url, timeout))
        if self.down or url not in self.documents:
            raise JwksUnavailable("unreachable")
        return self.documents[url]


class FakeReplayStore:
    """Remembers (iss, jti) pairs in memory (fine for one process: the unit tests)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def first_use(self, iss: str, jti: str, expires_at: int) -> bool:
        if (iss, jti) in self.seen:
            return False
        self.seen[(iss, jti)] = expires_at
        return True
