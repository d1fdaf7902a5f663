"""Shared helpers of the hyperinflammation criteria: lab windows, value selection, items, trends."""

# Source: clinical-criteria.md §0 Defaults (Criterion labs, Lab baseline, ULN/LLN, IEC window)
#   and conventions (missing data is unknown, never negative; literal inequalities)
# Table: clinical-criteria.md §0, §2
# Confidence: assumption (windows and selection; criteria/data/hyper-common.json)
# Codes: measurement kinds of criteria.model.CANONICAL_UNITS (mapped by fhir_mappers, §4.3)

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from criteria.assessment import Assessment, Evidence, iso, json_number
from criteria.common import in_window
from criteria.model import ConditionFact, DrugExposure, Measurement, PatientTimeline
from criteria.rules import RuleSet

Status = Literal["met", "not-met", "unknown", "shown"]  # shown: a value without a cut-off
INACTIVE = frozenset({"inactive", "resolved", "remission"})


LAB_NAMES = {"wbc": "WBC", "neutrophils": "ANC", "lymphocytes_pct": "lymphocyte %",
             "d_dimer_feu": "D-dimer (FEU)", "d_dimer_ddu": "D-dimer (DDU)",
             "troponin_i": "troponin I", "anion_gap": "anion gap", "sil2r": "sIL-2R (sCD25)",
             "ast": "AST", "alt": "ALT", "ldh": "LDH", "crp": "CRP", "bun": "BUN"}


def lab_name(kind: str) -> str:
    """Return the display name of a measurement kind ("sil2r" -> "sIL-2R (sCD25)")."""
    return LAB_NAMES.get(kind, kind.replace("_", " "))


def status(value: bool | None) -> Status:
    """Return the item status for True, False or None (unknown)."""
    return "unknown" if value is None else ("met" if value else "not-met")


