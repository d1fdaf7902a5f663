"""JSON rules (reference/cds-hooks.md §1): find and strip null/empty members."""

from __future__ import annotations

import pytest

from cards.json_rules import find_empty_values, strip_empty


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ({"cards": []}, []),
        ({"services": []}, []),
        ({"cards": [{"summary": "x"}]}, []),
        ({}, ["$"]),
        ({"a": None}, ["$.a"]),
        ({"a": ""}, ["$.a"]),
        ({"a": []}, ["$.a"]),
        ({"a": {}}, ["$.a"]),
        ({"cards": [{"links": []}]}, ["$.cards[0].links"]),
        ({"x": {"cards": []}}, ["$.x.cards"]),
        ({"a": [1, None, {"b": ""}]}, ["$.a[1]", "$.a[2].b"]),
        ({"a": 0, "b": False}, []),
    ],
)
def test_find_empty_values(payload: object, paths: list[str]) -> None:
    assert find_empty_values(payload) == paths


def test_strip_empty_drops_members_that_become_empty() -> None:
    payload = {"a": None, "b": {"c": [], "d": {"e": ""}}, "f": [None, "", 0, {"g": None}], "h": 1}
    assert strip_empty(payload) == {"f": [0], "h": 1}
    assert find_empty_values(strip_empty(payload)) == []


def test_strip_empty_keeps_false_and_zero() -> None:
    assert strip_empty({"met": False, "grade": 0}) == {"met": False, "grade": 0}
