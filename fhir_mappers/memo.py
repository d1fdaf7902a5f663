"""Bounded per-process memos keyed on content, so identical input is mapped once.

A key is the exact JSON bytes of the input (orjson), or their 128-bit BLAKE2b digest for
whole resources and long elements, so a changed resource never finds an old entry: nothing
here can go stale, it can only be evicted. Values are immutable mapping results (frozen
dataclasses, tuples, validated element models that are never changed after validation);
never request bodies, never tokens. Each memo holds at most ``size`` entries (least
recently used evicted first).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import orjson

MISSING: Any = object()


class BoundedMemo:
    """A thread-safe LRU mapping of at most ``size`` entries, with hit and miss counts."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.enabled = size > 0
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """Return the value stored under ``key``, or ``MISSING``."""
        if key is None or not self.enabled:
            return MISSING
        with self._lock:
            value = self._data.get(key, MISSING)
            if value is MISSING:
                self.misses += 1
            else:
                self.hits += 1
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        """Store a value, evicting the least recently used entry when full."""
        if key is None or not self.enabled:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counts."""
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


# Keys longer than this are replaced by their digest, so memory is bounded by the entry count
# whatever the size of the input (a 1 MB code.text must not become a 1 MB key).
MAX_RAW_KEY = 256


def _json(data: Any) -> bytes | None:
    try:
        return orjson.dumps(data)
    except (TypeError, ValueError):  # Decimal, datetime, huge ints: not cached
        return None


def element_key(data: Any) -> bytes | None:
    """Return the exact JSON bytes of an element (a digest when long), None if not plain JSON."""
    raw = _json(data)
    if raw is None or len(raw) <= MAX_RAW_KEY:
        return raw
    return b"#" + hashlib.blake2b(raw, digest_size=16).digest()  # JSON never starts with "#"


def tagged(tag: Any, data: Any) -> tuple[Any, bytes] | None:
    """Return ``(tag, exact JSON bytes)`` as a memo key, or None when there is no key."""
    raw = element_key(data)
    return None if raw is None else (tag, raw)


def resource_key(data: Any) -> bytes | None:
    """Return the 128-bit BLAKE2b digest of a resource's exact JSON bytes (None: no key)."""
    raw = _json(data)
    return None if raw is None else hashlib.blake2b(raw, digest_size=16).digest()


# One Observation read (everything that does not depend on the evaluation time).
OBSERVATIONS = BoundedMemo("observations", 20_000)
# Validated R4B elements and the Measurement values they give (small, highly repeated).
ELEMENTS = BoundedMemo("elements", 20_000)
MEMOS = (OBSERVATIONS, ELEMENTS)


def clear_all() -> None:
    """Empty every memo (benchmarks measure cold requests; tests compare with cold runs)."""
    for memo in MEMOS:
        memo.clear()


def set_enabled(enabled: bool) -> None:
    """Turn every memo on or off (off: each call maps from scratch), clearing them."""
    for memo in MEMOS:
        memo.enabled = enabled and memo.size > 0
    clear_all()
