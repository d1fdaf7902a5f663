"""Prior CRS before a CAR-T or bispecific order, and bispecific premedication and step-up dosing."""

# Source: bispecific labels as summarised in the reference [mostly R; check the current label]
#   (Tecvayli, Talvey, Elrexfio, Epkinly, Columvi, Lunsumio, Imdelltra, Blincyto, Lynozyfic)
# Table: clinical-criteria.md §3.7 (pretreatment table, label actions); §0 Defaults (CRS
#   episode, Treatment start); §1.1 (ASTCT grade of each episode)
# Confidence: R (pretreatment table, label actions); assumption (24 h premedication window,
#   course gap reused from screening.course_gap)
# Codes: corticosteroids by DrugClass (dexamethasone, methylprednisolone, prednisolone, ...;
#   §4.4, classified by fhir_mappers)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from criteria.assessment import Evidence, iso
from criteria.common import given, say_duration
from criteria.crs import CrsResult, episode_view
from criteria.episode import find_episodes
from criteria.model import DrugClass, DrugExposure, DrugSource, PatientTimeline
from criteria.preinfusion import CheckResult, earlier_tocilizumab
from criteria.rules import RuleSet
from criteria.screening import iec_doses


@dataclass(frozen=True)
class PastEpisode:
    """One CRS episode on record with its peak ASTCT grade."""

    onset: datetime
    peak_grade: int
    reference: str  # the onset temperature


def crs_history(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                crs: CrsResult) -> tuple[PastEpisode, ...]:
    """Return every CRS episode since the first CAR-T or bispecific dose, with its peak grade."""
    doses = iec_doses(timeline, now, rules)
    if not doses:
        return ()
    out = []
    for span in find_episodes(timeline, doses[0].start, now, rules,
                              crs.screening.treatment_start):
        view = episode_view(timeline, min(now, span.close), rules, span, crs.screening, None)
        out.append(PastEpisode(span.onset, view.peak_grade, span.onset_reading.reference))
    return tuple(out)


def prior_crs(timeline: PatientTimeline, now: datetime, rules: RuleSet,
              history: tuple[PastEpisode, ...], bispecific: bool) -> CheckResult:
    """Report earlier CRS (episodes, tocilizumab); for a bispecific, apply the label actions."""
    toci = earlier_tocilizumab(timeline, now, rules)
    evidence = [Evidence("crs-episode", e.onset, e.reference, f"peak grade {e.peak_grade}",
                         note="ASTCT") for e in history]
    evidence += [Evidence("tocilizumab", d.start, d.reference, d.dose, d.dose_unit, "given")
                 for d in toci]
    extra = {"episodes": [{"onset": iso(e.onset), "peakGrade": e.peak_grade} for e in history],
             "tocilizumabDoses": len(toci)}
    parts = [f"CRS episode from {iso(e.onset)}, peak grade {e.peak_grade}" for e in history]
    if toci:
        parts.append(f"tocilizumab given {len(toci)}x, last {iso(toci[-1].start)}")
    peaks = [e.peak_grade for e in history]
    actions: list[str] = []
    keys: list[str] = []
    if bispecific and peaks:
        recurrent = rules.integer("bispecific.discontinue_recurrent_grade")
        if max(peaks) >= rules.integer("bispecific.discontinue_grade"):
            actions.append(f"label: discontinue after grade {max(peaks)} CRS")
            keys.append("bispecific.discontinue_grade")
        elif sum(1 for p in peaks if p >= recurrent) >= 2:
            actions.append(f"label: discontinue after recurrent grade {recurrent} CRS")
            keys.append("bispecific.discontinue_recurrent_grade")
        elif max(peaks) >= rules.integer("bispecific.closer_monitoring_grade"):
            actions.append(f"label: monitor more closely or admit for this dose (grade "
                           f"{max(peaks)} CRS before)")
            keys.append("bispecific.closer_monitoring_grade")
    notes = tuple(rules.note(k) for k in keys)
    if actions:
        return CheckResult("prior-crs", "fail", "; ".join(actions + parts), False,
                           actions[0].removeprefix("label: "), tuple(evidence), (), notes, extra)
    if parts:
        return CheckResult("prior-crs", "note", "; ".join(parts), True, None, tuple(evidence),
                           (), notes, extra)
    return CheckResult("prior-crs", "pass", "no earlier CRS episode or tocilizumab on record",
                       True, None, (), (), notes, extra)


def _steroids(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> list[DrugExposure]:
    """Return corticosteroids given, signed or in this signing within the premedication window."""
    since = now - rules.duration("order.premedication_window")
    signed = rules.strings("tocilizumab.order_statuses")
    found = [d for d in timeline.drugs_of(DrugClass.CORTICOSTEROID) if since <= d.start <= now
             and (given(d, rules) or (d.source is DrugSource.ORDER and d.status in signed))]
    found += [d for d in timeline.draft_orders if d.drug_class is DrugClass.CORTICOSTEROID]
    return found


def premedication(timeline: PatientTimeline, order: DrugExposure, now: datetime,
                  rules: RuleSet) -> CheckResult:
    """Corticosteroid premedication per the label, in this signing or recently given."""
    table = rules.table("bispecific.premedication")
    label = str(table.get(order.ingredient, ""))
    steroids = _steroids(timeline, now, rules)
    notes = (rules.note("bispecific.premedication"), rules.note("order.premedication_window"))
    window = rules.constant("order.premedication_window").shown()
    evidence = tuple(Evidence(d.ingredient, d.start, d.reference, d.dose, d.dose_unit,
                              f"corticosteroid ({d.source.value})") for d in steroids)
    extra = {"label": label} if label else {}
    if steroids:
        names = ", ".join(dict.fromkeys(d.ingredient for d in steroids))
        return CheckResult("premedication", "pass", f"corticosteroid premedication found "
                           f"({names})", True, None, evidence, (), notes, extra)
    if not label:
        return CheckResult("premedication", "note", f"no corticosteroid in this signing or the "
                           f"last {window}; the reference gives no pretreatment for "
                           f"{order.ingredient}: check the label", True, None, (), (), notes)
    return CheckResult("premedication", "fail", f"no corticosteroid premedication in this signing"
                       f" or the last {window}; label: {label}", False,
                       "no steroid premedication", (), ("corticosteroid premedication",), notes,
                       extra)


def step_up(timeline: PatientTimeline, order: DrugExposure, now: datetime,
            rules: RuleSet) -> CheckResult:
    """Whether this dose starts a course (label step-up dosing applies) or continues one."""
    gap = rules.duration("screening.course_gap")
    earlier = [d for d in iec_doses(timeline, now, rules) if d.ingredient == order.ingredient]
    notes = (rules.note("screening.course_gap"),)
    if not earlier or now - earlier[-1].start > gap:
        return CheckResult("step-up", "note", f"first {order.ingredient} dose of a course: follow "
                           "the label's step-up dosing (unconfirmed: the reference does not print "
                           "the schedule)", True, None, (), (), notes, {"courseDose": 1})
    last = earlier[-1]
    start = last.start
    for dose in reversed(earlier[:-1]):
        if start - dose.start > gap:
            break
        start = dose.start
    course = [d for d in earlier if d.start >= start]
    return CheckResult("step-up", "note", f"dose {len(course) + 1} of the course; last "
                       f"{order.ingredient} dose {say_duration(now - last.start)} ago",
                       True, None, (Evidence(last.ingredient, last.start, last.reference,
                                             last.dose, last.dose_unit, "last dose"),),
                       (), notes, {"courseDose": len(course) + 1})
