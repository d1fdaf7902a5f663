"""Conditions to ConditionFacts (infection, sJIA, organomegaly, COVID-19, ...).

Refuted and entered-in-error Conditions are excluded with a warning; clinical and
verification status are kept for the criteria. A date-only onset or recorded date is read
as midnight UTC and flagged "date-only".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from criteria.model import ConditionFact
from fhir_mappers.codes import condition_concepts
from fhir_mappers.context import Context
from fhir_mappers.fhirtime import TimeProblem, parse_date, parse_datetime
from fhir_mappers.r4 import Condition
from fhir_mappers.text import codings

EXCLUDED = frozenset({"entered-in-error", "refuted"})
_KEEP = frozenset({"resourceType", "id", "clinicalStatus", "verificationStatus", "code",
                   "subject"})


def _status(concept: Any) -> str | None:
    found = codings(concept)
    return found[0][1] if found else None


def _time(raw: Any, ctx: Context, flags: list[str]) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return parse_datetime(raw, ctx.options.assume_timezone)
    except TimeProblem:
        day = parse_date(raw)
        if day is None or len(raw) != 10:
            return None
        flags.append("date-only")
        return datetime(day.year, day.month, day.day, tzinfo=UTC)


def map_conditions(resources: list[dict[str, Any]], ctx: Context) -> list[ConditionFact]:
    """Map raw Conditions naming a concept the criteria read."""
    out: list[ConditionFact] = []
    for raw in resources:
        concepts, by_text = condition_concepts(raw.get("code"))
        if not concepts:
            continue
        ref = f"Condition/{raw['id']}"
        verification = _status(raw.get("verificationStatus"))
        if verification in EXCLUDED:
            ctx.notes.add(str(verification), f"condition {verification} excluded", ref)
            continue
        flags: list[str] = []
        period = raw.get("onsetPeriod")
        onset = _time(raw.get("onsetDateTime") or (
            period.get("start") if isinstance(period, Mapping) else None), ctx, flags)
        recorded = _time(raw.get("recordedDate"), ctx, flags)
        ctx.note_zone([raw.get("onsetDateTime"), raw.get("recordedDate")], ref)
        if (recorded or onset or ctx.now) > ctx.now:
            ctx.notes.add("after-evaluation-time", "recorded after the evaluation time", ref)
            continue
        if ctx.validate(Condition, {k: v for k, v in raw.items() if k in _KEEP}, ref) is None:
            continue
        if by_text:
            flags.append("matched-by-text")
            ctx.notes.add("matched-by-text", "condition recognised from text, not a code", ref)
        for concept in sorted(concepts):
            out.append(ConditionFact(
                concept=concept, reference=ref,
                clinical_status=_status(raw.get("clinicalStatus")),
                verification_status=verification, onset=onset, recorded=recorded,
                flags=tuple(dict.fromkeys(flags)),
            ))
    return out
