"""Unit conversion table (clinical-criteria.md §4.5) and its boundaries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from criteria.model import CANONICAL_UNITS
from fhir_mappers.units import TABLE, convert, normalise_unit


@pytest.mark.parametrize(
    ("kind", "value", "unit", "expected"),
    [
        ("temperature", "100.4", "[degF]", "38.0"),  # §4.5 worked example
        ("temperature", "101.3", "°F", "38.5"),
        ("temperature", "37.2", "Cel", "37.2"),
        ("crp", "4.6", "mg/dL", "46"),
        ("crp", "46", "mg/L", "46"),
        ("fibrinogen", "1.5", "g/L", "150"),
        ("triglycerides", "3.0", "mmol/L", "265.71"),
        ("triglycerides", "1.5", "mmol/L", "132.855"),
        ("creatinine", "88.42", "umol/L", "1"),
        ("creatinine", "88.42", "µmol/L", "1"),
        ("platelets", "45", "10*3/uL", "45"),
        ("platelets", "45", "10*9/L", "45"),
        ("wbc", "4200", "/uL", "4.2"),
        ("haemoglobin", "92", "g/L", "9.2"),
        ("haemoglobin", "9.2", "g/dL", "9.2"),
        ("albumin", "28", "g/L", "2.8"),
        ("d_dimer_feu", "4.93", "ug/mL{FEU}", "4930"),
        ("d_dimer_feu", "4.93", "mg/L", "4930"),
        ("troponin_i", "1090", "ng/L", "1.09"),
        ("bun", "10", "mmol/L", "28"),
        ("ast", "1", "ukat/L", "60"),
        ("oxygen_flow", "6000", "mL/min", "6"),
        ("fio2", "0.4", "1", "40"),
        ("fio2", "0.4", "{fraction}", "40"),
        ("body_weight", "100", "[lb_av]", "45.359237"),
        ("heart_rate", "80", "{beats}/min", "80"),
        ("ferritin", "500", "ug/L", "500"),
    ],
)
def test_convert(kind: str, value: str, unit: str, expected: str) -> None:
    assert convert(kind, Decimal(value), unit) == Decimal(expected)


def test_fahrenheit_boundary_is_exact_decimal() -> None:
    result = convert("temperature", Decimal("100.4"), "[degF]")
    assert isinstance(result, Decimal)
    assert result == Decimal("38.0")
    below = convert("temperature", Decimal("100.3"), "[degF]")
    assert below is not None
    assert below < Decimal("38.0")


@pytest.mark.parametrize(
    ("kind", "unit"),
    [
        ("crp", "mmol/L"),  # wrong dimension
        ("crp", ""),  # missing
        ("sil2r", "pg/mL"),  # cannot become U/mL (§4.3)
        ("bilirubin", "umol/L"),  # no factor printed in §4.5
        ("temperature", "K"),
        ("spo2", "1"),
    ],
)
def test_unknown_or_incompatible_unit_is_none(kind: str, unit: str) -> None:
    assert convert(kind, Decimal(1), unit) is None


def test_every_table_kind_is_canonical() -> None:
    assert set(TABLE) <= set(CANONICAL_UNITS)


def test_normalise_unit_keeps_annotation() -> None:
    assert normalise_unit("ng/mL{DDU}") == ("ng/ml", "DDU")
