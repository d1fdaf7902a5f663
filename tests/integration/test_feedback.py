"""Feedback on SQLite and the real PostgreSQL: validation, durability, repeats, orphans."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from cds_service.db import get_db
from cds_service.db.audit import AuditLog, IssueContext, PatientHasher
from cds_service.db.feedback import FeedbackStore
from cds_service.db.schema import feedback
from tests.integration.test_storage import card

FEEDBACK = "/cds-services/crs-patient-view/feedback"


def item(**changes: Any) -> dict[str, Any]:
    """A valid overridden item; a change of None drops the member."""
    base: dict[str, Any] = {"card": str(uuid.uuid4()), "outcome": "overridden",
                            "outcomeTimestamp": "2026-11-21T10:31:57.635Z"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def rows(app: Flask) -> list[dict[str, Any]]:
    with get_db(app).engine.connect() as conn:
        return [r._asdict() for r in conn.execute(select(feedback).order_by(feedback.c.id))]


def post(app: Flask, *items: Any, body: Any = None) -> Any:
    return app.test_client().post(FEEDBACK, json=body if body is not None else
                                  {"feedback": list(items)})


@pytest.mark.parametrize(("bad", "named"), [
    ({"card": None}, "feedback[1].card"),
    ({"card": ""}, "feedback[1].card"),
    ({"outcome": None}, "feedback[1].outcome"),
    ({"outcome": "ignored"}, "feedback[1].outcome"),
    ({"outcome": "accepted"}, "feedback[1].acceptedSuggestions"),
    ({"outcome": "accepted", "acceptedSuggestions": []}, "feedback[1].acceptedSuggestions"),
    ({"outcome": "accepted", "acceptedSuggestions": [{"uuid": "x"}]},
     "feedback[1].acceptedSuggestions[0].id"),
    ({"outcomeTimestamp": None}, "feedback[1].outcomeTimestamp"),
    ({"outcomeTimestamp": "2026-11-21T10:31:57"}, "feedback[1].outcomeTimestamp"),
    ({"outcomeTimestamp": "yesterday"}, "feedback[1].outcomeTimestamp"),
    ({"outcomeTimestamp": "2026-02-30T10:00:00Z"}, "feedback[1].outcomeTimestamp"),
    ({"overrideReason": {}}, "feedback[1].overrideReason"),
    ({"overrideReason": {"reason": {"code": "x"}}}, "feedback[1].overrideReason.reason.system"),
    ({"overrideReason": {"userComment": 3}}, "feedback[1].overrideReason.userComment"),
])
def test_malformed_item_is_400_naming_the_field_and_nothing_is_stored(
        store_app: Flask, bad: dict[str, Any], named: str) -> None:
    resp = post(store_app, item(), item(**bad), item())
    assert resp.status_code == 400
    assert named in resp.get_json()["detail"]
    assert rows(store_app) == []


@pytest.mark.parametrize("body", [{}, {"feedback": []}, {"feedback": {}}, [], {"feedback": [3]}])
def test_malformed_body_is_400(store_app: Flask, body: Any) -> None:
    resp = store_app.test_client().post(FEEDBACK, json=body)
    assert resp.status_code == 400
    assert "feedback" in resp.get_json()["detail"]


def test_wrong_content_type_and_unknown_service(store_app: Flask) -> None:
    c = store_app.test_client()
    assert c.post(FEEDBACK, data="{}", content_type="text/plain").status_code == 415
    assert c.post("/cds-services/nope/feedback", json={"feedback": [item()]}).status_code == 404


def test_items_are_stored_with_utc_times_and_reason_without_display(store_app: Flask) -> None:
    resp = post(store_app,
                item(card="c1", outcomeTimestamp="2026-11-21T12:31:57.123456789+02:00",
                     overrideReason={"reason": {"code": "not-crs",
                                                "system": "https://example.org/reasons"},
                                     "userComment": "already treated"}),
                item(card="c2", outcome="accepted",
                     acceptedSuggestions=[{"id": "s2"}, {"id": "s1"}]))
    assert resp.status_code == 200
    assert resp.get_json() == {"stored": 2}
    first, second = rows(store_app)
    assert first["outcome_at"].replace(tzinfo=UTC) == datetime(2026, 11, 21, 10, 31, 57, 123456,
                                                               tzinfo=UTC)
    assert (first["override_code"], first["override_display"]) == ("not-crs", None)
    assert first["override_comment"] == "already treated"
    assert second["accepted_suggestions"] == ["s1", "s2"]
    assert first["orphan"]
    assert second["orphan"]


def test_exact_repeats_are_stored_once_distinct_items_kept(store_app: Flask) -> None:
    same = item(card="c1")
    assert post(store_app, same, same).get_json() == {"stored": 2}
    assert post(store_app, same).status_code == 200
    later = item(card="c1", outcomeTimestamp="2026-11-21T11:00:00Z")
    accepted = item(card="c1", outcome="accepted", acceptedSuggestions=[{"id": "s1"}])
    assert post(store_app, later, accepted).status_code == 200
    assert len(rows(store_app)) == 3
    other_service = store_app.test_client().post("/cds-services/crs-order-sign/feedback",
                                                 json={"feedback": [same]})
    assert other_service.status_code == 200
    assert len(rows(store_app)) == 4  # the service id is part of the key


def test_feedback_for_an_issued_card_is_not_orphaned(store_app: Flask) -> None:
    issued = card()
    AuditLog(get_db(store_app), PatientHasher(b"k" * 40)).record([issued], IssueContext(
        service_id="crs-patient-view", hook_instance="h1", patient_id="p1",
        rules_version="v", client_iss=None, request_id="r", issued_at=datetime.now(UTC)))
    accepted = item(card=issued["uuid"], outcome="accepted",
                    acceptedSuggestions=[{"id": issued["suggestions"][1]["uuid"]}])
    assert post(store_app, accepted, item()).status_code == 200
    kept, orphan = rows(store_app)
    assert (kept["orphan"], orphan["orphan"]) == (False, True)
    store_app.test_client().post("/cds-services/crs-order-sign/feedback",
                                 json={"feedback": [item(card=issued["uuid"])]})
    assert rows(store_app)[-1]["orphan"] is True  # issued by another service


def test_eight_threads_posting_200_items_each_leave_1600_rows(store_app: Flask) -> None:
    errors: list[int] = []

    def worker(n: int) -> None:
        client = store_app.test_client()
        for i in range(200):
            resp = client.post(FEEDBACK, json={"feedback": [item(card=f"t{n}-{i}")]})
            if resp.status_code != 200:
                errors.append(resp.status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert FeedbackStore(get_db(store_app)).count() == 1600
