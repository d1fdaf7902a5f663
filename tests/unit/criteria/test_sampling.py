"""The grade bound and the oxygen slice never change a result (issue 8, criteria.sampling).

Random multi-day courses (fevers, low and normal BPs, measured MAPs, oxygen records with ties,
several pressor classes, masking drugs, an adult and a child) are graded by the fast code and
by the original full computations; they must agree at every evaluation time.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from criteria.astct import findings_at, grade_of
from criteria.crs import assess_crs
from criteria.iechs import crs_improved
from criteria.model import DrugClass, OxygenModality, PatientTimeline
from criteria.rules import RuleSet
from criteria.sampling import GradeBound, Slicer
from tests.unit.criteria.builders import Patient, day, hours, minutes
from tests.unit.criteria.test_crs_episode_regression import fast_view, reference_view

MODALITIES = (OxygenModality.LOW_FLOW_CANNULA, OxygenModality.HIGH_FLOW_CANNULA,
              OxygenModality.FACEMASK, OxygenModality.BIPAP, OxygenModality.ROOM_AIR,
              OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW)
PRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "vasopressin", "dobutamine")


def random_course(seed: int) -> PatientTimeline:
    """Return a random 5-day course after CAR-T."""
    rng = random.Random(seed)
    child = seed % 4 == 0
    p = Patient(birth_date=date(2019, 11, 22) if child else date(1960, 5, 1)).car_t()
    start = day(0, 12)
    for _ in range(rng.randint(40, 160)):
        t = start + minutes(rng.randint(0, 5 * 24 * 60))
        roll = rng.random()
        if roll < 0.35:
            p.temp(t, rng.choice(("36.8", "37.5", "38.0", "38.6", "39.4")))
        elif roll < 0.65:
            sbp = rng.choice((72, 84, 88, 95, 118))
            p.bp(t, sbp, sbp - rng.choice((25, 40, 55)))
        elif roll < 0.72:
            p.map(t, rng.choice((55, 62, 75)))
        elif roll < 0.85:
            at = t if rng.random() < 0.7 else start + hours(rng.randint(0, 4) * 24)  # ties
            p.o2(at, rng.choice(MODALITIES), flow=rng.choice((None, 2, 6, 8, 15)))
        elif roll < 0.95:
            agent = rng.choice(PRESSORS)
            if rng.random() < 0.5:
                p.rate_entry(agent, t)
            else:
                p.infusion(agent, t, end=t + hours(rng.randint(1, 30)) if rng.random() < 0.6
                           else None)
        else:
            pick = rng.randrange(4)
            if pick == 0:
                p.acetaminophen(t)
            elif pick == 1:
                p.tocilizumab(t)
            elif pick == 2:
                p.fluids(t, "1000")
            else:
                p.drug(DrugClass.CORTICOSTEROID, "dexamethasone", t)
    if rng.random() < 0.3:  # chronic oxygen before the infusion
        p.o2(day(0, 8) - timedelta(days=3), OxygenModality.LOW_FLOW_CANNULA, flow=2)
    return p.build()


@pytest.mark.parametrize("seed", range(24))
def test_fast_episode_view_agrees_with_the_full_computation(rules: RuleSet, seed: int) -> None:
    timeline = random_course(seed)
    for step in range(6, 6 * 24, 7):
        now = day(0, 12) + hours(step)
        assert fast_view(timeline, now, rules) == reference_view(timeline, now, rules), now


@pytest.mark.parametrize("seed", range(24))
def test_bound_is_never_below_the_grade_and_slice_gives_the_same_findings(
        rules: RuleSet, seed: int) -> None:
    timeline = random_course(seed)
    start = day(0, 8)
    sliced = Slicer(timeline, rules, start)
    bound = GradeBound(timeline, rules, sliced)
    for step in range(0, 5 * 24 * 4):
        t = day(0, 12) + minutes(15 * step)
        full = findings_at(timeline, t, rules, start)
        assert findings_at(sliced.at(t), t, rules, start) == full, t
        for masked in (False, True):
            assert bound.at(t) >= (grade_of(full, masked) or 0), t


def _reference_improved(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                        start: datetime | None, masked: bool) -> bool | None:
    """The original eager check on the whole timeline (grade-0 branch only)."""
    span = rules.duration("iechs.crs_zero_for")
    times = {now - span, now} | {r.time for r in timeline.oxygen if now - span < r.time < now}
    times |= {m.time for m in timeline.series("systolic_bp") if now - span < m.time < now}
    grades = [grade_of(findings_at(timeline, t, rules, start), masked) for t in sorted(times)]
    if any(g for g in grades):
        return False
    return None if any(g is None for g in grades) else True


@pytest.mark.parametrize("seed", range(24))
def test_crs_improved_agrees_with_the_eager_check(rules: RuleSet, seed: int) -> None:
    timeline = random_course(seed)
    for step in range(6, 6 * 24, 11):
        now = day(0, 12) + hours(step)
        crs = assess_crs(timeline, now, rules)
        ep = crs.episode
        found, _ = crs_improved(timeline, now, rules, crs)
        if ep is not None and ep.current_grade is not None and ep.current_grade < ep.peak_grade:
            assert found is True
            continue
        masked = ep is not None and ep.masked_by is not None
        assert found == _reference_improved(timeline, now, rules,
                                            crs.screening.treatment_start, masked), now
