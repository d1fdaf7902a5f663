"""Oxygen support for ASTCT grading: the hypoxia tier by delivery mode, never by SpO2."""

# Source: Lee DW et al., BBMT 2019;25:625-638, doi:10.1016/j.bbmt.2018.12.758 (ASTCT CRS)
# Table: ASTCT CRS grading, hypoxia column; clinical-criteria.md §1.1 items 4 and 8, §4.2
# Confidence: V (<=6 L/min low flow = 2, >6 L/min = 3, masks 3, positive pressure 4);
#   assumption (12 h record age unless charted as running, HFNC without flow = 3,
#   chronic-O2 baseline, SpO2 guard)
# Codes: LOINC 107117-4 device, 3151-8 flow, 3150-0 FiO2; SNOMED devices §4.2 (fhir_mappers)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from criteria.common import in_window, say_number
from criteria.model import OxygenModality, OxygenSupport, PatientTimeline
from criteria.rules import RuleSet

CANNULAS = (OxygenModality.LOW_FLOW_CANNULA, OxygenModality.HIGH_FLOW_CANNULA,
            OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW)
FLOW_MISSING = "flow missing; grade 3 if >6 L/min"
DEVICE_MISSING = "device missing"
CHRONIC_O2 = "on chronic O2"


@dataclass(frozen=True)
class RecordTier:
    """The tier one record supports, and what could raise it."""

    tier: int
    lower_bound: bool
    raise_hint: str | None
    flags: tuple[str, ...]
    rule_keys: tuple[str, ...]


@dataclass(frozen=True)
class OxygenFinding:
    """The oxygen record in use and the ASTCT hypoxia tier it sets."""

    record: OxygenSupport | None  # latest record no older than oxygen.max_age
    tier: int | None  # None: unknown (no recent record)
    record_tier: RecordTier | None  # before the chronic-O2 baseline
    baseline_tier: int | None
    flags: tuple[str, ...]
    rule_keys: tuple[str, ...]


def record_tier(record: OxygenSupport, rules: RuleSet) -> RecordTier:
    """Return the ASTCT hypoxia tier of one record (CC §1.1 item 8: flow wins over device)."""
    low_max = rules.decimal("oxygen.low_flow_max")
    flow = record.flow_l_min
    device_missing = record.modality is OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE or \
        "device-missing" in record.flags
    dev_flag = (DEVICE_MISSING,) if device_missing else ()
    if flow is not None and (record.modality in CANNULAS or device_missing):
        if flow <= low_max:
            hint = "3 if a mask, 4 if positive pressure" if device_missing else None
            return RecordTier(2, device_missing, hint, dev_flag, ("oxygen.low_flow_max",))
        return RecordTier(3, False, None, dev_flag, ("oxygen.low_flow_max",))
    if record.modality is OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW:
        hint = f"3 if flow >{say_number(low_max)} L/min"
        return RecordTier(2, True, hint, (FLOW_MISSING,), ())
    if record.modality is OxygenModality.HIGH_FLOW_CANNULA:
        key = "oxygen.hfnc_without_flow_tier"
        return RecordTier(rules.integer(key), False, None, ("flow missing",), (key,))
    if record.modality is OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE:
        hint = f"3 if flow >{say_number(low_max)} L/min or a mask, 4 if positive pressure"
        return RecordTier(2, True, hint, dev_flag, ())
    return RecordTier(int(rules.table("oxygen.tiers")[record.modality.value]), False, None,
                      dev_flag, ())


def latest_record(timeline: PatientTimeline, now: datetime,
                  rules: RuleSet) -> OxygenSupport | None:
    """Return the latest record at or before now, if no older than oxygen.max_age."""
    records = [r for r in timeline.oxygen if r.time <= now]
    if not records:
        return None
    record = max(records, key=lambda r: r.time)
    return record if now - last_seen(record, now) <= rules.duration("oxygen.max_age") else None


def last_seen(record: OxygenSupport, now: datetime) -> datetime:
    """Return when a record was last known true: now while charted as running, else its end
    (up to now) or its time. A running record is current, never aged out by oxygen.max_age."""
    if record.running and (record.end is None or record.end > now):
        return now
    return min(record.end, now) if record.end is not None else record.time


def baseline_tier(timeline: PatientTimeline, treatment_start: datetime | None,
                  rules: RuleSet) -> int | None:
    """Return the highest tier recorded in the chronic-O2 baseline window, if any."""
    if treatment_start is None or not rules.flag("oxygen.chronic_baseline"):
        return None
    start = treatment_start - rules.duration("oxygen.chronic_baseline_from")
    end = treatment_start - rules.duration("oxygen.chronic_baseline_to")
    tiers = [record_tier(r, rules).tier for r in timeline.oxygen if start <= r.time <= end]
    return max(tiers) if tiers else None


def assess_oxygen(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                  treatment_start: datetime | None) -> OxygenFinding:
    """Return the hypoxia tier from the latest record, net of the chronic-O2 baseline."""
    record = latest_record(timeline, now, rules)
    base = baseline_tier(timeline, treatment_start, rules)
    if record is None:
        return OxygenFinding(None, None, None, base, (), ("oxygen.max_age",))
    if record.end is not None and record.end <= now:
        ended = RecordTier(0, True, "oxygen support ended; current support not recorded",
                           ("oxygen support ended",), ())
        return OxygenFinding(record, 0, ended, base, ended.flags, ())
    rt = record_tier(record, rules)
    tier, flags, keys = rt.tier, list(rt.flags), list(rt.rule_keys)
    if base and tier <= base:
        tier = 0
        flags.append(CHRONIC_O2)
        keys.append("oxygen.chronic_baseline")
    if tier and rules.flag("oxygen.spo2_guard"):
        low = rules.decimal("oxygen.spo2_guard_below")
        spo2 = in_window(timeline.series("spo2"), now - rules.duration("astct.temperature_window"),
                         now)
        if not any(m.value < low for m in spo2):
            flags.append("no hypoxaemia documented")
            keys.append("oxygen.spo2_guard")
    return OxygenFinding(record, tier, rt, base, tuple(flags), tuple(keys))


def counted_o2_times(timeline: PatientTimeline, start: datetime, now: datetime, rules: RuleSet,
                     treatment_start: datetime | None) -> list[datetime]:
    """Return times of records in [start, now] whose support counts (tier >= 2, above baseline)."""
    base = baseline_tier(timeline, treatment_start, rules) or 0
    out = []
    for record in timeline.oxygen:
        if start <= record.time <= now and record_tier(record, rules).tier > max(base, 0):
            out.append(last_seen(record, now))
    return out
