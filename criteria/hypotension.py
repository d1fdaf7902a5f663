"""Hypotension for ASTCT grading: a low reading confirmed by a second one or by treatment."""

# Source: ASTCT 2019 gives no number (Lee DW et al., BBMT 2019;25:625-638,
#   doi:10.1016/j.bbmt.2018.12.758); SBP <90 per PMC8021214; PALS systolic limits under 18 y.
# Table: clinical-criteria.md §1.1 item 7 (definition), §4.5 (MAP estimate)
# Confidence: assumption (the whole definition; configurable in criteria/data/crs-hypotension.json)
# Codes: LOINC 8480-6 SBP, 8462-4 DBP, 8478-0 MAP (mapped by fhir_mappers)

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from criteria.common import dosing_weight, given, in_window, say_number
from criteria.model import DrugClass, DrugExposure, Measurement, PatientTimeline
from criteria.rules import RuleSet
from criteria.vasopressors import Infusion, infusions

CONFIRMING = (DrugClass.VASOPRESSOR, DrugClass.VASOPRESSIN_CLASS)  # infusions confirming a low BP


@dataclass(frozen=True)
class LowLimit:
    """The low-reading limits that apply at one age."""

    sbp_below: Decimal
    map_below: Decimal | None  # adults only
    text: str
    rule_keys: tuple[str, ...]


@dataclass(frozen=True)
class HypotensionEvent:
    """A confirmed low reading and what confirmed it."""

    reading: Measurement
    confirmed_by: Measurement | DrugExposure
    limit: str


@dataclass(frozen=True)
class HypotensionFinding:
    """Confirmed and unconfirmed low readings in a window."""

    events: tuple[HypotensionEvent, ...]
    unconfirmed: tuple[Measurement, ...]
    readings: int
    limit: LowLimit
    flags: tuple[str, ...]

    @property
    def confirmed(self) -> bool:
        """Return whether hypotension was confirmed in the window."""
        return bool(self.events)


def low_limit(timeline: PatientTimeline, at: datetime, rules: RuleSet) -> LowLimit:
    """Return the systolic (and adult MAP) limits for the patient's age at a time."""
    age = timeline.age_years(at)
    born = timeline.patient.birth_date
    if age is None or born is None or age >= rules.integer("hypotension.adult_age"):
        sbp, map_ = rules.decimal("hypotension.adult_sbp_below"), rules.decimal(
            "hypotension.adult_map_below")
        text = f"SBP <{say_number(sbp)} or MAP <{say_number(map_)} mmHg"
        return LowLimit(sbp, map_, text, ("hypotension.adult_sbp_below",
                                          "hypotension.adult_map_below"))
    days = (at.date() - born).days
    if days <= rules.duration("hypotension.neonate_max_age").days:
        key = "hypotension.neonate_sbp_below"
        sbp = rules.decimal(key)
    elif age < 1:
        key = "hypotension.infant_sbp_below"
        sbp = rules.decimal(key)
    elif age < rules.integer("hypotension.child_formula_below_age"):
        key = "hypotension.child_sbp_base"
        sbp = rules.decimal(key) + rules.decimal("hypotension.child_sbp_per_year") * age
    else:
        key = "hypotension.older_child_sbp_below"
        sbp = rules.decimal(key)
    return LowLimit(sbp, None, f"SBP <{say_number(sbp)} mmHg (PALS, age {age} y)", (key,))


def _estimated_maps(timeline: PatientTimeline, early: datetime, start: datetime, end: datetime,
                    below: Decimal) -> tuple[list[Measurement], int]:
    """Return estimated MAPs = DBP + (SBP - DBP)/3 below a limit in [early, end], and how many
    estimates (any value) fall in [start, end]; paired readings without a measured MAP (§4.5).

    Only the low ones are built: every other estimate is merely counted as a reading.
    """
    measured = {m.time for m in timeline.series("mean_arterial_pressure")}
    dbp = {m.time: m for m in timeline.series("diastolic_bp")}
    low, count = [], 0
    for s in in_window(timeline.series("systolic_bp"), early, end):
        d = dbp.get(s.time)
        if d is not None and s.time not in measured:
            count += s.time >= start
            value = d.value + (s.value - d.value) / 3
            if value < below:
                low.append(replace(s, kind="mean_arterial_pressure", value=value,
                                   flags=(*s.flags, "estimated")))
    return low, count


