"""Alembic environment: runs on the connection that ``cds_service.db`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from cds_service.db.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations() -> None:
    """Migrate on the given connection, or on `sqlalchemy.url` when run by the alembic CLI."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `crs-cds db upgrade`")
run_migrations()
