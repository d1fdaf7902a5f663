"""The episode view (peak, current grade, trend) stays the same when it is computed faster.

Issue C3: ``episode_view`` used to re-grade at every timestamp of every series. The reference
below is that original algorithm, kept verbatim; the fast view must agree with it at every
evaluation time of several multi-day courses (clinical-criteria.md §0 Defaults: CRS episode,
§1.1 items 2 and 6-8). Golden values were recorded with the original code before the change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from criteria.astct import findings_at, grade_of
from criteria.crs import assess_crs
from criteria.episode import EpisodeSpan, masking_drug
from criteria.model import DrugClass, OxygenModality, PatientTimeline
from criteria.rules import RuleSet
from tests.unit.criteria.builders import Patient, day, hours, minutes


def _reference_sample_times(timeline: PatientTimeline, start: datetime, now: datetime,
                            rules: RuleSet) -> list[datetime]:
    times = {t for series in timeline.measurements.values() for t in (m.time for m in series)}
    times |= {r.time for r in timeline.oxygen}
    overlap = rules.duration("vasopressors.concurrent_min_overlap")
    for d in timeline.drugs:
        times |= {d.start, d.start + overlap}
        if d.end is not None:
            times.add(d.end)
    return sorted(t for t in times if start <= t <= now)


def _reference_grade_at(timeline: PatientTimeline, at: datetime, rules: RuleSet,
                        span: EpisodeSpan, treatment_start: datetime | None) -> int:
    masked = masking_drug(timeline, span, at, rules) is not None
    return grade_of(findings_at(timeline, at, rules, treatment_start), masked) or 0


def reference_view(timeline: PatientTimeline, now: datetime,
                   rules: RuleSet) -> tuple[int, int | None, str] | None:
    """Return (peak, current, trend) by the original quadratic algorithm."""
    result = assess_crs(timeline, now, rules)
    episode = result.episode
    if episode is None:
        return None
    span = EpisodeSpan(episode.onset, episode.onset, episode.onset, episode.close)
    start = result.screening.treatment_start
    grades = [_reference_grade_at(timeline, t, rules, span, start)
              for t in _reference_sample_times(timeline, episode.onset, now, rules)]
    current = result.astct.grade
    peak = max([*grades, current or 0, 1])
    before = max(episode.onset, now - rules.duration("episode.trend_window"))
    previous = _reference_grade_at(timeline, before, rules, span, start)
    now_grade = current or 0
    trend = "rising" if now_grade > previous else (
        "resolving" if now_grade < previous else "stable")
    return peak, current, trend


def fast_view(timeline: PatientTimeline, now: datetime,
              rules: RuleSet) -> tuple[int, int | None, str] | None:
    episode = assess_crs(timeline, now, rules).episode
    return None if episode is None else (episode.peak_grade, episode.current_grade, episode.trend)


def course_pressors_then_oxygen() -> Patient:
    """Day 1 fever; day 2 hypotension, norepinephrine, vasopressin; day 3 HFNC; day 4 better."""
    p = Patient().car_t().temp(day(1, 10), "38.6").bp(day(1, 10), 112)
    p.temp(day(1, 22), "39.1").bp(day(2, 2), 84).bp(day(2, 2, 30), 82)
    for k in range(12):  # charted norepinephrine rates every 45 min from day 2 03:00
        p.rate_entry("norepinephrine", day(2, 3) + minutes(45 * k), rate=str(8 + k))
    p.infusion("vasopressin", day(2, 5))
    p.drug(DrugClass.VASOPRESSIN_CLASS, "vasopressin", day(2, 5), status="completed",
           end=day(2, 16), continuous=True)
    p.o2(day(3, 1), OxygenModality.HIGH_FLOW_CANNULA, flow=30).temp(day(3, 4), "38.2")
    p.tocilizumab(day(3, 5)).o2(day(3, 20), OxygenModality.LOW_FLOW_CANNULA, flow=2)
    p.temp(day(4, 6), "37.1").bp(day(4, 6), 118).o2(day(4, 12), OxygenModality.ROOM_AIR)
    return p


def course_masked_relapse() -> Patient:
    """Fever treated with acetaminophen; afebrile hypotension with fluids; late facemask."""
    p = Patient().car_t().temp(day(2, 8), "38.9").acetaminophen(day(2, 9))
    p.temp(day(2, 20), "37.3").bp(day(3, 1), 86).fluids(day(3, 1, 20), "500")
    p.temp(day(3, 12), "37.0").o2(day(3, 14), OxygenModality.FACEMASK)
    p.o2(day(3, 23), OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW).temp(day(4, 8), "36.9")
    p.bp(day(5, 3), 80).bp(day(5, 3, 40), 81).temp(day(5, 9), "38.4")
    return p


def course_changeover_and_positive_pressure() -> Patient:
    """Norepinephrine, then phenylephrine for 40 min, later both for hours; BiPAP on day 3."""
    p = Patient().car_t().temp(day(1, 6), "39.0")
    p.infusion("norepinephrine", day(1, 8), end=day(1, 14))
    p.infusion("phenylephrine", day(1, 13, 20), end=day(1, 18))
    p.infusion("norepinephrine", day(2, 2))
    p.rate_entry("phenylephrine", day(2, 3)).rate_entry("phenylephrine", day(2, 4, 30))
    p.o2(day(3, 0), OxygenModality.BIPAP).temp(day(3, 0), "38.1")
    p.o2(day(3, 9), OxygenModality.LOW_FLOW_CANNULA, flow="6.0")
    return p


def course_busy(n: int = 240) -> Patient:
    """Many readings: fever cycles, intermittent low BP and charted rates over 5 days."""
    p = Patient().car_t()
    start = day(1, 0)
    for i in range(n):
        t = start + timedelta(minutes=30 * i)
        if i % 2:
            p.bp(t, 84 if (i // 9) % 4 == 0 else 115, 50)
        else:
            p.temp(t, "38.7" if (i // 20) % 3 else "37.0")
        if i % 7 == 0:
            p.rate_entry("norepinephrine" if (i // 35) % 2 else "epinephrine", t)
    p.o2(start + hours(30), OxygenModality.HIGH_FLOW_CANNULA, flow="6.5")
    p.o2(start + hours(60), OxygenModality.LOW_FLOW_CANNULA, flow=4)
    return p


def course_child_measured_map() -> Patient:
    """A 6-year-old (PALS limits): measured MAPs, a fluid bolus, then a mask; steroid at day 3."""
    p = Patient(birth_date=date(2019, 1, 15)).car_t().weight(day(0), 21).temp(day(1, 9), "38.8")
    p.bp(day(1, 14), 80, 40).map(day(1, 14), 50).bp(day(1, 15), 84).fluids(day(1, 15, 10), "250")
    p.map(day(2, 2), 48).map(day(2, 2, 40), 49).o2(day(2, 5), OxygenModality.NON_REBREATHER)
    p.drug(DrugClass.CORTICOSTEROID, "dexamethasone", day(3, 1)).temp(day(3, 8), "37.0")
    return p


COURSES = {
    "child-measured-map": course_child_measured_map,
    "pressors-then-oxygen": course_pressors_then_oxygen,
    "masked-relapse": course_masked_relapse,
    "changeover-and-positive-pressure": course_changeover_and_positive_pressure,
    "busy": course_busy,
}


@pytest.mark.parametrize("name", sorted(COURSES))
def test_fast_episode_view_agrees_with_the_original_algorithm_every_3_h(
        rules: RuleSet, name: str) -> None:
    timeline = COURSES[name]().build()
    seen = 0
    for step in range(0, 6 * 24, 3):
        now = day(1, 0) + hours(step)
        expected = reference_view(timeline, now, rules)
        assert fast_view(timeline, now, rules) == expected, now
        seen += expected is not None
    assert seen >= 5


# Recorded with the original algorithm (before issue C3), at fixed evaluation times.
GOLDEN = {
    ("pressors-then-oxygen", day(2, 12)): (3, 3, "rising"),
    ("pressors-then-oxygen", day(3, 12)): (3, 3, "rising"),
    ("pressors-then-oxygen", day(4, 13)): (3, 3, "stable"),
    ("masked-relapse", day(3, 2)): (2, 2, "rising"),
    ("masked-relapse", day(3, 16)): (3, 3, "rising"),
    ("masked-relapse", day(5, 10)): (3, 2, "rising"),
    ("changeover-and-positive-pressure", day(1, 13, 50)): (3, 3, "rising"),
    ("changeover-and-positive-pressure", day(2, 5)): (4, 4, "rising"),
    ("changeover-and-positive-pressure", day(3, 10)): (4, 3, "rising"),
    ("busy", day(3, 0)): (3, 2, "resolving"),
    ("busy", day(5, 23)): (3, 3, "stable"),
}


@pytest.mark.parametrize(("name", "now"), sorted(GOLDEN))
def test_episode_view_golden_values(rules: RuleSet, name: str, now: datetime) -> None:
    assert fast_view(COURSES[name]().build(), now, rules) == GOLDEN[(name, now)]
