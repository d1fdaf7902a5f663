"""Hypotension for ASTCT grading: a low reading confirmed by a second one or by treatment."""

# Source: ASTCT 2019 gives no number (Lee DW et al., BBMT 2019;25:625-638,
#   doi:10.1016/j.bbmt.2018.12.758); SBP <90 per PMC8021214; PALS systolic limits under 18 y.
# Table: clinical-criteria.md §1.1 item 7 (definition), §4.5 (MAP estimate)
# Confidence: assumption (the whole definition; configurable in criteria/data/crs-hypotension.json)
# Codes: LOINC 8480-6 SBP, 8462-4 DBP, 8478-0 MAP (mapped by fhir_mappers)

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from criteria.common import dosing_weight, given, in_window, say_number
from criteria.model import DrugClass, DrugExposure, Measurement, PatientTimeline
from criteria.rules import RuleSet
from criteria.vasopressors import infusions


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


def _estimated_maps(timeline: PatientTimeline) -> list[Measurement]:
    """Return MAP = DBP + (SBP - DBP)/3 for paired readings without a measured MAP (§4.5)."""
    measured = {m.time for m in timeline.series("mean_arterial_pressure")}
    dbp = {m.time: m for m in timeline.series("diastolic_bp")}
    out = []
    for s in timeline.series("systolic_bp"):
        d = dbp.get(s.time)
        if d is not None and s.time not in measured:
            value = d.value + (s.value - d.value) / 3
            out.append(replace(s, kind="mean_arterial_pressure", value=value,
                               flags=(*s.flags, "estimated")))
    return out


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
                       rules: RuleSet) -> HypotensionFinding:
    """Return confirmed hypotension in [start, now] by the configured definition."""
    limit = low_limit(timeline, now, rules)
    maps = list(timeline.series("mean_arterial_pressure"))
    if limit.map_below is not None and rules.flag("hypotension.estimate_map"):
        maps += _estimated_maps(timeline)
    early = start - rules.duration("hypotension.confirm_within")
    low = [m for m in in_window(timeline.series("systolic_bp"), early, now)
           if m.value < limit.sbp_below]
    if limit.map_below is not None:
        low += [m for m in in_window(maps, early, now) if m.value < limit.map_below]
    low.sort(key=lambda m: m.time)
    readings = len(in_window(timeline.series("systolic_bp"), start, now)) + len(
        in_window(maps, start, now))
    span = rules.duration("hypotension.treatment_within")
    pair = rules.duration("hypotension.confirm_within")
    treatments: list[DrugExposure] = [
        i.entries[0] for i in infusions(timeline, now, rules,
                                        (DrugClass.VASOPRESSOR, DrugClass.VASOPRESSIN_CLASS))]
    treatments += [b for b in timeline.drugs_of(DrugClass.FLUID_BOLUS)
                   if given(b, rules) and b.start <= now]
    adult = limit.map_below is not None
    events, unconfirmed = [], []
    for reading in (m for m in low if m.time >= start):
        other = next((m for m in low if m.time != reading.time
                      and abs(m.time - reading.time) <= pair), None)
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
