"""order-sign entry point: the checks on each draft CAR-T, bispecific or tocilizumab order."""

# Source: see criteria.preinfusion (CAR-T, §3.6), criteria.bispecific (§3.7) and
#   criteria.tocilizumab_order (§3.1)
# Table: clinical-criteria.md §3.1, §3.5-§3.7, §2.7; reference/cds-hooks.md §8 (order-sign)
# Confidence: per check (see the modules above)
# Codes: CAR-T, bispecific and tocilizumab products by RxNorm or name (§4.4; fhir_mappers)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from criteria.assessment import Assessment
from criteria.bispecific import crs_history, premedication, prior_crs, step_up
from criteria.common import require_aware
from criteria.crs import CrsResult, assess_crs
from criteria.model import DrugClass, DrugExposure, PatientTimeline
from criteria.preinfusion import (
    RANK,
    CheckResult,
    Status,
    baseline_labs,
    body_weight,
    easix_baseline,
    infection_inflammation,
    tocilizumab_readiness,
)
from criteria.rules import RuleSet
from criteria.tocilizumab_order import TocilizumabOrderResult, check_tocilizumab_order

OF_INTEREST = frozenset({DrugClass.CAR_T, DrugClass.BISPECIFIC, DrugClass.TOCILIZUMAB})
CRITERIA = {DrugClass.CAR_T: "cart-preinfusion", DrugClass.BISPECIFIC: "bispecific-preinfusion",
            DrugClass.TOCILIZUMAB: "tocilizumab-order"}


@dataclass(frozen=True)
class OrderCheck:
    """Every check on one draft order, for one card and its assessments."""

    order: DrugExposure
    criteria: str  # cart-preinfusion | bispecific-preinfusion | tocilizumab-order
    results: tuple[CheckResult, ...]
    evaluated_at: datetime
    tocilizumab: TocilizumabOrderResult | None = None
    applicable: bool = True  # False: a tocilizumab order outside CAR-T/bispecific care

    @property
    def worst(self) -> Status:
        """Return the most severe status of the checks."""
        return max((r.status for r in self.results), key=lambda s: RANK[s], default="pass")

    def assessments(self) -> tuple[Assessment, ...]:
        """Return one assessment per check, in the serialised form of the CRS assessments."""
        return tuple(Assessment(
            criteria=self.criteria, met=r.met, evaluated_at=self.evaluated_at,
            evidence=r.evidence, missing=r.missing, assumptions=r.assumptions,
            extra={"check": r.check, "status": r.status, "order": self.order.reference,
                   "drug": self.order.ingredient, "finding": r.finding, **r.extra},
        ) for r in self.results)


def of_interest(timeline: PatientTimeline) -> tuple[DrugExposure, ...]:
    """Return the draft orders the service checks (CAR-T, bispecific, tocilizumab)."""
    return tuple(d for d in timeline.draft_orders if d.drug_class in OF_INTEREST)


def _preinfusion(timeline: PatientTimeline, order: DrugExposure, now: datetime,
                 rules: RuleSet, crs: CrsResult) -> list[CheckResult]:
    grade = crs.astct.grade if crs.screened else None
    bispecific = order.drug_class is DrugClass.BISPECIFIC
    results = [infection_inflammation(timeline, now, rules, grade),
               baseline_labs(timeline, now, rules), body_weight(timeline, now, rules)]
    readiness = tocilizumab_readiness(timeline, order, rules)
    if readiness is not None:
        results.append(readiness)
    results.append(easix_baseline(timeline, now, rules))
    results.append(prior_crs(timeline, now, rules, crs_history(timeline, now, rules, crs),
                             bispecific))
    if bispecific:
        results += [premedication(timeline, order, now, rules),
                    step_up(timeline, order, now, rules)]
    return results


def _tocilizumab(timeline: PatientTimeline, order: DrugExposure, now: datetime,
                 rules: RuleSet, crs: CrsResult) -> OrderCheck:
    therapy_drafts = any(d.drug_class in (DrugClass.CAR_T, DrugClass.BISPECIFIC)
                         for d in timeline.draft_orders)
    if crs.screening.screened is False and not therapy_drafts:
        result = CheckResult("applicability", "note", "not checked: no CAR-T or bispecific "
                             "therapy on record or in this signing; the CRS dose limits do not "
                             "apply to other indications", None,
                             assumptions=(crs.screening.reason,))
        return OrderCheck(order, CRITERIA[order.drug_class], (result,), now, applicable=False)
    onset = crs.episode.onset if crs.episode is not None else None
    found = check_tocilizumab_order(timeline, order, now, rules, onset)
    return OrderCheck(order, CRITERIA[order.drug_class], found.results, now, found)


def assess_orders(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> list[OrderCheck]:
    """Return the checks of every draft order of interest, in draft order (oldest first)."""
    require_aware(now)
    orders = of_interest(timeline)
    if not orders:
        return []
    crs = assess_crs(timeline, now, rules)
    out = []
    for order in orders:
        if order.drug_class is DrugClass.TOCILIZUMAB:
            out.append(_tocilizumab(timeline, order, now, rules, crs))
        else:
            results = _preinfusion(timeline, order, now, rules, crs)
            out.append(OrderCheck(order, CRITERIA[order.drug_class], tuple(results), now))
    return out
