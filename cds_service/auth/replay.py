"""The JWT replay store: an (iss, jti) pair is accepted once within its lifetime.

Shared by every worker process and instance: the database, or Redis when configured;
never per-process memory.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Insert, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from cds_service.db import Database
from cds_service.db.schema import jwt_replay
from cds_service.errors import CdsError

log = logging.getLogger(__name__)
PURGE_EVERY = 500  # calls between purges of expired entries, per process


class ReplayStoreUnavailable(CdsError):
    """The replay store cannot be reached, so no token can be accepted (503)."""

    status = 503
    code = "auth-store-unavailable"


class ReplayStore(Protocol):
    """Port: remember a token id until it expires."""

    def first_use(self, iss: str, jti: str, expires_at: int) -> bool:
        """Store (iss, jti) until ``expires_at`` (epoch s); return False if already there."""


class SqlReplayStore:
    """Replay store in the ``jwt_replay`` table (a unique key decides concurrent inserts)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._calls = 0

    def _insert(self, iss: str, jti: str, expires_at: int) -> Insert:
        dialect: Any = postgresql if self.db.dialect == "postgresql" else sqlite
        stmt: Insert = dialect.insert(jwt_replay).values(
            iss=iss, jti=jti, expires_at=expires_at).on_conflict_do_nothing().returning(
            jwt_replay.c.jti)
        return stmt

    def first_use(self, iss: str, jti: str, expires_at: int) -> bool:
        """Insert the pair; an old entry that has expired is replaced."""
        now = int(self.clock())
        self._calls += 1
        try:
            with self.db.engine.begin() as conn:
                if self._calls % PURGE_EVERY == 0:
                    conn.execute(delete(jwt_replay).where(jwt_replay.c.expires_at < now))
                if conn.execute(self._insert(iss, jti, expires_at)).first() is not None:
                    return True  # RETURNING: portable, where rowcount is not (psycopg 3)
                gone = conn.execute(delete(jwt_replay).where(
                    jwt_replay.c.iss == iss, jwt_replay.c.jti == jti,
                    jwt_replay.c.expires_at < now).returning(jwt_replay.c.jti)).first()
                return gone is not None and conn.execute(
                    self._insert(iss, jti, expires_at)).first() is not None
        except SQLAlchemyError as exc:
            log.error("replay store failed: %s", type(exc).__name__)
            raise ReplayStoreUnavailable("the token replay store is unavailable") from None


class RedisReplayStore:
    """Replay store in Redis: SET NX with an expiry, so entries clean themselves up."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.clock = clock

    def first_use(self, iss: str, jti: str, expires_at: int) -> bool:
        """Set the key only if absent."""
        import redis

        digest = hashlib.sha256(f"{iss}\0{jti}".encode()).hexdigest()
        ttl = max(1, expires_at - int(self.clock()))
        try:
            return bool(self.redis.set(f"crs-cds:jti:{digest}", b"1", nx=True, ex=ttl))
        except redis.RedisError as exc:
            log.error("replay store failed: %s", type(exc).__name__)
            raise ReplayStoreUnavailable("the token replay store is unavailable") from None

    def close(self) -> None:
        """Close the connection pool."""
        self.redis.close()
