"""CRS entry point: screening, ASTCT grade, episode view, and Lee 2014 / CTCAE v5 beside it."""

# Source: Lee DW et al., BBMT 2019;25(4):625-638, doi:10.1016/j.bbmt.2018.12.758 (primary);
#   Lee DW et al., Blood 2014;124(2):188-195 and CTCAE v5.0 (secondary)
# Table: clinical-criteria.md §0 Defaults, §1.1, §1.3, §1.4
# Confidence: V (ASTCT table); assumption (screening, episode, trend); R (CTCAE v5, Lee high dose)
# Codes: see criteria.astct, criteria.oxygen, criteria.vasopressors, criteria.hypotension

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from criteria.assessment import Assessment
from criteria.astct import CrsFindings, findings_at, grade_of
from criteria.common import require_aware
from criteria.episode import EpisodeSpan, find_episodes, masking_drug
from criteria.hypotension import low_limit
from criteria.model import DrugClass, DrugExposure, PatientTimeline
from criteria.report import astct_assessment
from criteria.rules import RuleSet
from criteria.sampling import GradeBound, Slicer
from criteria.screening import Screening, screen
from criteria.secondary import ctcae_assessment, lee_assessment
from criteria.vasopressors import PRESSOR_CLASSES

Trend = Literal["rising", "stable", "resolving"]


@dataclass(frozen=True)
class CrsEpisode:
    """The open CRS episode as the card shows it."""

    onset: datetime
    close: datetime  # when it ends if nothing new happens
    peak_grade: int
    current_grade: int | None
    trend: Trend
    day_post_index: int | None
    index_dose: DrugExposure | None
    masked_by: DrugExposure | None


@dataclass(frozen=True)
class CrsResult:
    """ASTCT assessment with the secondary grades, the episode and the deciding facts."""

    astct: Assessment
    lee: Assessment
    ctcae: Assessment
    screened: bool
    episode: CrsEpisode | None
    findings: CrsFindings
    lower_bound: bool
    raise_hint: str | None
    screening: Screening


def day_post_index(index: DrugExposure | None, now: datetime) -> int | None:
    """Return the day after the index dose (day 0 = dose day, UTC calendar days)."""
    return None if index is None else (now.date() - index.start.date()).days


GRADE_DRUGS = (*PRESSOR_CLASSES, DrugClass.FLUID_BOLUS)


def _rising_readings(timeline: PatientTimeline, rules: RuleSet) -> set[datetime]:
    """Return the times of readings that can raise a grade: fevers and low blood pressures.

    A normal temperature never adds a fever, and a normal BP never confirms hypotension (an
    SBP/DBP pair counts by its estimated MAP, so DBP readings are covered by their SBP).
    """
    fever_min = rules.decimal("astct.fever_min")
    times = {m.time for m in timeline.series("temperature") if m.value >= fever_min}
    dbp = {m.time: m.value for m in timeline.series("diastolic_bp")}
    for m in timeline.series("systolic_bp"):
        limit = low_limit(timeline, m.time, rules)
        d = dbp.get(m.time)
        if m.value < limit.sbp_below or (limit.map_below is not None and d is not None and
                                         d + (m.value - d) / 3 < limit.map_below):
            times.add(m.time)
    for m in timeline.series("mean_arterial_pressure"):
        below = low_limit(timeline, m.time, rules).map_below
        if below is not None and m.value < below:
            times.add(m.time)
    return times


def _sample_times(timeline: PatientTimeline, start: datetime, now: datetime,
                  rules: RuleSet) -> list[datetime]:
    """Return the times in [start, now] at which the grade can rise.

    Between these times a grade can only fall (a fever, low reading, charted rate or oxygen
    record ages out), so the peak is the maximum over them: fevers, low blood pressures,
    oxygen records and their ends, and the starts, ends and start + concurrency span of
    vasopressors, fluid boluses and masking drugs.
    """
    times = _rising_readings(timeline, rules)
    times |= {r.time for r in timeline.oxygen}
    times |= {r.end for r in timeline.oxygen if r.end is not None}
    overlap = rules.duration("vasopressors.concurrent_min_overlap")
    classes = {*GRADE_DRUGS, *(DrugClass(c) for c in rules.strings("astct.masking_classes"))}
    for d in timeline.drugs_of(*classes):
        times |= {d.start, d.start + overlap}
        if d.end is not None:
            times.add(d.end)
    return sorted(t for t in times if start <= t <= now)


def _grade_at(timeline: PatientTimeline, at: datetime, rules: RuleSet, span: EpisodeSpan,
              treatment_start: datetime | None) -> int:
    masked = masking_drug(timeline, span, at, rules) is not None
    return grade_of(findings_at(timeline, at, rules, treatment_start), masked) or 0


def episode_view(timeline: PatientTimeline, now: datetime, rules: RuleSet, span: EpisodeSpan,
                 screening: Screening, current: int | None) -> CrsEpisode:
    """Return onset, peak and current grade, trend and day +N of the open episode."""
    start = screening.treatment_start
    sliced = Slicer(timeline, rules, start)
    bound = GradeBound(timeline, rules, sliced)
    peak = max(current or 0, 1)
    for t in _sample_times(timeline, span.onset, now, rules):
        if peak == 4:  # the highest ASTCT grade short of death
            break
        if bound.at(t) > peak:  # else the grade at t cannot raise the peak
            peak = max(peak, _grade_at(sliced.at(t), t, rules, span, start))
    before = max(span.onset, now - rules.duration("episode.trend_window"))
    previous = _grade_at(sliced.at(before), before, rules, span, start)
    now_grade = current or 0
    trend: Trend = "rising" if now_grade > previous else (
        "resolving" if now_grade < previous else "stable")
    return CrsEpisode(span.onset, span.close, peak, current, trend,
                      day_post_index(screening.index_dose, now), screening.index_dose,
                      masking_drug(timeline, span, now, rules))


def assess_crs(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> CrsResult:
    """Assess CRS at a time: ASTCT 2019 (primary), Lee 2014 and CTCAE v5 (secondary)."""
    require_aware(now)
    screening = screen(timeline, now, rules)
    findings = findings_at(timeline, now, rules, screening.treatment_start)
    index = screening.index_dose
    search_from = index.start if index is not None else now - rules.duration(
        "screening.lookback_without_index")
    spans = find_episodes(timeline, search_from, now, rules, screening.treatment_start)
    span = spans[-1] if spans and spans[-1].is_open(now) else None
    masked_by = masking_drug(timeline, span, now, rules) if span else None
    grade = grade_of(findings, masked_by is not None) if screening.screened else 0
    episode = (episode_view(timeline, now, rules, span, screening, grade)
               if span is not None and screening.screened else None)
    closed = spans[-1] if spans and span is None else None
    report = astct_assessment(timeline, now, rules, screening, findings, grade, episode,
                              masked_by, closed)
    lee = lee_assessment(timeline, now, rules, screening, findings, masked_by, episode)
    ctcae = ctcae_assessment(timeline, now, rules, screening, findings, masked_by, episode)
    return CrsResult(report.assessment, lee, ctcae, bool(screening.screened), episode, findings,
                     report.lower_bound, report.raise_hint, screening)
