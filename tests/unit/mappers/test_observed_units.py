"""Measurement.observed: the value and unit as the resource gave them, kept when converted.

clinical-criteria.md §0 Conventions: "Compare in the observed unit when the source prints it;
otherwise convert." The mapper still converts into the canonical unit (§4.5) and, only when a
factor changed the unit, keeps the original value and unit for the criteria to compare in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from criteria.model import Measurement
from fhir_mappers.timeline import build_timeline
from fhir_mappers.units import convert, convert_observed

from .builders import bundle, obs
from .conftest import EXPECTED, NOW

TG, HB, PLT, TEMP, CRP = "2571-8", "718-7", "777-3", "8310-5", "1988-5"


def _one(*resources: dict[str, Any], kind: str, key: str = "labs") -> Measurement:
    timeline = build_timeline({key: bundle(*resources)}, now=NOW, expected=EXPECTED)
    (m,) = timeline.series(kind)
    return m


def test_triglycerides_in_mmol_l_keep_the_observed_value() -> None:
    # §0 example: 4.0 mmol/L converts to 354.28 mg/dL; the printed ">4 mmol/L" needs the 4.0
    m = _one(obs("tg", TG, 4.0, "mmol/L"), kind="triglycerides")
    assert (m.value, m.unit) == (Decimal("354.280"), "mg/dL")
    assert m.observed == (Decimal("4.0"), "mmol/L")


def test_value_in_the_canonical_unit_has_no_observed() -> None:
    m = _one(obs("tg", TG, 354.1, "mg/dL"), kind="triglycerides")
    assert (m.value, m.observed) == (Decimal("354.1"), None)


def test_identity_spellings_are_not_a_conversion() -> None:
    # §4.5: 10*3/uL = 10*9/L; same number, nothing to compare differently
    m = _one(obs("plt", PLT, 45, "10*3/uL"), kind="platelets")
    assert (m.value, m.unit, m.observed) == (Decimal(45), "10*9/L", None)


@pytest.mark.parametrize(("value", "unit", "canonical"), [
    ("5.71", "mmol/L", Decimal("5.71") / Decimal("0.6206")),  # §2.2 HScore ≤5.71 mmol/L
    ("92", "g/L", Decimal("9.2")),
])
def test_haemoglobin_keeps_the_observed_value(value: str, unit: str, canonical: Decimal) -> None:
    m = _one(obs("hb", HB, Decimal(value), unit), kind="haemoglobin")
    assert (m.value, m.unit) == (canonical, "g/dL")
    assert m.observed == (Decimal(value), unit)


def test_json_float_is_kept_exactly() -> None:
    # 1.76 as a JSON number must stay 1.76, not the binary float 1.7600000000000000088...
    m = _one(obs("tg", TG, 1.76, "mmol/L"), kind="triglycerides")
    assert m.observed == (Decimal("1.76"), "mmol/L")


def test_observed_unit_is_the_string_that_converted() -> None:
    # the UCUM code is tried first; without one, the human-readable unit as given
    resource = obs("tg", TG, 3.0, "mmol/L")
    resource["valueQuantity"] = {"value": 3.0, "unit": "mmol/l"}
    m = _one(resource, kind="triglycerides")
    assert m.observed == (Decimal("3.0"), "mmol/l")


def test_reference_range_stays_canonical() -> None:
    resource = obs("tg", TG, 2.0, "mmol/L", referenceRange=[
        {"high": {"value": 1.7, "unit": "mmol/L", "code": "mmol/L"}}])
    m = _one(resource, kind="triglycerides")
    assert m.ref_high == Decimal("1.7") * Decimal("88.57")
    assert m.observed == (Decimal("2.0"), "mmol/L")


def test_fahrenheit_temperature_records_the_observed_value() -> None:
    m = _one(obs("t", TEMP, 101.3, "[degF]"), kind="temperature", key="vitals")
    assert m.value == Decimal("38.5")
    assert m.observed == (Decimal("101.3"), "[degF]")


def test_crp_in_mg_dl_records_the_observed_value() -> None:
    m = _one(obs("crp", CRP, 4.6, "mg/dL"), kind="crp")
    assert (m.value, m.observed) == (Decimal("46.0"), (Decimal("4.6"), "mg/dL"))


@pytest.mark.parametrize(("kind", "value", "unit", "expected"), [
    ("triglycerides", "4.0", "mmol/L", (Decimal("354.280"), True)),
    ("triglycerides", "354", "mg/dL", (Decimal("354"), False)),
    ("haemoglobin", "92", "g/L", (Decimal("9.2"), True)),
    ("platelets", "45", "10*3/uL", (Decimal("45"), False)),
    ("triglycerides", "4.0", "g/L", None),
    ("no-such-kind", "1", "mg/dL", None),
])
def test_convert_observed_agrees_with_convert(kind: str, value: str, unit: str,
                                              expected: tuple[Decimal, bool] | None) -> None:
    found = convert_observed(kind, Decimal(value), unit)
    assert found == expected
    assert convert(kind, Decimal(value), unit) == (None if found is None else found[0])
