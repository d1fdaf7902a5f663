"""Observations (vitals, labs, oxygen devices) to Measurements and device facts.

Raw dicts are filtered by code and time first. Observations are the high-volume type, so
only the elements a criterion reads are validated, each with its R4B element model
(Quantity, ObservationReferenceRange, CodeableConcept); status, code and time are checked
here and in ``fhirtime``. Any element that fails sets the whole Observation aside.

Status: final, amended, corrected, preliminary and unknown are used (status kept on the
Measurement); registered (no result yet), cancelled and entered-in-error are excluded,
each with a warning. Time: effectiveDateTime, effectivePeriod (its start) or
effectiveInstant; ``issued`` only as a fallback, flagged "time-from-issued". An Observation
no criterion reads by code may still name a finding (``fhir_mappers.findings``).

Memo (``fhir_mappers.memo``): what one Observation gives apart from the evaluation time (its
warnings, time, measurements and device facts) is kept under the digest of its exact JSON
bytes; only the look-back check runs again for each request. Identical Quantity, reference
range, code and device elements are validated and converted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from criteria.model import ConditionFact, MappingWarning, Measurement
from fhir_mappers.codes import Match, device_class
from fhir_mappers.context import UNREADABLE, Context
from fhir_mappers.elements import Invalid, element, kind_of, of_interest
from fhir_mappers.fhirtime import When
from fhir_mappers.findings import candidate, finding_concepts, finding_facts
from fhir_mappers.memo import MISSING, OBSERVATIONS, resource_key
from fhir_mappers.notes import Notes
from fhir_mappers.options import MapperOptions
from fhir_mappers.r4 import CodeableConcept, ObservationReferenceRange, Quantity
from fhir_mappers.values import Reading, memo_measurement

USED = frozenset({"final", "amended", "corrected", "preliminary", "unknown"})
EXCLUDED = frozenset({"cancelled", "entered-in-error", "registered"})
_SPECIAL = ("bp_panel", "oxygen_device")
_OPTIONS: dict[MapperOptions, int] = {}  # options -> small tag in memo keys


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
    """Measurements, oxygen device facts and findings read from Observations."""

    measurements: list[Measurement] = field(default_factory=list)
    devices: list[DeviceFact] = field(default_factory=list)
    findings: list[ConditionFact] = field(default_factory=list)


@dataclass(frozen=True)
class _Mapped:
    """What an Observation in the look-back window gives: warnings, values, devices, findings."""

    notes: tuple[MappingWarning, ...]
    measurements: tuple[Measurement, ...]
    devices: tuple[DeviceFact, ...]
    findings: tuple[ConditionFact, ...] = ()


@dataclass
class _Read:
    """One Observation read without the evaluation time; ``mapped`` is filled on first use."""

    before: tuple[MappingWarning, ...]  # warnings up to the time check
    when: When | None  # None: the Observation gives nothing more
    match: Match | None = None
    status: str = ""
    mapped: _Mapped | None = None


def map_observations(resources: list[dict[str, Any]], ctx: Context) -> ObservationResult:
    """Map raw Observations; warn about and skip any that cannot be used."""
    out = ObservationResult()
    tag = _OPTIONS.setdefault(ctx.options, len(_OPTIONS))
    for raw in resources:
        ref = f"Observation/{raw.get('id')}"
        try:
            _observation(raw, ref, ctx, out, tag)
        except UNREADABLE:
            ctx.notes.add("invalid-resource", "observation could not be read", ref)
    return out


def _observation(raw: Mapping[str, Any], ref: str, ctx: Context, out: ObservationResult,
                 tag: int) -> None:
    """Map one Observation into ``out`` (all or nothing), from the memo when it is there."""
    digest = resource_key(raw)
    key = None if digest is None else (tag, digest)
    read = OBSERVATIONS.get(key)
    if read is MISSING:
        read = _flushing(ctx, lambda local: _read(raw, ref, local))
        OBSERVATIONS.put(key, read)
    ctx.notes.extend(read.before)
    when, match, mapped = read.when, read.match, read.mapped
    if when is None or not ctx.in_window(when.start, when.end, ref, "observations"):
        return
    if mapped is None:  # a finding (no match) is mapped when read
        if match is None:
            return
        reading = Reading(match, when.start, ref, read.status,
                          ("time-from-issued",) if when.source == "issued" else ())
        mapped = read.mapped = _flushing(ctx, lambda local: _map(raw, reading, when.end, local))
    ctx.notes.extend(mapped.notes)
    out.measurements += mapped.measurements
    out.devices += mapped.devices
    if mapped.findings:
        out.findings += mapped.findings


def _flushing(ctx: Context, step: Any) -> Any:
    """Run a step on a private warning sink; on junk, hand its warnings over and re-raise."""
    local = Context(ctx.now, ctx.options, Notes())
    try:
        return step(local)
    except UNREADABLE:
        ctx.notes.extend(local.notes.items())
        raise


def _read(raw: Mapping[str, Any], ref: str, ctx: Context) -> _Read:
    """Check code, status and time (never the evaluation time: this result is kept)."""
    match = of_interest(raw)
    concepts = finding_concepts(raw) if match is None and candidate(raw) else ()
    if match is None and not concepts:
        return _Read((), None)  # no criterion reads this code
    status = raw.get("status")
    if not isinstance(status, str):
        ctx.notes.add("invalid-status", "observation status missing or not valid", ref)
    elif status in EXCLUDED:
        ctx.notes.add(status, f"observation status {status} excluded", ref)
    elif status not in USED:
        ctx.notes.add("invalid-status", "observation status missing or not valid", ref)
    else:
        when = ctx.when(raw, "effective", ref, fallback="issued")
        read = _Read(ctx.notes.items(), when, match, status)
        if match is None and when is not None:
            read.mapped = _finding(concepts, ref, status, when)
        return read
    return _Read(ctx.notes.items(), None)


def _finding(concepts: tuple[str, ...], ref: str, status: str, when: When) -> _Mapped:
    """Map the findings an Observation names (warnings kept for when it is in the window)."""
    local = Notes()
    local.add("matched-by-text", "finding recognised from observation text, not a code", ref)
    issued = ("time-from-issued",) if when.source == "issued" else ()
    if issued:
        local.add("time-from-issued", "no effective time; issued time used", ref)
    return _Mapped(local.items(), (), (), finding_facts(concepts, ref, status, when.start, issued))


def _map(raw: Mapping[str, Any], reading: Reading, end: datetime | None,
         ctx: Context) -> _Mapped:
    """Map the values of an Observation in the window (all or nothing)."""
    found = ObservationResult()
    try:
        _map_one(raw, reading, end, ctx, found)
    except Invalid:
        return _Mapped(ctx.notes.items(), (), ())
    if reading.extra_flags:
        ctx.notes.add("time-from-issued", "no effective time; issued time used",
                      reading.reference)
    return _Mapped(ctx.notes.items(), tuple(found.measurements), tuple(found.devices))


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
    raw_q = holder["valueQuantity"]
    ranges = holder.get("referenceRange") or []
    first = ranges[:1] if isinstance(ranges, list) else [ranges]

    def validated() -> tuple[Any, list[Any]]:
        q = element(Quantity, raw_q, ref, ctx, "valueQuantity")
        return q, [element(ObservationReferenceRange, r, ref, ctx, "referenceRange")
                   for r in first]

    found = memo_measurement(reading, (raw_q, first), validated, ctx.notes)
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
        raise Invalid
    for index, comp in enumerate(components):
        comp_match = kind_of(comp.get("code")) if isinstance(comp, Mapping) else None
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
        element(CodeableConcept, concept, ref, ctx, "valueCodeableConcept")
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
