"""Number sanity and physiological plausibility ranges (``data/plausibility.json``).

A number that is not finite or of an absurd magnitude is junk (the resource is set aside as
"invalid-resource"); a converted value outside its kind's range is "implausible-value".
Both keep Decimal arithmetic downstream safe.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

# Far above any dose, rate or result and far below Decimal's limits; also keeps tiny
# denominators (rateRatio 1e-300) from producing absurd quotients.
MAGNITUDE = Decimal("1e12")
SMALLEST = Decimal("1e-12")


def sane(value: Any) -> bool:
    """Return True for a finite Decimal whose magnitude is zero or in [1e-12, 1e12)."""
    if not isinstance(value, Decimal):
        return False
    try:
        return value.is_finite() and (value.is_zero() or SMALLEST <= abs(value) < MAGNITUDE)
    except InvalidOperation:
        return False


def sane_dose(value: Decimal | None) -> bool:
    """Return True when a dose or rate is absent, or a sane number that is not negative."""
    return value is None or (sane(value) and value >= 0)


@cache
def ranges() -> dict[str, tuple[Decimal, Decimal]]:
    """Return (low, high) per measurement kind, inclusive, in the canonical unit."""
    path = resources.files("fhir_mappers.data").joinpath("plausibility.json")
    data = json.loads(path.read_text(encoding="utf-8"))["kinds"]
    return {k: (Decimal(str(e["min"])), Decimal(str(e["max"]))) for k, e in data.items()}


def plausible(kind: str, value: Decimal) -> bool:
    """Return True when a canonical value lies in its kind's range (no range: only sane)."""
    if not sane(value):
        return False
    bounds = ranges().get(kind)
    return bounds is None or bounds[0] <= value <= bounds[1]
