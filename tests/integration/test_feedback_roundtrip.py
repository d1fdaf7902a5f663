"""Round trip on SQLite and PostgreSQL: a card is issued and audited; its feedback joins it."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from cds_service.db import get_db
from cds_service.db.audit import PatientHasher, load_hash_key
from cds_service.db.schema import feedback, issued_card, issued_suggestion
from tests.conftest import grade3_request

SERVICE = "/cds-services/crs-patient-view"


def test_issued_card_is_audited_and_its_feedback_joins_it(store_app: Flask) -> None:
    client = store_app.test_client()
    body = grade3_request()
    resp = client.post(SERVICE, json=body)
    assert resp.status_code == 200
    cards = resp.get_json()["cards"]
    assert cards, "the grade-3 example should give a card"
    crs = cards[0]

    db = get_db(store_app)
    with db.engine.connect() as conn:
        row = conn.execute(select(issued_card).where(
            issued_card.c.card_uuid == crs["uuid"])).one()._asdict()
        suggestions = set(conn.scalars(select(issued_suggestion.c.suggestion_uuid).where(
            issued_suggestion.c.card_uuid == crs["uuid"])))
    assert row["service_id"] == "crs-patient-view"
    assert row["hook_instance"] == body["hookInstance"]
    assert row["criteria"] == "astct-2019-crs"
    assert row["result"][0]["grade"] == crs["extension"]["crs-cds.assessment"]["grade"]
    assert row["rules_version"]
    hasher = PatientHasher(load_hash_key(store_app.config["SETTINGS"]))
    assert row["patient_hash"] == hasher(body["context"]["patientId"])
    assert body["context"]["patientId"] not in json.dumps(row, default=str)
    assert suggestions == {s["uuid"] for s in crs.get("suggestions", [])}

    outcome: dict[str, object] = {"outcome": "overridden"}
    if crs.get("suggestions"):
        outcome = {"outcome": "accepted",
                   "acceptedSuggestions": [{"id": crs["suggestions"][0]["uuid"]}]}
    fb = client.post(SERVICE + "/feedback", json={"feedback": [
        {"card": crs["uuid"], "outcomeTimestamp": "2026-11-21T14:25:00-05:00", **outcome}]})
    assert fb.get_json() == {"stored": 1}
    with db.engine.connect() as conn:
        joined = conn.execute(select(feedback.c.orphan, feedback.c.outcome, issued_card.c.indicator)
                              .join(issued_card, issued_card.c.card_uuid == feedback.c.card_uuid)
                              ).one()
    assert joined.orphan is False
    assert joined.outcome == outcome["outcome"]
    assert joined.indicator == crs["indicator"]
