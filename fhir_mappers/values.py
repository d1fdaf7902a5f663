"""One Quantity of a known kind to a Measurement in the canonical unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from criteria.model import CANONICAL_UNITS, Measurement
from fhir_mappers.codes import Match, percent_twin
from fhir_mappers.memo import ELEMENTS, MISSING, tagged
from fhir_mappers.notes import Notes
from fhir_mappers.plausible import plausible, sane
from fhir_mappers.units import convert, convert_observed, normalise_unit


@dataclass(frozen=True)
class Reading:
    """What is known about one value before conversion."""

    match: Match
    time: datetime
    reference: str
    status: str
    extra_flags: tuple[str, ...] = ()


def quantity_unit(q: Any) -> list[str]:
    """Return the unit strings of a Quantity to try, UCUM code first."""
    return [u for u in (q.code, q.unit) if isinstance(u, str) and u.strip()]


def to_canonical(kind: str, value: Decimal, units: list[str]) -> Decimal | None:
    """Convert with the first unit string the table knows; None if none is known."""
    for unit in units:
        converted = convert(kind, value, unit)
        if converted is not None:
            return converted
    return None


def to_canonical_observed(kind: str, value: Decimal, units: list[str]
                          ) -> tuple[Decimal, tuple[Decimal, str] | None] | None:
    """Return (canonical value, (value, unit) as given if converted, else None), or None."""
    for unit in units:
        found = convert_observed(kind, value, unit)
        if found is not None:
            return found[0], ((value, unit.strip()) if found[1] else None)
    return None


def _d_dimer_kind(kind: str, flags: list[str], units: list[str], notes: Notes,
                  ref: str) -> str | None:
    """Settle the D-dimer basis from a unit annotation ({FEU}/{DDU}); never convert bases."""
    annotation = " ".join(normalise_unit(u)[1] for u in units).lower()
    said = "d_dimer_ddu" if "ddu" in annotation else "d_dimer_feu" if "feu" in annotation else None
    unknown = "d-dimer-basis-unknown" in flags
    if said is None:
        return kind
    if unknown:
        flags.remove("d-dimer-basis-unknown")
        return said
    if said != kind:
        notes.add("d-dimer-basis-conflict", "unit basis disagrees with the code", ref)
        return None
    return kind


def measurement(reading: Reading, q: Any, ranges: list[Any], notes: Notes) -> Measurement | None:
    """Build a Measurement from a Quantity, or warn and return None."""
    ref = reading.reference
    kind = reading.match.target
    flags = list(reading.match.flags) + list(reading.extra_flags)
    if q is None or q.value is None:
        notes.add("no-value", "observation has no numeric value", ref)
        return None
    if not sane(Decimal(q.value)) or not _sane_ranges(ranges):
        notes.add("invalid-resource", "a number is not finite or of an absurd magnitude", ref)
        return None
    units = quantity_unit(q)
    twin = percent_twin(kind)
    if reading.match.by_text and twin and any(normalise_unit(u)[0] == "%" for u in units):
        kind = twin  # "Lymphocytes" text with a % unit is the differential, not a count
    if kind.startswith("d_dimer"):
        if reading.match.by_text and "d-dimer-basis-unknown" not in flags and kind.endswith("feu"):
            flags.append("d-dimer-basis-unknown")  # plain "D-dimer" text: basis not stated
        settled = _d_dimer_kind(kind, flags, units, notes, ref)
        if settled is None:
            return None
        kind = settled
    found = to_canonical_observed(kind, Decimal(q.value), units)
    if found is None:
        notes.add("unknown-unit", f"unit missing or not convertible for {kind}", ref)
        return None
    value, observed = found
    if not plausible(kind, value):
        notes.add("implausible-value", f"{kind} outside its plausible range; set aside", ref)
        return None
    if q.comparator:
        flags.append(f"comparator:{q.comparator}")
    if reading.match.by_text:
        flags.append("matched-by-text")
        notes.add("matched-by-text", f"{kind} recognised from text, not a code", ref)
    if reading.match.confidence == "R":
        flags.append("unconfirmed-code")
    low, high = _range(kind, ranges, units, notes, ref)
    return Measurement(
        kind=kind, time=reading.time, value=value, unit=CANONICAL_UNITS[kind], reference=ref,
        ref_low=low, ref_high=high, status=reading.status, flags=tuple(dict.fromkeys(flags)),
        observed=observed,
    )


def memo_measurement(reading: Reading, raw: Any, validated: Callable[[], tuple[Any, list[Any]]],
                     notes: Notes) -> Measurement | None:
    """Return ``measurement`` for a Quantity and its first range, kept by their JSON bytes.

    ``validated`` returns the validated Quantity and ranges (or raises); it runs only when
    the same bytes with the same match were not met before. The result and its warnings
    depend on nothing else (the time, reference and status are set from ``reading``).
    """
    key = tagged(("measurement", reading.match, reading.extra_flags), raw)
    hit = ELEMENTS.get(key)
    if hit is MISSING:
        q, ranges = validated()
        sink = Notes()
        made = measurement(reading, q, ranges, sink)
        hit = (made, tuple((w.code, w.message) for w in sink.items()))
        ELEMENTS.put(key, hit)
    made, said = hit
    for code, message in said:
        notes.add(code, message, reading.reference)
    if made is None:
        return None
    return Measurement(kind=made.kind, time=reading.time, value=made.value, unit=made.unit,
                       reference=reading.reference, ref_low=made.ref_low,
                       ref_high=made.ref_high, status=reading.status, flags=made.flags,
                       observed=made.observed)


def _sane_ranges(ranges: list[Any]) -> bool:
    """Return False when a reference range bound is not a sane number."""
    for rng in ranges[:1]:
        for bound in (rng.low, rng.high):
            if bound is not None and bound.value is not None and not sane(Decimal(bound.value)):
                return False
    return True


def _range(kind: str, ranges: list[Any], units: list[str], notes: Notes,
           ref: str) -> tuple[Decimal | None, Decimal | None]:
    """Return the first reference range in the canonical unit (its own unit, else the value's)."""
    if not ranges:
        return None, None
    rng = ranges[0]
    out: list[Decimal | None] = []
    for bound in (rng.low, rng.high):
        if bound is None or bound.value is None:
            out.append(None)
            continue
        converted = to_canonical(kind, Decimal(bound.value), quantity_unit(bound) or units)
        if converted is None:
            notes.add("reference-range-unit", "reference range unit not convertible", ref)
            return None, None
        out.append(converted)
    return out[0], out[1]
