"""Prefetch shapes: 4xx errors, null and empty keys, OperationOutcomes, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.timeline import build_timeline

from .conftest import EXPECTED, NOW, warned


@pytest.mark.parametrize(
    ("key", "value", "detail"),
    [
        ("patient", {"resourceType": "Observation", "id": "x"}, "expected a Patient"),
        ("vitals", {"resourceType": "Observation", "id": "x"}, "expected a searchset Bundle"),
        ("vitals", ["not", "an", "object"], "not a JSON object"),
        ("labs", "text", "not a JSON object"),
        ("vitals", {"resourceType": "Bundle", "entry": {"resource": {}}}, "Bundle.entry"),
    ],
)
def test_wrong_shape_raises(key: str, value: Any, detail: str) -> None:
    with pytest.raises(PrefetchShapeError) as caught:
        build_timeline({key: value}, now=NOW, expected=EXPECTED)
    assert caught.value.key == key
    assert detail in caught.value.detail


def test_null_and_empty_mean_no_data() -> None:
    tl = build_timeline(
        {"patient": None, "vitals": {"resourceType": "Bundle", "type": "searchset", "entry": []},
         "labs": {"resourceType": "Bundle", "type": "searchset"}},
        now=NOW, expected=EXPECTED)
    assert tl.measurements == {}
    assert tl.warnings == ()
    assert tl.unavailable == ()
    assert tl.patient.reference is None


def test_failed_prefetch_outcome_marks_key_unavailable() -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "timeout"}]}
    tl = build_timeline({"labs": outcome}, now=NOW, expected=EXPECTED)
    assert tl.unavailable == ("labs",)
    assert len(warned(tl, "prefetch-failed")) == 1


def test_same_resource_in_two_keys_counted_once(fhir: Callable[[str], Any]) -> None:
    vitals = fhir("vitals_us_core.json")
    tl = build_timeline({"vitals": vitals, "respiratory": vitals}, now=NOW, expected=EXPECTED)
    assert len(tl.series("spo2")) == 1
    assert len(tl.series("temperature")) == 3


def test_unknown_keys_are_lenient(fhir: Callable[[str], Any]) -> None:
    tl = build_timeline({"obs": fhir("labs_mixed_units.json"), "junk": 42,
                         "patientAgain": fhir("patient.json")}, now=NOW, expected=EXPECTED)
    assert tl.series("ferritin")
    assert len(warned(tl, "prefetch-not-object")) == 1


def test_without_expected_a_non_object_still_raises() -> None:
    with pytest.raises(PrefetchShapeError):
        build_timeline({"vitals": 3}, now=NOW)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_timeline({}, now=NOW.replace(tzinfo=None))
