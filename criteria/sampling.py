"""Grading at many times, fast: a timeline cut to what one grade reads, and a grade bound.

Used by the episode view and the IEC-HS "CRS improved" check. Neither changes a grade:
``Slicer.at`` keeps exactly the data ``findings_at`` reads at one time, and
``GradeBound.at`` is never below the grade ``grade_of(findings_at(...))`` can give, so a time
whose bound cannot beat the peak found so far need not be graded.
"""

# Source: the rules of criteria.astct (grade = max(1 if febrile, hypotension tier, hypoxia
#   tier)), criteria.hypotension, criteria.vasopressors and criteria.oxygen; no new rule
# Confidence: not clinical (an exact optimisation, tested against the full computation)

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from criteria.model import DrugClass, PatientTimeline
from criteria.oxygen import record_tier
from criteria.rules import RuleSet
from criteria.vasopressors import PRESSOR_CLASSES

# Series a grade reads at one time (the others never change it).
GRADE_SERIES = ("temperature", "systolic_bp", "diastolic_bp", "mean_arterial_pressure", "spo2")


class Slicer:
    """Cut a timeline down to what findings_at reads at one time (same result, less data).

    Oxygen: the records at the latest time at or before ``t`` (``latest_record``) and those
    in the chronic-O2 baseline window of ``treatment_start`` (``baseline_tier``), in their
    original order, so ties resolve as on the whole timeline.
    """

    def __init__(self, timeline: PatientTimeline, rules: RuleSet,
                 treatment_start: datetime | None) -> None:
        self.timeline = timeline
        self.lookback = max(rules.duration("astct.temperature_window"),
                            rules.duration("hypotension.window")
                            + rules.duration("hypotension.confirm_within"))
        self.series = {k: sorted(timeline.series(k), key=lambda m: m.time) for k in GRADE_SERIES}
        self.times = {k: [m.time for m in v] for k, v in self.series.items()}
        self.drugs = sorted(timeline.drugs, key=lambda d: d.start)
        self.starts = [d.start for d in self.drugs]
        oxygen = timeline.oxygen
        self.o2_order = sorted(range(len(oxygen)), key=lambda i: oxygen[i].time)
        self.o2_times = [oxygen[i].time for i in self.o2_order]
        self.baseline: set[int] = set()
        if treatment_start is not None:
            first = treatment_start - rules.duration("oxygen.chronic_baseline_from")
            last = treatment_start - rules.duration("oxygen.chronic_baseline_to")
            self.baseline = {i for i, r in enumerate(oxygen) if first <= r.time <= last}

    def latest_oxygen(self, t: datetime) -> list[int]:
        """Return the indices of the oxygen records at the latest time at or before ``t``."""
        hi = bisect_right(self.o2_times, t)
        if not hi:
            return []
        return self.o2_order[bisect_left(self.o2_times, self.o2_times[hi - 1]):hi]

    def at(self, t: datetime) -> PatientTimeline:
        """Return the timeline with readings in [t - lookback, t] and drugs started by t."""
        measurements = dict(self.timeline.measurements)
        for kind, series in self.series.items():
            if series:
                times = self.times[kind]
                lo, hi = bisect_left(times, t - self.lookback), bisect_right(times, t)
                measurements[kind] = tuple(series[lo:hi])
        drugs = tuple(self.drugs[:bisect_right(self.starts, t)])
        keep = sorted(self.baseline.union(self.latest_oxygen(t)))
        oxygen = tuple(self.timeline.oxygen[i] for i in keep)
        return replace(self.timeline, measurements=measurements, drugs=drugs, oxygen=oxygen)


def _sbp_ceiling(rules: RuleSet) -> Decimal:
    """Return the highest systolic limit of any age band (adult, PALS bands, child formula)."""
    limits = [rules.decimal(k) for k in ("hypotension.adult_sbp_below",
                                         "hypotension.neonate_sbp_below",
                                         "hypotension.infant_sbp_below",
                                         "hypotension.older_child_sbp_below")]
    base, per_year = (rules.decimal("hypotension.child_sbp_base"),
                      rules.decimal("hypotension.child_sbp_per_year"))
    below = rules.integer("hypotension.child_formula_below_age")
    limits += [base + per_year * age for age in range(0, max(below, 0) + 1)]
    return max(limits)


class GradeBound:
    """An upper bound of the ASTCT grade at a time, from cheap per-time facts.

    grade <= max(1, hypotension tier, hypoxia tier); the hypotension tier is at most the
    vasopressor tier the started pressor agents could set, or 2 when some reading in the
    hypotension window could be low at any age; the hypoxia tier is at most the tier of the
    latest oxygen record.
    """

    def __init__(self, timeline: PatientTimeline, rules: RuleSet, sliced: Slicer) -> None:
        self.sliced = sliced
        self.window = rules.duration("hypotension.window")
        self.tiers = [record_tier(r, rules).tier for r in timeline.oxygen]
        self.vasopressin_tier = rules.integer("astct.vasopressin_alone_tier")
        self.inotrope_tier = rules.integer("astct.inotrope_alone_tier")
        sbp_max, map_max = _sbp_ceiling(rules), rules.decimal("hypotension.adult_map_below")
        dbp = {m.time: m.value for m in timeline.series("diastolic_bp")}
        low = {m.time for m in timeline.series("systolic_bp") if m.value < sbp_max or (
            m.time in dbp and dbp[m.time] + (m.value - dbp[m.time]) / 3 < map_max)}
        low |= {m.time for m in timeline.series("mean_arterial_pressure") if m.value < map_max}
        self.low_times = sorted(low)
        pressors = [d for d in sliced.drugs if d.drug_class in PRESSOR_CLASSES]
        self.pressor_starts = [d.start for d in pressors]
        self.pressors = pressors

    def _pressor_tier(self, t: datetime) -> int:
        started = self.pressors[:bisect_right(self.pressor_starts, t)]
        agents = {d.ingredient for d in started if d.drug_class is DrugClass.VASOPRESSOR}
        tier = 4 if len(agents) >= 2 else 3 if agents else 0
        if any(d.drug_class is DrugClass.VASOPRESSIN_CLASS for d in started):
            tier = max(tier, self.vasopressin_tier)
        if any(d.drug_class in (DrugClass.INOTROPE, DrugClass.OTHER_PRESSOR) for d in started):
            tier = max(tier, self.inotrope_tier)
        return tier

    def at(self, t: datetime) -> int:
        """Return a grade no lower than the one ``findings_at`` and ``grade_of`` give at t."""
        oxygen = max((self.tiers[i] for i in self.sliced.latest_oxygen(t)), default=0)
        lo = bisect_left(self.low_times, t - self.window)
        low_bp = 2 if lo < len(self.low_times) and self.low_times[lo] <= t else 0
        return max(1, oxygen, low_bp, self._pressor_tier(t))
