"""Secondary CRS grades beside ASTCT: Lee 2014 (modified CTCAE) and CTCAE v5.0."""

# Source: Lee DW et al., Blood 2014;124(2):188-195 [V2: PMC7006459 Table 2];
#   CTCAE v5.0 cytokine release syndrome [R]; FiO2 estimate 21 % + 4 %/L [R, heuristic]
# Table: clinical-criteria.md §1.3 (Lee 2014, high-dose vasopressors [R]), §1.4 (CTCAE v5,
#   ventilation and FiO2 estimate)
# Confidence: V2 (Lee grades); R (high-dose table, NE-equivalent 10 with vasopressin and 20 in
#   combination, 3 h, CTCAE v5 row, FiO2 estimate)
# Codes: LOINC 3150-0 FiO2, 3151-8 flow; vasopressors per criteria.vasopressors

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from criteria.assessment import Assessment, json_number
from criteria.astct import CrsFindings
from criteria.common import dosing_weight
from criteria.model import DrugClass, DrugExposure, OxygenModality, PatientTimeline
from criteria.oxygen import CANNULAS
from criteria.report import evidence_for, missing_for, not_screened
from criteria.rules import RuleSet
from criteria.screening import Screening
from criteria.vasopressors import Infusion

if TYPE_CHECKING:
    from criteria.crs import CrsEpisode

LEE, CTCAE = "lee-2014-crs", "ctcae-5-crs"
POSITIVE_PRESSURE = (OxygenModality.CPAP, OxygenModality.BIPAP, OxygenModality.INVASIVE)
PER_KG = ("ug/(kg.min)", "ug/kg/min", "mcg/kg/min")
NE_EQUIVALENT_AGENTS = ("norepinephrine", "dopamine", "epinephrine", "phenylephrine")  # VASST


def ne_equivalent(rates: Mapping[str, Decimal]) -> Decimal:
    """Return the VASST norepinephrine equivalent (ug/min; dopamine in ug/kg/min), CC §1.3."""
    return (rates.get("norepinephrine", Decimal(0)) + rates.get("dopamine", Decimal(0)) / 2
            + rates.get("epinephrine", Decimal(0)) + rates.get("phenylephrine", Decimal(0)) / 10)


def _rate(entry: DrugExposure, weight: Decimal | None) -> Decimal | None:
    """Return a rate in the Lee table's unit (dopamine ug/kg/min, others ug/min)."""
    if entry.rate is None or entry.rate_unit is None:
        return None
    per_kg = entry.rate_unit in PER_KG
    if entry.rate_unit not in (*PER_KG, "ug/min", "mcg/min"):
        return None
    if (entry.ingredient == "dopamine") == per_kg:
        return entry.rate
    if weight is None:
        return None
    return entry.rate / weight if entry.ingredient == "dopamine" else entry.rate * weight


def high_dose(inf: Infusion, weight: Decimal | None, now: datetime, rules: RuleSet) -> bool | None:
    """Return whether one agent has run at Lee 2014 high dose for the sustained span."""
    limit = rules.table("lee.high_dose").get(inf.ingredient)
    if limit is None:
        return None
    since = None
    for entry in reversed(inf.entries):
        rate = _rate(entry, weight)
        if rate is None:
            return None if since is None else now - since >= rules.duration(
                "lee.high_dose_sustained")
        if rate < Decimal(limit):
            break
        since = entry.start
    return since is not None and now - since >= rules.duration("lee.high_dose_sustained")


def _ne_equivalent_at(agents: tuple[Infusion, ...], at: datetime,
                      weight: Decimal | None) -> Decimal | None:
    """Return the NE-equivalent of the counted agents' rates in force at a time (None: unknown)."""
    rates: dict[str, Decimal] = {}
    for inf in agents:
        entries = [e for e in inf.entries if e.start <= at]
        if not entries or inf.ingredient not in NE_EQUIVALENT_AGENTS:
            continue
        rate = _rate(entries[-1], weight)
        if rate is None:
            return None
        rates[inf.ingredient] = rates.get(inf.ingredient, Decimal(0)) + rate
    return ne_equivalent(rates)


def combination_high_dose(agents: tuple[Infusion, ...], weight: Decimal | None, now: datetime,
                          rules: RuleSet) -> tuple[bool | None, Decimal | None, str]:
    """Return whether running agents in combination are at Lee 2014 high dose (CC §1.3 [R]).

    With a vasopressin-class agent the NE-equivalent must reach
    ``lee.ne_equivalent_with_vasopressin``, else ``lee.ne_equivalent_combination``; either
    sustained for ``lee.high_dose_sustained``. Returns (high, NE-equivalent now, rule key).
    """
    with_vasopressin = any(a.drug_class is DrugClass.VASOPRESSIN_CLASS for a in agents)
    key = "lee.ne_equivalent_with_vasopressin" if with_vasopressin else \
        "lee.ne_equivalent_combination"
    limit = rules.decimal(key)
    counted = tuple(a for a in agents if a.drug_class is DrugClass.VASOPRESSOR)
    sustained = rules.duration("lee.high_dose_sustained")
    current = _ne_equivalent_at(counted, now, weight)
    since = None
    for point in sorted({e.start for a in counted for e in a.entries if e.start <= now},
                        reverse=True):
        value = _ne_equivalent_at(counted, point, weight)
        if value is None:
            return (None if since is None else now - since >= sustained), current, key
        if value < limit:
            break
        since = point
    return since is not None and now - since >= sustained, current, key


