"""Options of the mappers (frozen, with safe defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo
from decimal import Decimal


@dataclass(frozen=True)
class MapperOptions:
    """How far back to read, how to pair oxygen data and how to treat zone-less times.

    ``max_lookback`` (200 days) covers the longest window any criterion reads: the 100-day
    IEC window after a CAR-T or bispecific dose, plus the 100 days before a treatment start
    that decide whether a bispecific dose starts a new course, plus the 30-day chronic-O2
    baseline before treatment start (clinical-criteria.md §0 Defaults). Data older than
    ``now - max_lookback`` are dropped before validation.

    ``pairing_tolerance``: a device observation and a flow or FiO2 value at most this far
    apart describe the same moment of oxygen support (docs/oxygen-mapping.md).

    ``assume_timezone``: a timestamp without a zone is set aside with a warning unless a
    site zone is configured here; then it is read in that zone, with a warning.
    """

    max_lookback: timedelta = timedelta(days=200)
    pairing_tolerance: timedelta = timedelta(minutes=15)
    assume_timezone: tzinfo | None = None
    low_flow_max_l_min: Decimal = Decimal("6.0")  # §1.1 item 4: 6.0 L/min is low flow
