"""FHIR dateTime/instant strings to UTC datetimes, with explicit zone handling."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

# FHIR R4 dateTime: a year, year-month, date, or a date-time with seconds and optional zone.
_DATETIME = re.compile(
    r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?"
)


class TimeProblem(ValueError):
    """A time that cannot be used; ``code`` is the warning code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_datetime(raw: Any, assume: tzinfo | None) -> datetime:
    """Return a UTC datetime, or raise TimeProblem for partial, zone-less or bad values."""
    if not isinstance(raw, str) or not _DATETIME.fullmatch(raw.strip()):
        raise TimeProblem("invalid-time", "time is not a FHIR dateTime")
    text = raw.strip()
    if "T" not in text:
        raise TimeProblem("imprecise-time", "time has no time of day")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TimeProblem("invalid-time", "time is not a valid date-time") from exc
    if parsed.tzinfo is None:
        if assume is None:
            raise TimeProblem("time-zone-missing", "timestamp without a time zone")
        parsed = parsed.replace(tzinfo=assume)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # year 1 east of UTC, year 9999 west of it
        raise TimeProblem("invalid-time", "time is out of the supported range") from exc


def is_zoneless(raw: Any) -> bool:
    """Return True for a date-time string with a time of day but no zone."""
    return isinstance(raw, str) and "T" in raw and not re.search(r"(Z|[+-]\d{2}:\d{2})$", raw)


def parse_date(raw: Any) -> date | None:
    """Return a full date (YYYY-MM-DD, or the date part of a dateTime), else None."""
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class When:
    """The time of a clinical event: start, optional end, and where it came from."""

    start: datetime
    end: datetime | None
    source: str  # e.g. "effectiveDateTime", "effectivePeriod", "issued"


def event_time(
    raw: Mapping[str, Any], prefix: str, assume: tzinfo | None, fallback: str | None = None
) -> When | None:
    """Read ``<prefix>DateTime``/``Period``/``Instant`` (then ``fallback``) from a raw resource.

    Returns None when the resource carries no time at all; raises TimeProblem when the time
    it carries cannot be used.
    """
    if f"{prefix}DateTime" in raw:
        return When(parse_datetime(raw[f"{prefix}DateTime"], assume), None, f"{prefix}DateTime")
    if f"{prefix}Instant" in raw:
        return When(parse_datetime(raw[f"{prefix}Instant"], assume), None, f"{prefix}Instant")
    period = raw.get(f"{prefix}Period")
    if period is not None and not (isinstance(period, Mapping) and "start" in period):
        raise TimeProblem("invalid-time", "period is malformed or has no start")
    if isinstance(period, Mapping):
        start = parse_datetime(period["start"], assume)
        end = parse_datetime(period["end"], assume) if period.get("end") is not None else None
        if end is not None and end < start:
            raise TimeProblem("invalid-time", "period ends before it starts")
        return When(start, end, f"{prefix}Period")
    if fallback and fallback in raw:
        return When(parse_datetime(raw[fallback], assume), None, fallback)
    return None
