"""Observations (vitals, labs, oxygen devices) to Measurements and device facts.

Raw dicts are filtered by code and time first. Observations are the high-volume type, so
only the elements a criterion reads are validated, each with its R4B element model
(Quantity, ObservationReferenceRange, CodeableConcept); status, code and time are checked
here and in ``fhirtime``. Any element that fails sets the whole Observation aside.

Status: final, amended, corrected, preliminary and unknown are used (status kept on the
Measurement); registered (no result yet), cancelled and entered-in-error are excluded,
each with a warning. Time: effectiveDateTime, effectivePeriod (its start) or
effectiveInstant; ``issued`` only as a fallback, flagged "time-from-issued".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from criteria.model import Measurement
from fhir_mappers.codes import Match, device_class, observation_kind
from fhir_mappers.context import UNREADABLE, Context
from fhir_mappers.r4 import CodeableConcept, ObservationReferenceRange, Quantity
from fhir_mappers.values import Reading, measurement

USED = frozenset({"final", "amended", "corrected", "preliminary", "unknown"})
EXCLUDED = frozenset({"cancelled", "entered-in-error", "registered"})
_SPECIAL = ("bp_panel", "oxygen_device")


@dataclass(frozen=True)
class DeviceFact:
    """An oxygen delivery device recorded at a time (before pairing with flow/FiO2)."""

    time: datetime
    device: str  # device class from data/oxygen_devices.json
    reference: str
    end: datetime | None = None
    flags: tuple[str, ...] = ()


@dataclass
class ObservationResult:
    """Measurements and oxygen device facts read from Observations."""

    measurements: list[Measurement] = field(default_factory=list)
    devices: list[DeviceFact] = field(default_factory=list)


class _Invalid(Exception):
    """An element failed validation; the Observation is set aside."""


def _of_interest(raw: Mapping[str, Any]) -> Match | None:
    """Return the code match, or a panel placeholder if only components are of interest."""
    found = observation_kind(raw.get("code"))
    if found is not None:
        return found
    components = raw.get("component")
    for comp in components if isinstance(components, list) else ():
        if isinstance(comp, Mapping) and observation_kind(comp.get("code")) is not None:
            return Match("bp_panel", False)
    return None


def map_observations(resources: list[dict[str, Any]], ctx: Context) -> ObservationResult:
    """Map raw Observations; warn about and skip any that cannot be used."""
    out = ObservationResult()
    for raw in resources:
        ref = f"Observation/{raw.get('id')}"
        try:
            _observation(raw, ref, ctx, out)
        except UNREADABLE:
            ctx.notes.add("invalid-resource", "observation could not be read", ref)
    return out


def _observation(raw: Mapping[str, Any], ref: str, ctx: Context,
                 out: ObservationResult) -> None:
    """Map one Observation into ``out`` (all or nothing)."""
    match = _of_interest(raw)
    if match is None:
        return  # no criterion reads this code
    status = raw.get("status")
    if not isinstance(status, str):
        ctx.notes.add("invalid-status", "observation status missing or not valid", ref)
        return
    if status in EXCLUDED:
        ctx.notes.add(status, f"observation status {status} excluded", ref)
        return
    if status not in USED:
        ctx.notes.add("invalid-status", "observation status missing or not valid", ref)
        return
    when = ctx.when(raw, "effective", ref, fallback="issued")
    if when is None or not ctx.in_window(when.start, when.end, ref, "observations"):
        return
    extra: tuple[str, ...] = ()
    if when.source == "issued":
        extra = ("time-from-issued",)
    reading = Reading(match, when.start, ref, status, extra)
    found = ObservationResult()
    try:
        _map_one(raw, reading, when.end, ctx, found)
    except _Invalid:
        return
    if extra:
        ctx.notes.add("time-from-issued", "no effective time; issued time used", ref)
    out.measurements += found.measurements
    out.devices += found.devices


def _element(model: Any, data: Any, ref: str, ctx: Context, where: str) -> Any:
    """Validate one element with its R4B model; raise _Invalid (after a warning) on failure."""
    found = ctx.validate(model, data, ref, at=where) if isinstance(data, Mapping) else None
    if found is None:
        if not isinstance(data, Mapping):
            ctx.notes.add("invalid-resource", f"failed FHIR R4 validation at {where}", ref)
        raise _Invalid
    return found


def _value(holder: Mapping[str, Any], reading: Reading, ctx: Context,
           out: ObservationResult, where: str) -> None:
    """Map the value of an Observation or component holding a Quantity."""
    ref = reading.reference
    if "dataAbsentReason" in holder:
        ctx.notes.add("data-absent", f"{where} absent (dataAbsentReason)", ref)
        return
    if "valueQuantity" not in holder:
        code = "non-quantity-value" if any(k.startswith("value") for k in holder) else "no-value"
        ctx.notes.add(code, f"{where} has no Quantity value", ref)
        return
    q = _element(Quantity, holder["valueQuantity"], ref, ctx, "valueQuantity")
    ranges = holder.get("referenceRange") or []
    first = ranges[:1] if isinstance(ranges, list) else [ranges]
    checked = [_element(ObservationReferenceRange, r, ref, ctx, "referenceRange") for r in first]
    found = measurement(reading, q, checked, ctx.notes)
    if found is not None:
        out.measurements.append(found)


def _map_one(raw: Mapping[str, Any], reading: Reading, end: datetime | None, ctx: Context,
             out: ObservationResult) -> None:
    target = reading.match.target
    if target == "oxygen_device":
        _device(raw, reading, end, ctx, out)
    elif target != "bp_panel":
        _value(raw, reading, ctx, out, "value")
    components = raw.get("component") or []
    if not isinstance(components, list):
        ctx.notes.add("invalid-resource", "failed FHIR R4 validation at component",
                      reading.reference)
        raise _Invalid
    for index, comp in enumerate(components):
        comp_match = observation_kind(comp.get("code")) if isinstance(comp, Mapping) else None
        if comp_match is None or comp_match.target in _SPECIAL:
            continue
        comp_reading = Reading(comp_match, reading.time, f"{reading.reference}#component-{index}",
                               reading.status, reading.extra_flags)
        _value(comp, comp_reading, ctx, out, "component value")


def _device(raw: Mapping[str, Any], reading: Reading, end: datetime | None, ctx: Context,
            out: ObservationResult) -> None:
    ref = reading.reference
    if "dataAbsentReason" in raw:
        ctx.notes.add("data-absent", "device value absent (dataAbsentReason)", ref)
        return
    concept = raw.get("valueCodeableConcept")
    if concept is not None:
        _element(CodeableConcept, concept, ref, ctx, "valueCodeableConcept")
    text = raw.get("valueString")
    found = device_class(concept, text if isinstance(text, str) else None)
    if found is None:
        ctx.notes.add("device-not-classified", "oxygen device not recognised", ref)
        return
    flags = list(reading.extra_flags)
    if found.by_text or reading.match.by_text:
        flags.append("matched-by-text")
        ctx.notes.add("matched-by-text", "oxygen device recognised from text, not a code", ref)
    if found.confidence == "R":
        flags.append("unconfirmed-code")
    out.devices.append(DeviceFact(reading.time, found.target, ref, end,
                                  tuple(dict.fromkeys(flags))))
