"""Hyperinflammation entry point: HScore, HLH-2004, IEC-HS, carHLH, Caricchio, MAS and EASIX."""

# Source: clinical-criteria.md §2.1-2.7 (each criterion module names its own source)
# Table: §0 Defaults (IEC window, Criterion labs, Lab baseline); §2.1 IEC-window rule
# Confidence: assumption (card strength per criterion, IEC-window lead; issue 6)
# Codes: see the criterion modules; CAR-T and bispecific doses classified by fhir_mappers (§4.4)

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from criteria.assessment import Assessment
from criteria.carhlh import CARHLH, assess_carhlh
from criteria.caricchio import CARICCHIO, assess_caricchio
from criteria.common import require_aware, say_duration
from criteria.crs import CrsResult
from criteria.easix import assess_easix
from criteria.hlh2004 import HLH2004, assess_hlh2004
from criteria.hscore import HSCORE, assess_hscore
from criteria.iechs import IECHS, assess_iechs
from criteria.labs import LabTrend, facts, lab_trend
from criteria.mas import MAS, assess_mas
from criteria.model import DrugClass, DrugExposure, PatientTimeline
from criteria.rules import RuleSet
from criteria.screening import iec_doses

Strength = Literal["critical", "warning", "info"]
RANK: Mapping[str, int] = {"critical": 3, "warning": 2, "info": 1}
# Tie-break between criteria of equal strength (most specific first).
PRIORITY = (IECHS, CARHLH, HSCORE, HLH2004, MAS, CARICCHIO)
TRIGGER_CONCEPTS = (("infection", "infection on record"), ("covid19", "COVID-19 on record"),
                    ("sjia", "systemic JIA on record"),
                    ("autoimmune", "autoimmune disease on record"))


@dataclass(frozen=True)
class HyperinflammationResult:
    """Every hyperinflammation assessment and what the card needs."""

    assessments: tuple[Assessment, ...]
    iec_window: bool | None  # None: medication data unavailable
    index_dose: DrugExposure | None
    day_post_index: int | None
    trends: Mapping[str, LabTrend]
    triggers: tuple[str, ...]
    strengths: Mapping[str, Strength]  # criteria that call for the card, with their strength
    order_labs: tuple[str, ...]  # labs whose result would decide an undecided criterion

    @property
    def strength(self) -> Strength | None:
        """Return the card strength (None: no card)."""
        if not self.strengths:
            return None
        return max(self.strengths.values(), key=lambda s: RANK[s])

    @property
    def lead(self) -> tuple[str, ...]:
        """Return the criteria that call for the card, strongest first."""
        return tuple(sorted(self.strengths, key=lambda c: (-RANK[self.strengths[c]],
                                                           PRIORITY.index(c))))

    @property
    def detail_order(self) -> tuple[str, ...]:
        """Return the criteria in detail order: IEC-HS first within the IEC window."""
        first = (IECHS,) if self.iec_window else ()
        rest = [c for c in self.lead if c not in first]
        rest += [c for c in PRIORITY if c not in first and c not in rest]
        return first + tuple(rest)

    def get(self, criteria: str) -> Assessment:
        """Return one assessment by criteria name."""
        return next(a for a in self.assessments if a.criteria == criteria)


def _index(timeline: PatientTimeline, now: datetime,
           rules: RuleSet) -> tuple[DrugExposure | None, bool | None]:
    doses = iec_doses(timeline, now, rules)
    index = doses[-1] if doses else None
    if index is not None and now - index.start <= rules.duration("hyper.iec_window"):
        return index, True
    return index, None if "medadmin" in timeline.unavailable else False


def _strengths(found: Mapping[str, Assessment], iec_window: bool | None,
               rules: RuleSet) -> dict[str, Strength]:
    out: dict[str, Strength] = {}
    iec = found[IECHS]
    if iec.met:
        out[IECHS] = "critical" if (iec.grade or 0) >= 3 else "warning"
    if found[CARHLH].met and not rules.flag("carhlh.display_only"):
        out[CARHLH] = "critical"
    for name in (HSCORE, HLH2004, MAS, CARICCHIO):
        if found[name].met:
            out[name] = "warning"
    hlh = found[HLH2004]
    counts: Mapping[str, Any] = hlh.extra.get("counts", {})
    if hlh.met is None and not iec_window and \
            counts.get("met", 0) >= rules.integer("hyper.possible_card_min_met"):
        out[HLH2004] = "info"
    return out


def _order_labs(found: Mapping[str, Assessment], timeline: PatientTimeline) -> tuple[str, ...]:
    names = [HLH2004, HSCORE, IECHS, CARHLH, MAS]
    if facts(timeline, "covid19"):
        names.append(CARICCHIO)
    labs: list[str] = []
    for name in names:
        a = found[name]
        if a.met is not None:
            continue
        for item in a.extra.get("items", []):
            labs += [k for k in item.get("labs", []) if k not in labs]
    return tuple(labs)


def _triggers(timeline: PatientTimeline, now: datetime, index: DrugExposure | None,
              iec_window: bool | None) -> tuple[str, ...]:
    out = []
    if index is not None and iec_window:
        what = "CAR-T infusion" if index.drug_class is DrugClass.CAR_T else "bispecific dose"
        out.append(f"{what} ({index.ingredient}) {say_duration(now - index.start)} ago")
    for concept, text in TRIGGER_CONCEPTS:
        found = facts(timeline, concept)
        if found:
            out.append(f"{text} ({', '.join(f.reference for f in found[:2])})")
    return tuple(out)


def assess_hyperinflammation(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                             crs: CrsResult | None) -> HyperinflammationResult:
    """Assess every hyperinflammation criterion and decide what the card shows."""
    require_aware(now)
    index, window = _index(timeline, now, rules)
    in_iec = bool(window)
    easix, m_easix = assess_easix(timeline, now, rules)
    assessments = (
        assess_hscore(timeline, now, rules, in_iec),
        assess_hlh2004(timeline, now, rules, in_iec),
        assess_iechs(timeline, now, rules, crs, index, window),
        assess_carhlh(timeline, now, rules, index, window),
        assess_caricchio(timeline, now, rules),
        assess_mas(timeline, now, rules),
        easix, m_easix,
    )
    found = {a.criteria: a for a in assessments}
    trends = {k: lab_trend(timeline, k, now, rules, index) for k in ("ferritin", "crp")}
    day = (now.date() - index.start.date()).days if index is not None and in_iec else None
    labs = _order_labs(found, timeline)
    return HyperinflammationResult(
        assessments, window, index if in_iec else None, day, trends,
        _triggers(timeline, now, index, window), _strengths(found, window, rules), labs)
