"""Compare a value with a cut-off in the unit the source prints, when the value came in it."""

# Source: clinical-criteria.md §0 conventions ("Store each cut-off in every unit the source
#   prints. Compare in the observed unit when the source prints it; otherwise convert.")
# Table: clinical-criteria.md §2.1, §2.2, §2.6 (cut-offs), §4.5 (inexact conversions)
# Confidence: V (project convention); the cut-offs keep their own tags in criteria/data
# Codes: UCUM units as the resource gave them (Measurement.observed) and as printed
#   (the "printed" map of a rule constant)
#
# Example: the HScore prints ">4 mmol/L (>354 mg/dL)". A triglyceride of 4.0 mmol/L is
# 354.28 mg/dL after conversion (× 88.57) and would wrongly score 64; compared in mmol/L,
# 4.0 > 4 is false and it scores 44.

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from criteria.labs import recent
from criteria.model import Measurement, PatientTimeline
from criteria.rules import RuleSet

_BRACES = re.compile(r"\{[^}]*\}")


def unit_key(unit: str) -> str:
    """Return a unit for matching: annotations and spaces dropped, micro as 'u', lower case."""
    text = _BRACES.sub("", unit).replace(" ", "").replace("µ", "u").replace("μ", "u")
    return text.lower()


def in_printed_unit(m: Measurement, rules: RuleSet,
                    name: str) -> tuple[Decimal, Decimal] | None:
    """Return (observed value, printed cut-off) when the source prints the observed unit."""
    if m.observed is None:
        return None
    value, unit = m.observed
    key = unit_key(unit)
    for printed_unit, cut in rules.printed(name).items():
        if unit_key(printed_unit) == key:
            return value, cut
    return None


def against(m: Measurement, rules: RuleSet, name: str) -> tuple[Decimal, Decimal]:
    """Return (value, cut-off) in the observed unit when the constant prints it, else canonical.

    Callers keep the source's operator: ``value, cut = against(m, rules, name); value > cut``.
    """
    found = in_printed_unit(m, rules, name)
    return found if found is not None else (m.value, rules.decimal(name))


def uses_observed(m: Measurement | None, rules: RuleSet, *names: str) -> bool:
    """Return whether any of the named cut-offs was compared in the measurement's own unit."""
    return m is not None and any(in_printed_unit(m, rules, n) is not None for n in names)


def observed_refs(rules: RuleSet, pairs: Iterable[tuple[Measurement | None, str]]
                  ) -> tuple[str, ...]:
    """Return the references of readings compared in their own unit, for ``Item.observed``."""
    return tuple(dict.fromkeys(m.reference for m, name in pairs
                               if m is not None and uses_observed(m, rules, name)))


def pick(items: Iterable[Measurement], judge: Callable[[Measurement], int],
         high: bool) -> Measurement | None:
    """Return the most abnormal value by the criterion's own verdict, then by value.

    ``judge`` gives points or 1/0 for a hit. In one unit this is the highest (``high``) or
    lowest value, the latest of equals, as ``labs.highest`` / ``labs.lowest``; across units it
    keeps a value that meets a cut-off in its printed unit over one that only converts higher.
    """
    def key(m: Measurement) -> tuple[int, Decimal, datetime]:
        return judge(m), (m.value if high else -m.value), m.time

    found = list(items)
    return max(found, key=key) if found else None


def criterion_pick(timeline: PatientTimeline, kind: str, now: datetime, rules: RuleSet,
                   judge: Callable[[Measurement], int], *, high: bool,
                   window: str = "hyper.criterion_lab_window") -> Measurement | None:
    """Return the most abnormal value of a kind in a criterion window (see ``pick``)."""
    return pick(recent(timeline, kind, now, rules.duration(window)), judge, high)
