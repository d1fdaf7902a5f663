"""Errors the mappers raise; the HTTP layer turns them into 4xx responses."""

from __future__ import annotations


class PrefetchShapeError(Exception):
    """A prefetch key holds the wrong kind of JSON (the HTTP layer answers 400)."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"prefetch {key!r}: {detail}")
        self.key = key
        self.detail = detail
