"""The per-process memos never change a mapping: cached runs equal uncached ones (issue 8)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from benchmarks import workload
from cards.suggestions import medication_request
from fhir_mappers import memo
from fhir_mappers.memo import BoundedMemo
from fhir_mappers.timeline import build_timeline

NOW = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
EXPECTED = {"vitals": ("Observation", True), "respiratory": ("Observation", True),
            "labs": ("Observation", True), "medadmin": ("MedicationAdministration", True),
            "conditions": ("Condition", True), "patient": ("Patient", False)}


@pytest.fixture(autouse=True)
def _fresh_memos() -> Iterator[None]:
    memo.set_enabled(True)
    yield
    memo.set_enabled(True)


def _odd_observations() -> list[dict[str, Any]]:
    """Observations that warn: every path that records a warning before or after the window."""
    base = {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "effectiveDateTime": "2026-11-21T10:00:00Z",
            "valueQuantity": {"value": 38.4, "unit": "Cel", "system": "http://unitsofmeasure.org",
                              "code": "Cel"}}
    changes: list[dict[str, Any]] = [
        {"status": "entered-in-error"}, {"status": "registered"}, {"status": 7},
        {"effectiveDateTime": "2026-11-21T10:00:00"}, {"effectiveDateTime": "2026-11-21"},
        {"effectiveDateTime": "2026-11-22T10:00:00Z"},
        {"effectiveDateTime": "2025-01-01T10:00:00Z"},
        {"effectiveDateTime": None, "issued": "2026-11-21T09:00:00Z"},
        {"valueQuantity": {"value": "hot", "unit": "Cel"}}, {"valueQuantity": {"value": 38.4}},
        {"valueQuantity": {"value": 98.6, "unit": "Cel", "code": "Cel"}},
        {"valueQuantity": {"value": 101.2, "unit": "[degF]", "code": "[degF]"}},
        {"dataAbsentReason": {"text": "refused"}}, {"component": "junk"},
        {"valueQuantity": {"value": 1e300, "unit": "Cel"}},
    ]
    out = []
    for i, change in enumerate(changes):
        res = {**copy.deepcopy(base), **change, "id": f"odd{i}"}
        out.append({k: v for k, v in res.items() if v is not None})
    return out


def _body() -> dict[str, Any]:
    body = workload.patient_view(300, 3, now=NOW)
    body["prefetch"]["vitals"]["entry"] += [{"resource": r} for r in _odd_observations()]
    return body


def _timeline(body: dict[str, Any], now: datetime = NOW) -> Any:
    return build_timeline(body["prefetch"], now=now, expected=EXPECTED)


def _uncached(body: dict[str, Any], now: datetime = NOW) -> Any:
    memo.set_enabled(False)
    try:
        return _timeline(body, now)
    finally:
        memo.set_enabled(True)


def test_cached_and_uncached_mapping_are_identical() -> None:
    body = _body()
    reference = _uncached(body)
    first, second = _timeline(body), _timeline(orjson.loads(orjson.dumps(body)))
    assert first == reference
    assert second == reference  # the second run maps from the memo
    assert memo.OBSERVATIONS.hits >= workload.observation_count(body)
    assert {w.code for w in reference.warnings} >= {
        "entered-in-error", "registered", "invalid-status", "time-zone-missing",
        "imprecise-time", "after-evaluation-time", "time-from-issued", "invalid-resource",
        "unknown-unit", "implausible-value", "data-absent"}


def test_a_changed_resource_is_mapped_again() -> None:
    body = _body()
    _timeline(body)
    changed = copy.deepcopy(body)
    target = changed["prefetch"]["vitals"]["entry"][0]["resource"]
    code = target["code"]["coding"][0]["code"]
    assert code == "8310-5"  # the newest reading is a temperature
    target["valueQuantity"]["value"] = 40.1
    again = _timeline(changed)
    assert again == _uncached(changed)
    latest = again.series("temperature")[-1]
    assert latest.reference == f"Observation/{target['id']}"
    assert str(latest.value) == "40.1"


def test_the_look_back_window_is_applied_at_each_evaluation_time() -> None:
    body = _body()
    earlier = NOW - timedelta(hours=12)
    assert _timeline(body) == _uncached(body)
    cached_earlier = _timeline(body, earlier)  # same memo entries, another window
    assert cached_earlier == _uncached(body, earlier)
    assert any(w.code == "after-evaluation-time" for w in cached_earlier.warnings)


def test_memo_is_bounded_and_evicts_the_least_recently_used() -> None:
    small = BoundedMemo("test", 3)
    for key in "abcd":
        small.put(key, key.upper())
    assert len(small) == 3
    assert small.get("a") is memo.MISSING
    assert small.get("b") == "B"
    small.put("e", "E")  # "c" is now the least recently used
    assert small.get("c") is memo.MISSING
    assert small.get("b") == "B"


def test_memo_keeps_no_token_and_no_request_body() -> None:
    body = _body()
    body["fhirAuthorization"] = {"access_token": "secret-token-value", "token_type": "Bearer"}
    _timeline(body)
    for m in memo.MEMOS:
        assert "secret-token-value" not in repr(list(m._data.items()))


def test_a_proposal_is_a_fresh_copy_each_time() -> None:
    from decimal import Decimal

    args: dict[str, Any] = {"patient_id": "p1", "drug": "tocilizumab", "dose_mg": Decimal("560"),
                            "text": "t", "interval": None, "minutes": 60, "note": "n",
                            "reason": "r"}
    first = medication_request(**args)
    first["status"] = "changed"
    second = medication_request(**args)
    assert second["status"] == "draft"
    memo.set_enabled(False)
    assert medication_request(**args) == second


def test_a_long_element_is_keyed_by_its_digest_not_its_bytes() -> None:
    # Memory is bounded by the entry count only if keys are small (review finding S4).
    from fhir_mappers.memo import MAX_RAW_KEY, element_key

    short = element_key({"text": "temperature"})
    long = element_key({"text": "x" * 1_000_000})
    assert short is not None
    assert long is not None
    assert len(short) <= MAX_RAW_KEY
    assert len(long) == 17
    assert element_key({"text": "x" * 1_000_000}) == long
    assert element_key({"text": "y" * 1_000_000}) != long
