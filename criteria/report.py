"""Build the ASTCT Assessment: evidence, missing data, assumptions, flags and episode extras."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from criteria.assessment import Assessment, Evidence, iso
from criteria.astct import CrsFindings
from criteria.episode import EpisodeSpan
from criteria.model import DrugExposure, Measurement, PatientTimeline
from criteria.rules import RuleSet
from criteria.screening import Screening
from criteria.vasopressors import CHANGEOVER, Infusion

if TYPE_CHECKING:
    from criteria.crs import CrsEpisode

ASTCT = "astct-2019-crs"
ATTRIBUTION = ("ASTCT counts fever, hypotension and hypoxia only when no other cause explains "
               "them (e.g. sepsis, bleeding, cardiac); consider an infection work-up")
COMFORT_O2 = ("unconfirmed: ASTCT excludes oxygen given for comfort [R as ASTCT text]; it cannot "
              "be told apart, so all supplemental oxygen counts (clinical-criteria.md §1.1 item 8)")
NOT_CRS = ("hypotension or hypoxia without fever and without CRS treatment in an open episode: "
           "not graded as CRS; consider other causes")


@dataclass(frozen=True)
class AstctReport:
    """The ASTCT Assessment with its lower-bound marker."""

    assessment: Assessment
    lower_bound: bool
    raise_hint: str | None


def _infusion(inf: Infusion, note: str) -> Evidence:
    e = inf.latest
    return Evidence(inf.ingredient, inf.start, e.reference, e.rate, e.rate_unit,
                    f"continuous infusion since {iso(inf.start)}; {note}")


def _drug(d: DrugExposure, note: str) -> Evidence:
    return Evidence(d.ingredient, d.start, d.reference, d.dose, d.dose_unit, note)


def _reading(m: Measurement, note: str) -> Evidence:
    if "estimated" in m.flags:
        note += "; estimated from SBP and DBP"
    return Evidence(m.kind, m.time, m.reference, m.value, m.unit, note)


def evidence_for(f: CrsFindings, masked_by: DrugExposure | None,
                 index: DrugExposure | None) -> tuple[Evidence, ...]:
    """Return the evidence items behind the CRS findings."""
    out: list[Evidence] = []
    if index is not None:
        out.append(_drug(index, "index dose (day 0)"))
    if f.max_temperature is not None:
        out.append(_reading(f.max_temperature, "24 h maximum" + ("; fever" if f.febrile else "")))
    out += [_infusion(i, "counted vasopressor") for i in f.pressors.counted]
    out += [_infusion(i, "vasopressin class; not counted in n") for i in f.vasopressin_class]
    out += [_infusion(i, "not a vasopressor for grading; shown only")
            for i in f.pressors.shown_only]
    out += [_drug(d, "bolus; shown, not counted") for d in f.pressors.boluses]
    for event in f.hypotension.events[-1:]:
        out.append(_reading(event.reading, f"low reading ({event.limit})"))
        by = event.confirmed_by
        out.append(_reading(by, "confirming low reading") if isinstance(by, Measurement)
                   else _drug(by, "confirms hypotension"))
    record = f.oxygen.record
    if record is not None:
        ref = record.references[0] if record.references else ""
        note = ", ".join(f.oxygen.flags) or None
        out.append(Evidence("oxygen-support", record.time, ref, record.modality.value, None, note))
        if record.flow_l_min is not None:
            out.append(Evidence("oxygen-flow", record.time, ref, record.flow_l_min, "L/min"))
        if record.fio2_pct is not None:
            out.append(Evidence("fio2", record.time, ref, record.fio2_pct, "%"))
    if masked_by is not None:
        out.append(_drug(masked_by, "CRS treatment after onset; fever no longer required"))
    return tuple(out)


def missing_for(timeline: PatientTimeline, rules: RuleSet, f: CrsFindings) -> list[str]:
    """Return the data sets whose absence leaves the grade unknown or a lower bound."""
    out = []
    if f.temperatures == 0:
        out.append(f"temperature in the last {rules.constant('astct.temperature_window').shown()}")
    if f.oxygen.record is None:
        out.append(f"oxygen support in the last {rules.constant('oxygen.max_age').shown()}")
    if f.hypotension.readings == 0:
        out.append(f"blood pressure in the last {rules.constant('hypotension.window').shown()}")
    if "medadmin" in timeline.unavailable:
        out.append("medication administrations (vasopressors, CRS treatment)")
    return out


def raise_hints(timeline: PatientTimeline, f: CrsFindings) -> list[str]:
    """Return what unknown data could raise the ASTCT grade to."""
    hints = []
    rt = f.oxygen.record_tier
    if f.oxygen.record is None:
        hints.append("higher if on oxygen (no recent oxygen record)")
    elif rt is not None and rt.lower_bound and rt.raise_hint and f.oxygen.tier == rt.tier:
        hints.append(rt.raise_hint)
    if f.hypotension.readings == 0 and f.hypotension_tier < 2:
        hints.append("2 if hypotensive (no blood pressure recorded)")
    if "medadmin" in timeline.unavailable:
        hints.append("3-4 if vasopressors are running (administrations unavailable)")
    return hints


def _notes(rules: RuleSet, keys: Iterable[str]) -> list[str]:
    return [rules.note(k) for k in dict.fromkeys(keys)]


def episode_json(ep: CrsEpisode) -> dict[str, Any]:
    """Return the JSON-ready episode view."""
    out: dict[str, Any] = {"onset": iso(ep.onset), "openUntil": iso(ep.close),
                           "currentGrade": ep.current_grade, "peakGrade": ep.peak_grade,
                           "trend": ep.trend, "dayPostIndex": ep.day_post_index}
    if ep.masked_by is not None:
        out["maskedBy"] = {"drug": ep.masked_by.ingredient, "time": iso(ep.masked_by.start),
                           "reference": ep.masked_by.reference}
    return out


def not_screened(criteria: str, now: datetime, rules: RuleSet, screening: Screening,
                 timeline: PatientTimeline) -> Assessment:
    """Return the assessment for a patient outside the screening windows (or unknown)."""
    keys = ["screening.car_t_window", "screening.bispecific_window", "screening.everyone"]
    missing = ("medication administrations (CAR-T or bispecific therapy)",) \
        if screening.screened is None else ()
    return Assessment(criteria, screening.screened, now, grade=0 if screening.screened is False
                      else None, missing=missing,
                      assumptions=(screening.reason, *_notes(rules, keys)),
                      extra={"screening": screening.to_json(), "rulesVersion": rules.version})


def astct_assessment(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                     screening: Screening, f: CrsFindings, grade: int | None,
                     episode: CrsEpisode | None, masked_by: DrugExposure | None,
                     closed: EpisodeSpan | None) -> AstctReport:
    """Return the ASTCT 2019 Assessment with evidence, missing data and assumptions."""
    if not screening.screened:
        return AstctReport(not_screened(ASTCT, now, rules, screening, timeline), False, None)
    keys: list[str] = [screening.rule] if screening.rule else []
    if screening.index_dose is None:
        keys.append("screening.lookback_without_index")
    flags: list[str] = []
    extra_notes: list[str] = []
    worst = max(f.hypotension_tier, f.hypoxia_tier)
    if f.febrile:
        keys.append("astct.temperature_window")
    keys += f.pressors.rule_keys
    if f.changeover:
        flags.append(CHANGEOVER)
    flags += [f"{i.ingredient}: vasopressin class, not counted in n" for i in f.vasopressin_class]
    flags += [f"{i.ingredient}: not counted as a vasopressor" for i in f.pressors.shown_only]
    cap = rules.constant("vasopressors.open_period_max_age").shown()
    flags += [f"{i.ingredient}: in-progress infusion period since {iso(i.start)} has no end and "
              f"no newer entry for over {cap}; not counted as running (check the MAR)"
              for i in f.pressors.stale]
    if f.hypotension.confirmed and f.hypotension_tier == 2:
        keys += f.hypotension.limit.rule_keys
        by = f.hypotension.events[-1].confirmed_by
        keys.append("hypotension.confirm_within" if isinstance(by, Measurement)
                    else "hypotension.treatment_within")
    flags += list(f.hypotension.flags)
    for low in f.hypotension.unconfirmed[-1:]:
        flags.append(f"low blood pressure at {iso(low.time)} not confirmed")
    keys += f.oxygen.rule_keys
    flags += list(f.oxygen.flags)
    if f.hypoxia_tier >= 2:
        extra_notes.append(COMFORT_O2)
    if masked_by is not None:
        keys += ["episode.close_after"]
        flags.append(f"fever masked by {masked_by.ingredient} at {iso(masked_by.start)}")
        if grade == 0:
            flags.append("no active CRS")
    elif not f.febrile and worst > 0:
        flags.append(NOT_CRS)
        if closed is not None:
            keys.append("episode.close_after")
            flags.append(f"CRS episode closed at {iso(closed.close)}")
    met = None if grade is None else grade >= 1
    hints = raise_hints(timeline, f) if met and grade is not None and grade < 4 else []
    hint = f"≥{grade}; " + "; ".join(hints) if hints else None
    extra: dict[str, Any] = {
        "screening": screening.to_json(),
        "episode": episode_json(episode) if episode else None,
        "tiers": {"hypotension": f.hypotension_tier, "hypoxia": f.oxygen.tier},
        "flags": list(dict.fromkeys(flags)),
        "gradeIsLowerBound": True if hints else None,
        "raiseHint": hint,
        "caveats": [ATTRIBUTION] + ([f"Fever masked by {masked_by.ingredient} at "
                                     f"{iso(masked_by.start)}"] if masked_by else []),
        "feverThreshold": f"≥{f.fever_min} Cel",
        "rulesVersion": rules.version,
    }
    assessment = Assessment(
        ASTCT, met, now, grade=grade,
        peak_grade=episode.peak_grade if episode else grade,
        onset=episode.onset if episode else None,
        evidence=evidence_for(f, masked_by, screening.index_dose),
        missing=tuple(missing_for(timeline, rules, f)),
        assumptions=tuple(_notes(rules, keys) + extra_notes), extra=extra)
    return AstctReport(assessment, bool(hints), hint)
