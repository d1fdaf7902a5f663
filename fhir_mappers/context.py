"""Shared state of one mapping run: clock, options, warnings and common checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fhir_mappers.fhirtime import TimeProblem, When, event_time, is_zoneless
from fhir_mappers.notes import Notes
from fhir_mappers.options import MapperOptions

M = TypeVar("M", bound=BaseModel)

# What junk input can raise inside one resource's mapping; each mapper loop turns these into
# a per-resource "invalid-resource" warning, never an exception out of build_timeline.
UNREADABLE = (TypeError, ValueError, ArithmeticError, OverflowError, RecursionError)


@dataclass(frozen=True)
class Context:
    """Evaluation time, options and the warning sink shared by every mapper."""

    now: datetime
    options: MapperOptions
    notes: Notes

    @property
    def window_start(self) -> datetime:
        """Return the oldest time any criterion reads."""
        return self.now - self.options.max_lookback

    def when(self, raw: Mapping[str, Any], prefix: str, ref: str,
             fallback: str | None = None) -> When | None:
        """Read an event time; warn and return None when it is missing or unusable."""
        try:
            found = event_time(raw, prefix, self.options.assume_timezone, fallback)
        except TimeProblem as problem:
            self.notes.add(problem.code, problem.message, ref)
            return None
        if found is None:
            self.notes.add("no-effective-time", "resource carries no usable time", ref)
            return None
        period = raw.get(f"{prefix}Period")
        stamps = [raw.get(found.source)]
        if isinstance(period, Mapping):
            stamps += [period.get("start"), period.get("end")]
        self.note_zone(stamps, ref)
        return found

    def note_zone(self, stamps: list[Any], ref: str) -> None:
        """Warn when a zone-less timestamp was read in the configured site zone."""
        if self.options.assume_timezone is not None and any(is_zoneless(s) for s in stamps):
            self.notes.add("time-zone-assumed", "timestamp without a zone read in site zone",
                           ref)

    def in_window(self, start: datetime, end: datetime | None, ref: str, what: str) -> bool:
        """Return True if an event overlaps [now - max_lookback, now]; warn if it is later."""
        if start > self.now:
            self.notes.add("after-evaluation-time", "timed after the evaluation time", ref)
            return False
        if (end or start) < self.window_start:
            self.notes.count("outside-lookback", f"{what} older than the look-back window")
            return False
        return True

    def validate(self, model: type[M], data: Mapping[str, Any], ref: str | None,
                 at: str = "") -> M | None:
        """Validate with an R4B model; a failure is a warning, never an exception."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
            path = [at] if at else []
            path += [str(p) for p in errors[0]["loc"]] if errors else []
            where = ".".join(path) or "?"
            self.notes.add("invalid-resource", f"failed FHIR R4 validation at {where}", ref)
            return None


def trimmed(raw: Mapping[str, Any], keep: frozenset[str], when: When | None,
            prefix: str) -> dict[str, Any]:
    """Copy only the elements a mapper reads, with its time rewritten in UTC.

    Validation is spent only on what the criteria use (issue 3 performance rule); the time
    was already checked strictly by ``fhirtime``.
    """
    out = {k: v for k, v in raw.items() if k in keep or k.startswith("value")}
    for key in (f"{prefix}DateTime", f"{prefix}Period", f"{prefix}Instant", "issued"):
        out.pop(key, None)
    if when is not None and when.source.startswith(prefix):
        if when.source.endswith("Period"):
            period = {"start": when.start.isoformat()}
            if when.end is not None:
                period["end"] = when.end.isoformat()
            out[f"{prefix}Period"] = period
        else:
            out[f"{prefix}DateTime"] = when.start.isoformat()
    return out
