"""Table definitions of the feedback, audit and replay store (docs/audit.md).

The Alembic migrations in ``cds_service/migrations`` create exactly these tables; a test
compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# An auto-increment key that is 64-bit on PostgreSQL and a ROWID alias on SQLite.
RowId = BigInteger().with_variant(Integer(), "sqlite")

issued_card = Table(
    "issued_card", metadata,
    Column("card_uuid", String(64), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("hook_instance", String(128), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("criteria", String(255), nullable=False),
    Column("result", JSON, nullable=False),
    Column("rules_version", String(64), nullable=False),
    Column("patient_hash", String(64), nullable=False),
    Column("hash_key_id", String(16), nullable=False),
    Column("client_iss", String(512)),
    Column("request_id", String(64), nullable=False),
    Index("ix_issued_card_service_issued", "service_id", "issued_at"),
    Index("ix_issued_card_patient_hash", "patient_hash"),
)

issued_suggestion = Table(
    "issued_suggestion", metadata,
    Column("suggestion_uuid", String(64), primary_key=True),
    Column("card_uuid", String(64), ForeignKey("issued_card.card_uuid"), nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_issued_suggestion_card", "card_uuid"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("service_id", String(64), nullable=False),
    Column("card_uuid", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", JSON, nullable=False),
    Column("override_code", String(256)),
    Column("override_system", String(512)),
    Column("override_display", String(512)),
    Column("override_comment", Text),
    Column("outcome_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("orphan", Boolean, nullable=False),
    Column("client_iss", String(512)),
    Index("ix_feedback_card", "card_uuid"),
)

jwt_replay = Table(
    "jwt_replay", metadata,
    Column("iss", String(512), primary_key=True),
    Column("jti", String(256), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),  # epoch seconds: exp + leeway
    Index("ix_jwt_replay_expires", "expires_at"),
)
