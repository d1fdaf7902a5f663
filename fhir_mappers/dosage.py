"""Dose and rate of an administration or order, with rate units in a few fixed spellings.

Rates keep their own unit (criteria do the dose arithmetic), spelled one way:
'ug/min', 'ug/kg/min', 'units/min' (every vasopressin form, §4.5: [U]/min, [IU]/min,
[iU]/min, [USP'U]/min, "units/min"), 'L/min', 'mL/h'. Other units are kept as sent.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_UNITS = re.compile(r"^(\[?(u|iu|usp'u)\]?|units?)(?=/)")
_SPELLINGS = {
    "ug/min": "ug/min",
    "ug/kg/min": "ug/kg/min", "ug/(kg.min)": "ug/kg/min", "ug/kg.min": "ug/kg/min",
    "units/min": "units/min", "units/h": "units/h", "units/hr": "units/h",
    "l/min": "L/min", "ml/h": "mL/h", "ml/hr": "mL/h", "mg/h": "mg/h", "mg/hr": "mg/h",
}


def rate_unit(unit: str) -> str:
    """Return the house spelling of a rate unit (vasopressin forms -> 'units/min')."""
    text = unit.replace("µ", "u").replace("μ", "u").replace(" ", "").lower()
    text = re.sub(r"\{[^}]*\}", "", text).replace("mcg", "ug")
    text = _UNITS.sub("units", text)
    return _SPELLINGS.get(text, unit.strip())


def _unit_of(q: Any) -> str | None:
    for unit in (q.code, q.unit):
        if isinstance(unit, str) and unit.strip():
            return unit.strip()
    return None


def quantity(q: Any) -> tuple[Decimal | None, str | None]:
    """Return (value, unit) of a Quantity, or (None, None)."""
    if q is None or q.value is None:
        return None, None
    return Decimal(q.value), _unit_of(q)


def rate_of(rate_quantity: Any, rate_ratio: Any) -> tuple[Decimal | None, str | None]:
    """Return (value, unit) of rateQuantity, or of a rateRatio per one denominator unit."""
    if rate_quantity is not None:
        value, unit = quantity(rate_quantity)
        return value, rate_unit(unit) if unit else None
    if rate_ratio is not None and rate_ratio.numerator is not None:
        num, num_unit = quantity(rate_ratio.numerator)
        den, den_unit = quantity(rate_ratio.denominator)
        if num is None or not den or num_unit is None or den_unit is None:
            return None, None
        return num / den, rate_unit(f"{num_unit}/{den_unit}")
    return None, None


_DOSE_SPELLINGS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "g": "g", "gram": "g", "grams": "g",
    "ug": "ug", "mcg": "ug", "microgram": "ug", "micrograms": "ug",
    "mg/kg": "mg/kg", "mg/[kg]": "mg/kg", "milligram per kilogram": "mg/kg",
}


def dose_unit(unit: str | None) -> str | None:
    """Return the house spelling of a mass dose unit ('mg', 'g', 'ug', 'mg/kg'), else as sent."""
    if unit is None:
        return None
    text = unit.replace("µ", "u").replace("μ", "u").strip().lower()
    return _DOSE_SPELLINGS.get(text, unit.strip())
