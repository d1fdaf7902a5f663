"""Storage reachability (the full feedback and audit store lands with SQLAlchemy later)."""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import urlparse

log = logging.getLogger(__name__)


def sqlite_path(database_url: str) -> str:
    """Return the file path of an sqlite:///PATH URL (relative to the working directory)."""
    parsed = urlparse(database_url)
    path = parsed.path[1:] if parsed.path.startswith("/") else parsed.path
    return path or ":memory:"


def reachable(database_url: str) -> bool:
    """Return True when the configured database answers a trivial query."""
    if not database_url.startswith("sqlite:"):
        return False  # PostgreSQL support arrives with the trust-and-persistence issue
    try:
        with sqlite3.connect(sqlite_path(database_url), timeout=1.0) as conn:
            conn.execute("SELECT 1").fetchone()
        conn.close()
    except sqlite3.Error as exc:
        log.warning("storage check failed: %s", type(exc).__name__)
        return False
    return True
