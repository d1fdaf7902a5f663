"""Durable feedback: all items of a request in one transaction, exact repeats once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite

from cds_service.db import Database
from cds_service.db.schema import feedback, issued_card


@dataclass(frozen=True)
class FeedbackItem:
    """One validated Feedback object (CDS Hooks 2.0 §Feedback), timestamps in UTC."""

    card: str
    outcome: str
    outcome_at: datetime
    accepted: tuple[str, ...] = ()  # sorted acceptedSuggestions[].id
    override_code: str | None = None
    override_system: str | None = None
    override_display: str | None = None
    override_comment: str | None = None

    def dedupe_key(self, service_id: str) -> str:
        """Return the key under which exact repeats are stored once (cds-hooks.md §6)."""
        parts = [service_id, self.card, self.outcome, list(self.accepted),
                 self.override_code, self.override_system, self.override_display,
                 self.override_comment, self.outcome_at.isoformat()]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class FeedbackStore:
    """Stores feedback items; flags those for cards this service never issued."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _insert(self) -> Insert:
        dialect: Any = postgresql if self.db.dialect == "postgresql" else sqlite
        stmt: Insert = dialect.insert(feedback).on_conflict_do_nothing(
            index_elements=["dedupe_key"])
        return stmt

    def store(self, service_id: str, items: Sequence[FeedbackItem], *, client_iss: str | None,
              received_at: datetime) -> int:
        """Commit every item or none; return how many new rows were written."""
        rows: dict[str, dict[str, Any]] = {}
        for item in items:
            key = item.dedupe_key(service_id)
            rows.setdefault(key, {
                "dedupe_key": key, "service_id": service_id, "card_uuid": item.card,
                "outcome": item.outcome, "accepted_suggestions": list(item.accepted),
                "override_code": item.override_code, "override_system": item.override_system,
                "override_display": item.override_display,
                "override_comment": item.override_comment, "outcome_at": item.outcome_at,
                "received_at": received_at, "client_iss": client_iss,
            })
        cards = sorted({item.card for item in items})
        with self.db.engine.begin() as conn:
            issued = set(conn.scalars(select(issued_card.c.card_uuid).where(
                issued_card.c.card_uuid.in_(cards), issued_card.c.service_id == service_id)))
            for row in rows.values():
                row["orphan"] = row["card_uuid"] not in issued
            result = conn.execute(self._insert(), list(rows.values()))
        return max(result.rowcount, 0)

    def count(self) -> int:
        """Return the number of stored feedback rows."""
        with self.db.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(feedback)) or 0)