def _confirming_reading(low: list[Measurement], times: list[datetime], reading: Measurement,
                        pair: timedelta) -> Measurement | None:
    """Return the first other low reading (in time order) within ``pair`` of a reading."""
    for i in range(bisect_left(times, reading.time - pair), len(low)):
        if times[i] > reading.time + pair:
            break
        if times[i] != reading.time:
            return low[i]
    return None


def _bolus_ok(bolus: DrugExposure, timeline: PatientTimeline, at: datetime,
              rules: RuleSet, adult: bool) -> bool:
    """Return whether a fluid administration is a bolus by the configured volume and time."""
    if bolus.end is not None and bolus.end - bolus.start > rules.duration(
            "hypotension.bolus_max_duration"):
        return False
    if bolus.dose is None or (bolus.dose_unit or "").lower() != "ml":
        return False
    if adult:
        return bolus.dose >= rules.decimal("hypotension.bolus_min_ml")
    weight, _ = dosing_weight(timeline, at, rules)
    return weight is not None and bolus.dose >= rules.decimal(
        "hypotension.bolus_min_ml_per_kg") * weight.value


def assess_hypotension(timeline: PatientTimeline, start: datetime, now: datetime,
                       rules: RuleSet, chains: list[Infusion] | None = None) -> HypotensionFinding:
    """Return confirmed hypotension in [start, now] by the configured definition.

    ``chains`` are the infusions at ``now`` (any pressor class) when the caller has them.
    """
    limit = low_limit(timeline, now, rules)
    early = start - rules.duration("hypotension.confirm_within")
    maps = list(timeline.series("mean_arterial_pressure"))
    estimates = 0
    if limit.map_below is not None and rules.flag("hypotension.estimate_map"):
        low_estimates, estimates = _estimated_maps(timeline, early, start, now, limit.map_below)
        maps += low_estimates
    low = [m for m in in_window(timeline.series("systolic_bp"), early, now)
           if m.value < limit.sbp_below]
    if limit.map_below is not None:
        low += [m for m in in_window(maps, early, now) if m.value < limit.map_below]
    low.sort(key=lambda m: m.time)
    low_times = [m.time for m in low]
    readings = len(in_window(timeline.series("systolic_bp"), start, now)) + len(
        in_window(timeline.series("mean_arterial_pressure"), start, now)) + estimates
    span = rules.duration("hypotension.treatment_within")
    pair = rules.duration("hypotension.confirm_within")
    if chains is None:
        chains = infusions(timeline, now, rules, CONFIRMING)
    treatments: list[DrugExposure] = [i.entries[0] for i in chains
                                      if i.drug_class in CONFIRMING]
    treatments += [b for b in timeline.drugs_of(DrugClass.FLUID_BOLUS)
                   if given(b, rules) and b.start <= now]
    adult = limit.map_below is not None
    events, unconfirmed = [], []
    for reading in (m for m in low if m.time >= start):
        other = _confirming_reading(low, low_times, reading, pair)
        treated = next((t for t in treatments if abs(t.start - reading.time) <= span and (
            t.drug_class is not DrugClass.FLUID_BOLUS
            or _bolus_ok(t, timeline, reading.time, rules, adult))), None)
        confirming = other or treated
        if confirming is None:
            unconfirmed.append(reading)
        else:
            events.append(HypotensionEvent(reading, confirming, limit.text))
    flags = ("birth date missing: adult blood-pressure limits used",) \
        if timeline.patient.birth_date is None and low else ()
    return HypotensionFinding(tuple(events), tuple(unconfirmed), readings, limit, flags)
