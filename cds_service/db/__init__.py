"""The database: one SQLAlchemy engine per app, Alembic migrations, readiness."""

from __future__ import annotations

import functools
import logging
from importlib import resources
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from cds_service.settings import Settings

log = logging.getLogger(__name__)
EXTENSION = "crs_cds_db"


def alembic_config() -> Config:
    """Return an Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("cds_service") / "migrations"))
    return cfg


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the single writer
    cur.execute("PRAGMA busy_timeout=15000")  # writers from other processes wait, not fail
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@functools.cache
def head_revision() -> str | None:
    """Return the newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    """An engine for the configured URL, with migration and health helpers."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            # A small pool per process: opening a connection and its PRAGMAs on every request
            # cost about a third of a worker's time (docs/performance.md). Engines are made
            # after gunicorn forks; `crs-cds serve` disposes the master's before forking.
            self.engine: Engine = create_engine(url, pool_size=2, max_overflow=6,
                                                connect_args={"timeout": 15})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                        pool_timeout=5, connect_args={"connect_timeout": 5})

    @property
    def dialect(self) -> str:
        """Return the dialect name (sqlite or postgresql)."""
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Apply every pending migration."""
        cfg = alembic_config()
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        """Return the schema revision stored in the database."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def at_head(self) -> bool:
        """Return True when the database answers and its schema is at the newest revision."""
        try:
            with self.engine.connect() as conn:
                current = conn.scalar(text("SELECT version_num FROM alembic_version"))
        except SQLAlchemyError as exc:
            log.warning("database check failed: %s", type(exc).__name__)
            return False
        return bool(current == head_revision())

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def init_app(app: Flask, settings: Settings) -> Database:
    """Create the app's database; migrate an SQLite file at start-up (PostgreSQL: `db upgrade`)."""
    db = Database(settings.database_url)
    app.extensions[EXTENSION] = db
    if db.dialect == "sqlite":
        try:
            db.upgrade()
        except (SQLAlchemyError, OSError) as exc:
            log.error("database migration failed at start-up: %s; /readyz reports it",
                      type(exc).__name__)
    elif not db.at_head():
        log.error("the database schema is not at the newest revision: run `crs-cds db upgrade`")
    db.dispose()  # no connection crosses a gunicorn fork
    return db


def get_db(app: Flask | None = None) -> Database:
    """Return the database of the given or current app."""
    return cast(Database, (app or current_app).extensions[EXTENSION])
