"""Bounded soak and SIGKILL runs of a real `crs-cds serve` (gunicorn) on 127.0.0.1.

The documented runs (10 minutes at 100/s) use the same code: ``benchmarks/soak.py``. These
assert correctness only, never speed: every valid call answered correctly, no 5xx, feedback
rows equal to feedback acknowledged; after SIGKILL, a replaced worker, failures limited to
the call in flight on it, and no acknowledged feedback lost. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.soak import run_soak
from benchmarks.soak_server import listening

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> str:
    """Each database; PostgreSQL only when it runs at 127.0.0.1:5432."""
    if request.param == "postgresql" and not listening(5432):
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    return str(request.param)


def assert_feedback_kept(report: dict[str, Any], *, exact: bool) -> None:
    """No acknowledged feedback is lost (and, without a kill, no row is unacknowledged)."""
    fb = report["feedback"]
    assert fb["acknowledged"] > 0
    assert fb["lost"] == 0
    if exact:
        assert fb["rows"] == fb["acknowledged"]


def test_bounded_soak_answers_every_valid_call_correctly(db: str) -> None:
    report = run_soak(duration=15, rate=30, db=db)
    load = report["load"]
    assert load["sent"] == load["planned"] == 450
    assert load["wrong"] == 0, load["wrong_examples"]
    assert load["server_errors"] == load["connection_errors"] == 0
    assert {"200", "400", "401", "404", "415"} <= {str(s) for s in load["statuses"]}
    assert_feedback_kept(report, exact=True)
    assert report["server_alive"]
    assert report["readyz_after"] == 200
    assert report["log_lines"] > 400
    assert set(report["log_secrets"].values()) == {0}


def test_a_killed_worker_is_replaced_and_loses_no_feedback(db: str) -> None:
    report = run_soak(duration=10, rate=30, db=db, kill_at=3)
    kill, load = report["kill"], report["load"]
    assert kill["replaced_in_s"] is not None
    assert kill["killed_pid"] not in kill["workers_after"]
    assert len(kill["workers_after"]) == len(kill["workers_before"])
    assert kill["failed_in_flight"] <= 1  # a sync worker runs one call at a time
    assert kill["failed_elsewhere"] == 0
    assert kill["correct_after_replacement"] > 0
    assert load["wrong"] == kill["failed_in_flight"]  # every other call answered correctly
    assert_feedback_kept(report, exact=False)
    assert report["readyz_after"] == 200
