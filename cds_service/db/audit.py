"""The card audit: which card was issued, why, under which rule data (docs/audit.md).

Kept: identifiers we generated, the criteria and categorical result, the rule-data version
and a keyed hash of the patient id. Never kept: raw identifiers, values, times of
observations, card text (its summary and detail quote clinical values).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from cds_service.db import Database
from cds_service.db.schema import issued_card, issued_suggestion
from cds_service.settings import Settings

log = logging.getLogger(__name__)

ASSESSMENT = "crs-cds.assessment"
ASSESSMENTS = "crs-cds.assessments"
KEY_FILE = "audit-hash-key"
MIN_KEY_BYTES = 32
KEY_READ_ATTEMPTS = 10  # x 50 ms: a short key is re-read briefly, then refused
# The members of an assessment that explain a card without quoting clinical data.
RESULT_MEMBERS = ("criteria", "met", "grade", "peakGrade")


def key_file_for(settings: Settings) -> Path:
    """Return the generated key's file, in the (git-ignored) instance folder."""
    return Path(settings.instance_dir) / KEY_FILE


def load_hash_key(settings: Settings) -> bytes:
    """Return the patient-hash key: the setting, else (SQLite only) a generated, kept key."""
    if settings.audit_hash_key:
        return settings.audit_hash_key.encode()
    if not settings.is_sqlite:
        raise ValueError("CDS_AUDIT_HASH_KEY is required with PostgreSQL")
    path = key_file_for(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _publish_key(path)
    return _read_key(path)


def _publish_key(path: Path) -> None:
    """Write a new key to a temporary file, then link it in: the name appears complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{KEY_FILE}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails if another worker published first
        except FileExistsError:
            return  # that worker's key wins; it is read below
        log.warning("generated a patient-hash key in %s (development); set "
                    "CDS_AUDIT_HASH_KEY in production", path.name)
    finally:
        os.unlink(tmp)


def _read_key(path: Path) -> bytes:
    """Read the key file; refuse a key under MIN_KEY_BYTES after a brief retry."""
    for attempt in range(KEY_READ_ATTEMPTS):
        key = path.read_bytes().strip()
        if len(key) >= MIN_KEY_BYTES:
            return key
        if attempt + 1 < KEY_READ_ATTEMPTS:
            time.sleep(0.05)
    raise ValueError(f"{path.name} holds no usable key (under {MIN_KEY_BYTES} bytes): "
                     "delete it or set CDS_AUDIT_HASH_KEY")


@dataclass(frozen=True)
class PatientHasher:
    """HMAC-SHA256 of patient ids under a secret key, and a short id of that key."""

    key: bytes

    def __call__(self, patient_id: str) -> str:
        """Return the keyed hash of a patient id (64 hex digits)."""
        return hmac.new(self.key, patient_id.encode(), hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        """Return a fingerprint that tells rotated keys apart without revealing them."""
        return hashlib.sha256(b"crs-cds audit key id\0" + self.key).hexdigest()[:12]


def audit_result(assessment: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of an assessment the audit keeps: criteria, result, evidence kinds."""
    out = {k: assessment[k] for k in RESULT_MEMBERS if k in assessment}
    kinds = sorted({str(e.get("item")) for e in assessment.get("evidence", ())
                    if isinstance(e, Mapping) and e.get("item")})
    if kinds:
        out["evidenceItems"] = kinds
    missing = assessment.get("missing")
    if isinstance(missing, list) and missing:
        out["missing"] = [str(m)[:80] for m in missing]
    return out


def card_assessments(card: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the assessments a card carries in its extension (one or a list)."""
    ext = card.get("extension") or {}
    found: list[Any] = []
    if isinstance(ext.get(ASSESSMENT), Mapping):
        found.append(ext[ASSESSMENT])
    if isinstance(ext.get(ASSESSMENTS), list):
        found.extend(ext[ASSESSMENTS])
    return [a for a in found if isinstance(a, Mapping)]


@dataclass(frozen=True)
class IssueContext:
    """What the audit keeps about the call that issued cards."""

    service_id: str
    hook_instance: str
    patient_id: str
    rules_version: str
    client_iss: str | None
    request_id: str
    issued_at: datetime


class AuditLog:
    """Records issued cards and their suggestions in one transaction."""

    def __init__(self, db: Database, hasher: PatientHasher) -> None:
        self.db = db
        self.hasher = hasher

    def rows(self, cards: Sequence[Mapping[str, Any]],
             ctx: IssueContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return the card and suggestion rows for the issued cards."""
        patient_hash = self.hasher(ctx.patient_id)
        card_rows: list[dict[str, Any]] = []
        suggestion_rows: list[dict[str, Any]] = []
        for card in cards:
            if not isinstance(card.get("uuid"), str):
                continue  # nothing can refer to a card without a uuid
            results = [audit_result(a) for a in card_assessments(card)]
            card_rows.append({
                "card_uuid": card["uuid"], "service_id": ctx.service_id,
                "hook_instance": ctx.hook_instance[:128], "issued_at": ctx.issued_at,
                "indicator": str(card.get("indicator", ""))[:16],
                "criteria": ",".join(sorted({str(r.get("criteria")) for r in results}))[:255]
                or "unknown",
                "result": results, "rules_version": ctx.rules_version[:64],
                "patient_hash": patient_hash, "hash_key_id": self.hasher.key_id,
                "client_iss": ctx.client_iss, "request_id": ctx.request_id,
            })
            suggestion_rows.extend(_suggestion_rows(card))
        return card_rows, suggestion_rows

    def record(self, cards: Sequence[Mapping[str, Any]], ctx: IssueContext) -> int:
        """Store the cards; return how many were recorded."""
        card_rows, suggestion_rows = self.rows(cards, ctx)
        if not card_rows:
            return 0
        with self.db.engine.begin() as conn:
            conn.execute(insert(issued_card), card_rows)
            if suggestion_rows:
                conn.execute(insert(issued_suggestion), suggestion_rows)
        return len(card_rows)


def _suggestion_rows(card: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for position, suggestion in enumerate(card.get("suggestions") or ()):
        if isinstance(suggestion, Mapping) and isinstance(suggestion.get("uuid"), str):
            yield {"suggestion_uuid": suggestion["uuid"], "card_uuid": card["uuid"],
                   "position": position}
