"""The database on SQLite and the real PostgreSQL: migrations, audit rows, replay store."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import stat
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import select

from cds_service import close_app, create_app
from cds_service.auth.replay import ReplayStoreUnavailable, SqlReplayStore
from cds_service.cli import main
from cds_service.db import Database, audit, get_db
from cds_service.db.audit import (
    AuditLog,
    IssueContext,
    PatientHasher,
    key_file_for,
    load_hash_key,
)
from cds_service.db.schema import issued_card, issued_suggestion, metadata
from cds_service.settings import Settings, SettingsError
from tests.unit.auth.fakes import FakeClock

PATIENT = "patient-7f3a-unique"


def card(grade: int = 2, suggestions: int = 2) -> dict[str, Any]:
    """A card shaped like the CRS card: uuid, summary with values, assessment extension."""
    out: dict[str, Any] = {
        "uuid": str(uuid.uuid4()), "indicator": "warning",
        "summary": "CRS grade 2 (ASTCT): 39.4 °C, 4 L/min O2",
        "extension": {"crs-cds.assessment": {
            "criteria": "astct-2019-crs", "met": True, "grade": grade, "peakGrade": grade,
            "onset": "2026-11-20T08:00:00Z",
            "evidence": [{"item": "temperature", "value": 39.4, "unit": "Cel",
                          "time": "2026-11-21T09:00:00Z", "reference": "Observation/t1"},
                         {"item": "oxygen-support", "value": 4, "unit": "L/min",
                          "time": "2026-11-21T09:05:00Z", "reference": "Observation/o1"}],
            "missing": ["vasopressors"]}},
    }
    if suggestions:
        out["suggestions"] = [{"label": f"Tocilizumab {i}", "uuid": str(uuid.uuid4())}
                              for i in range(suggestions)]
    return out


def context(**changes: Any) -> IssueContext:
    base: dict[str, Any] = {
        "service_id": "crs-patient-view", "hook_instance": str(uuid.uuid4()),
        "patient_id": PATIENT, "rules_version": "2026.11-test", "client_iss": None,
        "request_id": "r1", "issued_at": datetime.now(UTC)}
    base.update(changes)
    return IssueContext(**base)


def test_migrations_create_exactly_the_declared_schema(store_app: Flask) -> None:
    db = get_db(store_app)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert db.at_head()


def test_audit_rows_explain_the_card_without_identifiers_or_values(store_app: Flask) -> None:
    db = get_db(store_app)
    hasher = PatientHasher(b"x" * 40)
    issued = [card(), card(grade=3, suggestions=0)]
    assert AuditLog(db, hasher).record(issued, context(client_iss="https://ehr.test")) == 2
    with db.engine.connect() as conn:
        rows = {r.card_uuid: r._asdict() for r in conn.execute(select(issued_card))}
        sugg = conn.execute(select(issued_suggestion)).all()
    row = rows[issued[0]["uuid"]]
    assert row["criteria"] == "astct-2019-crs"
    assert row["result"] == [{"criteria": "astct-2019-crs", "met": True, "grade": 2,
                              "peakGrade": 2, "evidenceItems": ["oxygen-support", "temperature"],
                              "missing": ["vasopressors"]}]
    assert row["rules_version"] == "2026.11-test"
    assert row["patient_hash"] == hasher(PATIENT) != PATIENT
    assert row["client_iss"] == "https://ehr.test"
    flat = repr(rows)
    for secret in (PATIENT, "39.4", "Observation/t1", "2026-11-21T09:00", "L/min"):
        assert secret not in flat
    assert {(s.card_uuid, s.position) for s in sugg} == {(issued[0]["uuid"], 0),
                                                         (issued[0]["uuid"], 1)}


def test_patient_hash_is_keyed() -> None:
    a, b = PatientHasher(b"a" * 40), PatientHasher(b"b" * 40)
    assert a(PATIENT) == a(PATIENT) != b(PATIENT)
    assert a.key_id != b.key_id
    assert len(a(PATIENT)) == 64


def test_sqlite_hash_key_is_generated_once_and_private(settings: Settings) -> None:
    key = load_hash_key(settings)
    path = key_file_for(settings)
    assert len(key) >= 32
    assert load_hash_key(settings) == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def _racer(settings: Settings, barrier: Any, out: Any) -> None:
    """In a worker process: wait for the others, then load (or create) the key."""
    try:
        barrier.wait(10)
        out.put(load_hash_key(settings))
    except Exception as exc:  # reported to the test, not raised in the child
        out.put(type(exc).__name__)


def test_workers_starting_together_all_get_the_same_full_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    workers, rounds = 6, 12
    for n in range(rounds):
        racing = Settings.from_mapping({
            "database_url": f"sqlite:///{tmp_path / 'race.sqlite3'}",
            "auth_required": False, "instance_dir": str(tmp_path / f"instance-{n}")})
        barrier, out = ctx.Barrier(workers), ctx.Queue()
        procs = [ctx.Process(target=_racer, args=(racing, barrier, out)) for _ in range(workers)]
        for p in procs:
            p.start()
        try:
            keys = [out.get(timeout=20) for _ in procs]
        finally:
            for p in procs:
                p.join(5)
                if p.is_alive():
                    p.kill()
        assert all(isinstance(k, bytes) and len(k) >= 32 for k in keys), keys
        assert len(set(keys)) == 1
        assert keys[0] == key_file_for(racing).read_bytes()
        assert os.listdir(tmp_path / f"instance-{n}") == [key_file_for(racing).name]


def test_short_key_file_is_refused_not_used(settings: Settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "KEY_READ_ATTEMPTS", 2, raising=False)
    path = key_file_for(settings)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")  # as left by a worker that died between create and write
    with pytest.raises(ValueError, match="no usable key"):
        load_hash_key(settings)
    path.write_bytes(b"short\n")
    with pytest.raises(ValueError, match="no usable key"):
        load_hash_key(settings)


def test_postgresql_without_a_hash_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="CDS_AUDIT_HASH_KEY"):
        Settings.from_env({"CDS_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test"})


def test_replay_store_accepts_once_and_forgets_after_expiry(store_app: Flask) -> None:
    clock = FakeClock()
    store = SqlReplayStore(get_db(store_app), clock=clock)
    exp = int(clock.now) + 360
    assert store.first_use("https://ehr.test", "j1", exp)
    assert not store.first_use("https://ehr.test", "j1", exp)
    assert store.first_use("https://other.test", "j1", exp)  # per issuer
    clock.advance(361)
    assert store.first_use("https://ehr.test", "j1", int(clock.now) + 360)


def test_replay_store_race_has_one_winner(store_app: Flask) -> None:
    store = SqlReplayStore(get_db(store_app))
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        wins.append(store.first_use("https://ehr.test", "race", 4_000_000_000))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_replay_store_down_is_not_a_pass(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}")
    try:
        with pytest.raises(ReplayStoreUnavailable):
            SqlReplayStore(db).first_use("i", "j", 4_000_000_000)
    finally:
        db.dispose()


def test_readyz_reports_an_unmigrated_postgresql(postgres_url: str, settings: Settings) -> None:
    app = create_app({"SETTINGS": dataclasses.replace(settings, database_url=postgres_url,
                                                      audit_hash_key="k" * 40)})
    try:
        c = app.test_client()
        assert c.get("/readyz").status_code == 503
        get_db(app).upgrade()
        assert c.get("/readyz").get_json()["checks"] == {"storage": "ok", "rules": "ok"}
    finally:
        close_app(app)


def test_cli_db_upgrade_and_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == "(empty database)"
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == "0001"


def test_cli_db_upgrade_on_postgresql(postgres_url: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)  # the common variable works too
    monkeypatch.setenv("CDS_AUDIT_HASH_KEY", "k" * 40)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == "0001"
