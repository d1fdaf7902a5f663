"""Feedback edge cases on SQLite and PostgreSQL: extreme times, control characters, nulls."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.integration.test_feedback import item, post, rows

TS = "feedback[0].outcomeTimestamp"
REASON = {"code": "not-crs", "system": "https://example.org/reasons"}


@pytest.mark.parametrize(("bad", "named"), [
    # R2: valid RFC 3339 text whose UTC instant falls outside years 1..9999
    ({"outcomeTimestamp": "0001-01-01T00:00:00+01:00"}, TS),
    ({"outcomeTimestamp": "9999-12-31T23:59:59-01:00"}, TS),
    # P2: a trailing newline is not part of a date-time
    ({"outcomeTimestamp": "2021-12-11T10:05:31Z\n"}, TS),
    ({"outcomeTimestamp": "2021-12-11T10:05:31Z\r\n"}, TS),
    # R3: NUL anywhere; every C0 control (and DEL) in ids and codes
    ({"card": "c\x00"}, "feedback[0].card"),
    ({"card": "c\n"}, "feedback[0].card"),
    ({"card": "c\t1"}, "feedback[0].card"),
    ({"card": "c\x7f"}, "feedback[0].card"),
    ({"outcome": "accepted", "acceptedSuggestions": [{"id": "s\x00"}]},
     "feedback[0].acceptedSuggestions[0].id"),
    ({"overrideReason": {"reason": {**REASON, "code": "x\x1b"}}},
     "feedback[0].overrideReason.reason.code"),
    ({"overrideReason": {"reason": {**REASON, "system": "https://x\x00"}}},
     "feedback[0].overrideReason.reason.system"),
    ({"overrideReason": {"reason": {**REASON, "display": "d\x00"}}},
     "feedback[0].overrideReason.reason.display"),
    ({"overrideReason": {"userComment": "nul \x00 here"}},
     "feedback[0].overrideReason.userComment"),
    ({"overrideReason": {"userComment": "bell \x07"}}, "feedback[0].overrideReason.userComment"),
    # P1: a null member counts as absent (cds-fb-3 needs reason and/or userComment)
    ({"overrideReason": {"reason": None}}, "feedback[0].overrideReason"),
    ({"overrideReason": {"reason": None, "userComment": None}}, "feedback[0].overrideReason"),
])
def test_edge_case_is_400_naming_the_field_on_each_backend(store_app: Flask, bad: dict[str, Any],
                                                          named: str) -> None:
    resp = post(store_app, item(**bad))
    assert resp.status_code == 400
    assert named in resp.get_json()["detail"]
    assert rows(store_app) == []


def test_edge_of_range_times_and_multiline_comments_are_stored(store_app: Flask) -> None:
    resp = post(store_app,
                item(outcomeTimestamp="0001-01-01T00:00:00-01:00"),
                item(outcomeTimestamp="9999-12-31T23:59:59+01:00"),
                item(overrideReason={"reason": None, "userComment": "line 1\n\tline 2\r\n"}),
                item(overrideReason={"reason": {**REASON, "display": "Not CRS"},
                                     "userComment": None}))
    assert resp.status_code == 200
    stored = rows(store_app)
    assert len(stored) == 4
    assert stored[2]["override_comment"] == "line 1\n\tline 2\r\n"
    assert stored[2]["override_code"] is None
    assert (stored[3]["override_code"], stored[3]["override_comment"]) == ("not-crs", None)