@dataclass(frozen=True)
class Item:
    """One criterion item: its status, the data behind it and what would decide it."""

    name: str
    label: str
    status: Status
    readings: tuple[Measurement, ...] = ()
    facts: tuple[ConditionFact, ...] = ()
    points: int | None = None  # scores: points given (unknown items: 0)
    max_points: int | None = None  # scores: highest the item could give
    resolve: str | None = None  # what would decide an unknown item
    labs: tuple[str, ...] = ()  # measurement kinds whose result would decide it
    note: str | None = None
    # references of readings compared in the unit the resource gave (criteria.cutoffs, §0)
    observed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready item (no empty members)."""
        out: dict[str, Any] = {"item": self.name, "label": self.label, "status": self.status}
        if self.points is not None:
            out["points"] = self.points
        if self.max_points is not None and self.max_points != self.points:
            out["maxPoints"] = self.max_points
        if self.readings:
            out["values"] = [{"kind": m.kind, "value": json_number(m.value), "unit": m.unit,
                              "time": iso(m.time), "reference": m.reference}
                             for m in self.readings]
            for entry, m in zip(out["values"], self.readings, strict=True):
                if m.observed is not None and m.reference in self.observed:
                    entry["observed"] = {"value": json_number(m.observed[0]),
                                         "unit": m.observed[1]}
        if self.facts:
            out["conditions"] = [{"concept": f.concept, "reference": f.reference}
                                 for f in self.facts]
        if self.resolve and self.status == "unknown":
            out["decidedBy"] = self.resolve
        if self.labs and self.status == "unknown":
            out["labs"] = list(self.labs)
        if self.note:
            out["note"] = self.note
        return out


def recent(timeline: PatientTimeline, kind: str, now: datetime,
           span: timedelta) -> list[Measurement]:
    """Return usable measurements of a kind in [now - span, now], oldest first."""
    return in_window(timeline.series(kind), now - span, now)


def highest(items: Iterable[Measurement]) -> Measurement | None:
    """Return the highest value (the latest of equal values)."""
    found = list(items)
    return max(found, key=lambda m: (m.value, m.time)) if found else None


def lowest(items: Iterable[Measurement]) -> Measurement | None:
    """Return the lowest value (the latest of equal values)."""
    found = list(items)
    return min(found, key=lambda m: (m.value, -m.time.timestamp())) if found else None


def criterion_high(timeline: PatientTimeline, kind: str, now: datetime, rules: RuleSet,
                   window: str = "hyper.criterion_lab_window") -> Measurement | None:
    """Return the most abnormal (highest) value in a criterion window."""
    return highest(recent(timeline, kind, now, rules.duration(window)))


def criterion_low(timeline: PatientTimeline, kind: str, now: datetime, rules: RuleSet,
                  window: str = "hyper.criterion_lab_window") -> Measurement | None:
    """Return the most abnormal (lowest) value in a criterion window."""
    return lowest(recent(timeline, kind, now, rules.duration(window)))


def max_temperature(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Measurement | None:
    """Return the maximum temperature of the temperature window."""
    return criterion_high(timeline, "temperature", now, rules, "hyper.temperature_window")


def baseline(timeline: PatientTimeline, kind: str, index: DrugExposure | None,
             rules: RuleSet) -> Measurement | None:
    """Return the lab baseline: the last value from day -7 (00:00 UTC) to the index dose."""
    if index is None:
        return None
    first_day = index.start.date() - timedelta(days=rules.integer("hyper.baseline_days_before"))
    start = datetime.combine(first_day, time(), UTC)
    found = in_window(timeline.series(kind), start, index.start)
    return found[-1] if found else None


def facts(timeline: PatientTimeline, concept: str) -> tuple[ConditionFact, ...]:
    """Return the active (not resolved) ConditionFacts of a concept."""
    return tuple(c for c in timeline.conditions
                 if c.concept == concept and c.clinical_status not in INACTIVE)


def above_multiple(m: Measurement | None, multiple: Decimal,
                   base: Decimal | None) -> bool | None:
    """Return whether a value is strictly above multiple × base; None when either is unknown."""
    if m is None or base is None:
        return None
    return m.value > multiple * base


def any_of(values: Sequence[bool | None]) -> bool | None:
    """Return True if any is True, False if all are False, else None."""
    if any(v is True for v in values):
        return True
    return False if values and all(v is False for v in values) else None


def all_of(values: Sequence[bool | None]) -> bool | None:
    """Return False if any is False, True if all are True, else None."""
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def count_outcome(items: Sequence[Item], required: int) -> tuple[bool | None, int, int]:
    """Return (met, met count, unknown count): met at required, False when it cannot be reached."""
    met = sum(1 for i in items if i.status == "met")
    unknown = sum(1 for i in items if i.status == "unknown")
    if met >= required:
        return True, met, unknown
    return (None if met + unknown >= required else False), met, unknown


def _evidence(item: Item, criteria: str) -> list[Evidence]:
    note = f"{item.label}: {item.status}"
    if item.points is not None:
        note += f", {item.points} points"
    out = [Evidence(m.kind, m.time, m.reference, m.value, m.unit, note) for m in item.readings]
    out += [Evidence(f.concept, f.onset or f.recorded or datetime.min.replace(tzinfo=UTC),
                     f.reference, f.verification_status or "recorded", None, note)
            for f in item.facts if f.onset or f.recorded]
    return out


def assessment(criteria: str, met: bool | None, now: datetime, items: Sequence[Item],
               rules: RuleSet, keys: Iterable[str], *, extra: dict[str, Any] | None = None,
               notes: Iterable[str] = (), missing: Iterable[str] = (),
               grade: int | None = None) -> Assessment:
    """Return the Assessment of an item-based criterion with evidence, missing and assumptions."""
    evidence = [e for item in items for e in _evidence(item, criteria)]
    gaps = [*missing, *(f"{i.label}: {i.resolve}" for i in items
                        if i.status == "unknown" and i.resolve)]
    assumptions = [*(rules.note(k) for k in dict.fromkeys(keys)), *notes]
    body: dict[str, Any] = {"items": [i.to_json() for i in items], **(extra or {}),
                            "rulesVersion": rules.version}
    return Assessment(criteria, met, now, grade=grade, evidence=tuple(evidence),
                      missing=tuple(dict.fromkeys(gaps)),
                      assumptions=tuple(dict.fromkeys(assumptions)), extra=body)


@dataclass(frozen=True)
class LabTrend:
    """Peak, latest, previous and baseline of one lab over the trend window."""

    kind: str
    latest: Measurement | None
    previous: Measurement | None
    peak: Measurement | None
    baseline: Measurement | None
    count: int
    rise_min_pct: Decimal

    @property
    def change_pct(self) -> Decimal | None:
        """Return the change of the latest value from the previous one, in %."""
        if self.latest is None or self.previous is None or self.previous.value == 0:
            return None
        return (self.latest.value - self.previous.value) / self.previous.value * 100

    @property
    def direction(self) -> str | None:
        """Return "rising", "falling" or "stable" against the previous value."""
        pct = self.change_pct
        if pct is None:
            return None
        if pct >= self.rise_min_pct:
            return "rising"
        return "falling" if pct <= -self.rise_min_pct else "stable"

    @property
    def rise_since_baseline_pct(self) -> Decimal | None:
        """Return the rise of the peak over the baseline, in %."""
        if self.peak is None or self.baseline is None or self.baseline.value == 0:
            return None
        return (self.peak.value - self.baseline.value) / self.baseline.value * 100

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready trend."""
        out: dict[str, Any] = {"kind": self.kind, "count": self.count}
        for name in ("latest", "previous", "peak", "baseline"):
            m = getattr(self, name)
            if m is not None:
                out[name] = {"value": json_number(m.value), "unit": m.unit, "time": iso(m.time),
                             "reference": m.reference}
        if self.direction:
            out["direction"] = self.direction
        rise = self.rise_since_baseline_pct
        if rise is not None:
            out["riseSinceBaselinePct"] = json_number(rise.quantize(Decimal("1")))
        return out


def lab_trend(timeline: PatientTimeline, kind: str, now: datetime, rules: RuleSet,
              index: DrugExposure | None) -> LabTrend:
    """Return the trend of a lab (ferritin, CRP) over the trend window."""
    items = recent(timeline, kind, now, rules.duration("hyper.trend_window"))
    return LabTrend(kind, items[-1] if items else None, items[-2] if len(items) > 1 else None,
                    highest(items), baseline(timeline, kind, index, rules), len(items),
                    rules.decimal("iechs.rise_min_pct"))