def _fio2(f: CrsFindings, rules: RuleSet) -> tuple[Decimal | None, list[str]]:
    rec = f.oxygen.record
    if rec is None:
        return None, []
    if rec.fio2_pct is not None:
        return rec.fio2_pct, []
    flow = rec.flow_l_min
    if rec.modality in CANNULAS and flow is not None and flow <= rules.decimal(
            "fio2_estimate.max_flow"):
        est = rules.decimal("fio2_estimate.base") + rules.decimal("fio2_estimate.per_l_min") * flow
        return est, ["fio2_estimate.base", "fio2_estimate.per_l_min"]
    return None, []


def _grade(timeline: PatientTimeline, now: datetime, rules: RuleSet, criteria: str,
           screening: Screening, f: CrsFindings, masked_by: DrugExposure | None,
           episode: CrsEpisode | None) -> Assessment:
    if not screening.screened:
        return not_screened(criteria, now, rules, screening, timeline)
    lee = criteria == LEE
    fio2_key = "secondary.fio2_high" if lee else "ctcae.fio2_high"
    keys: list[str] = []
    ne_eq: Decimal | None = None
    hints: list[str] = ["higher with organ toxicity (not assessed)"] if lee else []
    fio2, est_keys = _fio2(f, rules)
    rec = f.oxygen.record
    o2 = 0
    if f.oxygen.tier is None:
        hints.append("higher if on oxygen")
    elif f.oxygen.tier and rec is not None:
        if rec.modality is OxygenModality.INVASIVE and lee:
            o2 = 4
        elif rec.modality in POSITIVE_PRESSURE and not lee:
            o2 = rules.integer("ctcae.multiple_pressors_grade")
            keys.append("ctcae.multiple_pressors_grade")
        elif fio2 is None:
            o2 = 2
            hints.append("3 if FiO2 ≥40 %")
        else:
            o2 = 3 if fio2 >= rules.decimal(fio2_key) else 2
            keys += [fio2_key, *est_keys]
    agents = f.pressors.counted + f.vasopressin_class
    overlap = rules.duration("vasopressors.concurrent_min_overlap")
    multiple = any(a.overlap(b, now) >= overlap for n, a in enumerate(agents)
                   for b in agents[n + 1:])
    bp = 2 if f.hypotension.confirmed else 0
    if multiple:
        bp = 3 if lee else rules.integer("ctcae.multiple_pressors_grade")
        keys += [] if lee else ["ctcae.multiple_pressors_grade"]
    elif agents and not lee:
        bp = 3
    elif agents:
        weight, _ = dosing_weight(timeline, now, rules)
        kg = weight.value if weight else None
        if len(agents) == 1:
            high = high_dose(agents[0], kg, now, rules)
            keys += ["lee.high_dose", "lee.high_dose_sustained"]
        else:  # a changeover: both run, for less than the concurrency span
            high, ne_eq, key = combination_high_dose(agents, kg, now, rules)
            keys += [key, "lee.high_dose_sustained"]
        bp = 3 if high else 2
        if high is None:
            hints.append("3 if high-dose vasopressor for ≥3 h")
    worst = max(o2, bp)
    grade = max(1, worst) if f.febrile else (worst if masked_by else (
        None if f.temperatures == 0 else 0))
    met = None if grade is None else grade >= 1
    hints = [h for h in hints if not (h.startswith("3 if") and (grade or 0) >= 3)]
    notes = [rules.note(k) for k in dict.fromkeys(keys)]
    if not lee:
        notes.insert(0, "unconfirmed: CTCAE v5.0 CRS row is recalled, not verified "
                        "(clinical-criteria.md §1.4)")
    if rec is not None and rec.modality in (OxygenModality.CPAP, OxygenModality.BIPAP) and lee:
        notes.append("assumption: 'ventilator' means invasive ventilation; CPAP/BiPAP graded "
                     "by FiO2 (clinical-criteria.md §1.4)")
    missing = missing_for(timeline, rules, f) + (["organ toxicity grades"] if lee else [])
    extra = {"gradeIsLowerBound": True if met and hints else None,
             "raiseHint": f"≥{grade}; " + "; ".join(hints) if met and hints else None,
             "fio2": {"value": float(fio2), "estimated": bool(est_keys)} if fio2 else None,
             "neEquivalent": json_number(ne_eq) if lee and ne_eq is not None else None,
             "secondaryTo": "astct-2019-crs", "rulesVersion": rules.version}
    return Assessment(criteria, met, now, grade=grade,
                      peak_grade=None, onset=episode.onset if episode else None,
                      evidence=evidence_for(f, masked_by, screening.index_dose),
                      missing=tuple(missing), assumptions=tuple(notes), extra=extra)


def lee_assessment(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                   screening: Screening, f: CrsFindings, masked_by: DrugExposure | None,
                   episode: CrsEpisode | None) -> Assessment:
    """Return the Lee 2014 CRS grade (organ toxicity not assessed: a lower bound)."""
    return _grade(timeline, now, rules, LEE, screening, f, masked_by, episode)


def ctcae_assessment(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                     screening: Screening, f: CrsFindings, masked_by: DrugExposure | None,
                     episode: CrsEpisode | None) -> Assessment:
    """Return the CTCAE v5.0 CRS grade [R]."""
    return _grade(timeline, now, rules, CTCAE, screening, f, masked_by, episode)
