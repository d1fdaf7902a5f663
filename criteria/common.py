"""Small helpers shared by the criteria: clock checks, windows, wording of durations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from criteria.model import DrugExposure, DrugSource, Measurement, PatientTimeline
from criteria.rules import RuleSet


def require_aware(now: datetime) -> None:
    """Refuse a naive evaluation time (times are aware UTC throughout)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("evaluation time must be timezone-aware")


def given(exposure: DrugExposure, rules: RuleSet) -> bool:
    """Return whether an exposure is an administration that was given (completed/in-progress)."""
    return (exposure.source is DrugSource.ADMINISTRATION
            and exposure.status in rules.strings("drugs.given_statuses"))


def in_window(items: Iterable[Measurement], start: datetime, end: datetime) -> list[Measurement]:
    """Return measurements in the closed window [start, end], oldest first."""
    return sorted((m for m in items if start <= m.time <= end and usable(m)),
                  key=lambda m: m.time)


def usable(measurement: Measurement) -> bool:
    """Return whether a measurement's status lets a criterion use it."""
    return measurement.status not in ("entered-in-error", "cancelled", "registered")


def latest_before(items: Iterable[Measurement], at: datetime) -> Measurement | None:
    """Return the latest usable measurement at or before a time."""
    found = [m for m in items if m.time <= at and usable(m)]
    return max(found, key=lambda m: m.time) if found else None


def dosing_weight(timeline: PatientTimeline, now: datetime,
                  rules: RuleSet) -> tuple[Measurement | None, str | None]:
    """Return the dosing weight (CC §0) and a flag when it is 7-30 d old."""
    weight = latest_before(timeline.series("body_weight"), now)
    if weight is None or now - weight.time > rules.duration("weight.flagged_max_age"):
        return None, None
    if now - weight.time > rules.duration("weight.max_age"):
        age = say_duration(now - weight.time)
        return weight, f"weight is {age} old (dated {weight.time:%Y-%m-%d})"
    return weight, None


def say_duration(span: timedelta) -> str:
    """Return a span as plain words, e.g. "5 h 10 min", "3 d 2 h"."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def say_number(value: Decimal) -> str:
    """Return a Decimal without trailing zeros or exponent (output only)."""
    return f"{value.normalize():f}"
