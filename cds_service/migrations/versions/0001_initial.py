"""Feedback, card audit and JWT replay tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the four tables."""
    op.create_table(
        "issued_card",
        sa.Column("card_uuid", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("hook_instance", sa.String(128), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("criteria", sa.String(255), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(64), nullable=False),
        sa.Column("patient_hash", sa.String(64), nullable=False),
        sa.Column("hash_key_id", sa.String(16), nullable=False),
        sa.Column("client_iss", sa.String(512), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("card_uuid", name="pk_issued_card"),
    )
    op.create_index("ix_issued_card_service_issued", "issued_card", ["service_id", "issued_at"])
    op.create_index("ix_issued_card_patient_hash", "issued_card", ["patient_hash"])
    op.create_table(
        "issued_suggestion",
        sa.Column("suggestion_uuid", sa.String(64), nullable=False),
        sa.Column("card_uuid", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["card_uuid"], ["issued_card.card_uuid"],
                                name="fk_issued_suggestion_card_uuid_issued_card"),
        sa.PrimaryKeyConstraint("suggestion_uuid", name="pk_issued_suggestion"),
    )
    op.create_index("ix_issued_suggestion_card", "issued_suggestion", ["card_uuid"])
    op.create_table(
        "feedback",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("card_uuid", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=False),
        sa.Column("override_code", sa.String(256), nullable=True),
        sa.Column("override_system", sa.String(512), nullable=True),
        sa.Column("override_display", sa.String(512), nullable=True),
        sa.Column("override_comment", sa.Text(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("orphan", sa.Boolean(), nullable=False),
        sa.Column("client_iss", sa.String(512), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("dedupe_key", name="uq_feedback_dedupe_key"),
    )
    op.create_index("ix_feedback_card", "feedback", ["card_uuid"])
    op.create_table(
        "jwt_replay",
        sa.Column("iss", sa.String(512), nullable=False),
        sa.Column("jti", sa.String(256), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("iss", "jti", name="pk_jwt_replay"),
    )
    op.create_index("ix_jwt_replay_expires", "jwt_replay", ["expires_at"])


def downgrade() -> None:
    """Drop the four tables."""
    for index, table in (("ix_jwt_replay_expires", "jwt_replay"),
                         ("ix_feedback_card", "feedback"),
                         ("ix_issued_suggestion_card", "issued_suggestion"),
                         ("ix_issued_card_patient_hash", "issued_card"),
                         ("ix_issued_card_service_issued", "issued_card")):
        op.drop_index(index, table_name=table)
    for table in ("jwt_replay", "feedback", "issued_suggestion", "issued_card"):
        op.drop_table(table)
