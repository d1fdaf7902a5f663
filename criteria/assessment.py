"""Assessment: the result of one criterion, with the evidence behind it.

Serialised form (used in card extensions and by ``crs-cds evaluate --assessments``)::

    {"criteria": "astct-2019-crs", "met": true|false|null, "grade": 0-4, "peakGrade": 0-4,
     "onset": ISO, "evaluatedAt": ISO, "evidence": [...], "missing": [...],
     "assumptions": [...]}

``met`` None means the data are insufficient to decide.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def iso(t: datetime) -> str:
    """Return an ISO 8601 UTC timestamp with a Z suffix and second precision."""
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def json_number(value: Decimal) -> int | float:
    """Return a Decimal as a JSON number, rounded to at most 3 decimals (output only).

    Never raises: a value too large to round in the context precision (e.g. 1E+30), or a
    non-zero value that would round to 0 (e.g. 1E-30), is returned as the nearest float,
    bounded to the largest finite float so the JSON stays valid.
    """
    if not value.is_finite():
        return _bounded_float(value)
    try:
        rounded = value.quantize(Decimal("0.001")).normalize()
    except InvalidOperation:
        return _bounded_float(value)
    if rounded.is_zero() and not value.is_zero():
        return _bounded_float(value)
    if rounded == rounded.to_integral_value():
        return int(rounded)
    return float(rounded)


def _bounded_float(value: Decimal) -> float:
    if value.is_nan():
        raise ValueError("not a number: fhir_mappers sets such values aside")
    return max(-sys.float_info.max, min(sys.float_info.max, float(value)))


@dataclass(frozen=True)
class Evidence:
    """One datum that a criterion used."""

    item: str  # e.g. "temperature", "norepinephrine", "oxygen-support"
    time: datetime
    reference: str
    value: Decimal | str | None = None
    unit: str | None = None
    note: str | None = None  # e.g. "high-flow nasal cannula", "estimated"

    def to_json(self) -> dict[str, Any]:
        """Return the serialised form, omitting empty members."""
        out: dict[str, Any] = {"item": self.item}
        if isinstance(self.value, Decimal):
            out["value"] = json_number(self.value)
        elif self.value:
            out["value"] = self.value
        if self.unit:
            out["unit"] = self.unit
        out["time"] = iso(self.time)
        out["reference"] = self.reference
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Assessment:
    """The result of one criterion at one evaluation time."""

    criteria: str
    met: bool | None
    evaluated_at: datetime
    grade: int | None = None
    peak_grade: int | None = None
    onset: datetime | None = None
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    # Criterion-specific members (score, scoreRange, probability, episode, ...), already
    # JSON-ready: str, int, float, bool, lists and dicts of those. Empty values are dropped.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the serialised form; optional members with no value are omitted."""
        out: dict[str, Any] = {"criteria": self.criteria, "met": self.met}
        if self.grade is not None:
            out["grade"] = self.grade
        if self.peak_grade is not None:
            out["peakGrade"] = self.peak_grade
        if self.onset is not None:
            out["onset"] = iso(self.onset)
        out["evaluatedAt"] = iso(self.evaluated_at)
        if self.evidence:
            out["evidence"] = [e.to_json() for e in self.evidence]
        if self.missing:
            out["missing"] = list(self.missing)
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        for key, value in self.extra.items():
            if value is None or value == "" or value == [] or value == {}:
                continue
            out[key] = value
        return out
