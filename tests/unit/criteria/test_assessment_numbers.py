"""Evidence values in the assessment JSON never break the response (review B1).

clinical-criteria.md §0: values are output as recorded, rounded for display only; a huge or tiny
recorded value (a unit error, a typo) must still serialise, never raise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from criteria.assessment import Evidence, json_number

AT = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("39.45", 39.45), ("6.001", 6.001), ("6.0", 6), ("8", 8), ("0.0004", 0.0004),
    ("1e30", 1e30), ("-1e30", -1e30), ("1e-30", 1e-30), ("-1e-30", -1e-30),
])
def test_json_number_rounds_to_3_decimals_and_never_raises(value: str, expected: float) -> None:
    assert json_number(Decimal(value)) == expected


def test_values_beyond_float_range_stay_valid_json() -> None:
    number = json_number(Decimal("1e999"))
    assert json.loads(json.dumps(number, allow_nan=False)) > 1e308


@pytest.mark.parametrize("value", ["1e30", "1e-30", "1e999", "-1e999"])
def test_evidence_with_huge_or_tiny_values_serialises(value: str) -> None:
    item = Evidence("temperature", AT, "Observation/t1", Decimal(value), "Cel")
    text = json.dumps(item.to_json(), allow_nan=False)
    assert '"value": ' in text
