"""A draft tocilizumab order against the CRS dose and repeat limits (the draft is the candidate)."""

# Source: Actemra label (CAR-T CRS) [R wording]; Kymriah 2018 label [V]; NCCN CART-6/9 [V2]
# Table: clinical-criteria.md §3.1 (dose, cap, 8 h, closed 24 h window, 4 per episode, counted
#   doses: the order being signed is the candidate, not a prior dose); §0 Defaults (Dosing weight)
# Confidence: as criteria.tocilizumab; assumption (dose tolerance for vial rounding; candidate
#   timed at the evaluation time)
# Codes: tocilizumab RxCUI 612865, originator and biosimilar products §4.4 (fhir_mappers)

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from criteria.assessment import Evidence, json_number
from criteria.model import DrugClass, DrugExposure, PatientTimeline
from criteria.preinfusion import CheckResult, in_unit
from criteria.rules import RuleSet
from criteria.tocilizumab import TocilizumabCheck, check_tocilizumab

_TO_MG = {"mg": Decimal(1), "g": Decimal(1000), "ug": Decimal("0.001")}


@dataclass(frozen=True)
class TocilizumabOrderResult:
    """The checks on one tocilizumab draft, and the corrected dose when the fix is a dose."""

    results: tuple[CheckResult, ...]
    check: TocilizumabCheck
    ordered_mg: Decimal | None
    corrected_mg: Decimal | None  # the weight-based dose to put on the order, when it differs
    blocked: bool  # a repeat limit (8 h, 24 h window, episode) forbids any dose now


def ordered_mg(order: DrugExposure, weight_kg: Decimal | None) -> Decimal | None:
    """Return the ordered dose in mg (mg, g, ug; mg/kg with the dosing weight), else None."""
    if order.dose is None or order.dose_unit is None:
        return None
    if order.dose_unit in _TO_MG:
        return order.dose * _TO_MG[order.dose_unit]
    if order.dose_unit == "mg/kg" and weight_kg is not None:
        return order.dose * weight_kg
    return None


def _dose(order: DrugExposure, check: TocilizumabCheck, ordered: Decimal | None,
          rules: RuleSet) -> tuple[CheckResult, Decimal | None]:
    """Compare the ordered dose with the weight-based dose; return the result and the fix."""
    cap = rules.decimal("tocilizumab.cap")
    expected = check.dose_mg
    extra: dict[str, object] = {"capMg": json_number(cap)}
    if ordered is not None:
        extra["orderedMg"] = json_number(ordered)
    if expected is None or check.weight is None or check.mg_per_kg is None:
        reason = "; ".join(b for b in check.blocks if b not in check.limit_blocks)
        if ordered is not None and ordered > cap:
            return CheckResult("dose", "critical", f"{in_unit(ordered, 'mg')} exceeds the "
                               f"{in_unit(cap, 'mg')} cap per dose; {reason}", False,
                               f"{in_unit(ordered, 'mg')} exceeds {in_unit(cap, 'mg')} cap",
                               extra=extra), None
        return CheckResult("dose", "fail", f"dose cannot be checked: {reason}", False, reason,
                           missing=("dosing weight",) if check.weight is None else (),
                           extra=extra), None
    rule = (f"{in_unit(check.mg_per_kg, 'mg/kg')} × {in_unit(check.weight.value, 'kg')} = "
            f"{in_unit(expected, 'mg')}" + (" (capped)" if check.capped else ""))
    extra.update(expectedMg=json_number(expected), mgPerKg=json_number(check.mg_per_kg),
                 weightKg=json_number(check.weight.value))
    weight = Evidence("body_weight", check.weight.time, check.weight.reference,
                      check.weight.value, check.weight.unit, "dosing weight")
    if ordered is None:
        sent = in_unit(order.dose, order.dose_unit or "(no unit)") if order.dose else "no dose"
        return CheckResult("dose", "fail", f"the order carries {sent}, not a dose in mg; "
                           f"weight-based dose {rule}", False, "no dose in mg",
                           (weight,), (), (), extra), expected
    if ordered > cap:
        return CheckResult("dose", "critical", f"{in_unit(ordered, 'mg')} exceeds the "
                           f"{in_unit(cap, 'mg')} cap per dose; weight-based dose {rule}", False,
                           f"{in_unit(ordered, 'mg')} exceeds {in_unit(cap, 'mg')} cap "
                           f"(weight-based {in_unit(expected, 'mg')})", (weight,), (), (),
                           extra), expected
    tolerance = rules.decimal("order.tocilizumab_dose_tolerance") / 100
    notes = (rules.note("order.tocilizumab_dose_tolerance"),)
    if abs(ordered - expected) > expected * tolerance:
        side = "above" if ordered > expected else "below"
        return CheckResult("dose", "fail", f"{in_unit(ordered, 'mg')} is {side} the weight-based "
                           f"dose {rule}", False, f"{in_unit(ordered, 'mg')}, expected "
                           f"{in_unit(expected, 'mg')}", (weight,), (), notes, extra), expected
    return CheckResult("dose", "pass", f"{in_unit(ordered, 'mg')} matches {rule}", True, None,
                       (weight,), (), notes, extra), None


def _limits(check: TocilizumabCheck, others: list[DrugExposure]) -> CheckResult:
    """The repeat limits on counted prior doses, and other tocilizumab drafts signed with it."""
    evidence = tuple(Evidence("tocilizumab", d.start, d.reference, d.dose, d.dose_unit,
                              f"counted dose ({d.source.value})") for d in check.prior_doses)
    extra = {"counted24h": check.counted_24h, "countedEpisode": check.counted_episode,
             "priorDoses": [d.reference for d in check.prior_doses]}
    problems = list(check.limit_blocks)
    if others:
        problems.append(f"{len(others) + 1} tocilizumab orders in this signing "
                        f"({', '.join(d.reference for d in others)}); only one dose at a time")
    if problems:
        return CheckResult("limits", "fail", "; ".join(problems), False, problems[0], evidence,
                           (), (), extra)
    return CheckResult("limits", "pass", f"{check.counted_24h} doses in the last 24 h, "
                       f"{check.counted_episode} this episode", True, None, evidence, (), (),
                       extra)


def check_tocilizumab_order(timeline: PatientTimeline, order: DrugExposure, now: datetime,
                            rules: RuleSet,
                            episode_onset: datetime | None) -> TocilizumabOrderResult:
    """Check one draft tocilizumab order: dose by weight, cap, 8 h, 3 per 24 h, 4 per episode.

    The draft is the candidate given at ``now``; a signed order with the same id (a revised
    order being re-signed) is not counted as a prior dose.
    """
    candidate = dataclasses.replace(timeline, drugs=tuple(
        d for d in timeline.drugs if d.reference != order.reference))
    check = check_tocilizumab(candidate, now, rules, episode_onset)
    weight = check.weight.value if check.weight is not None else None
    ordered = ordered_mg(order, weight)
    dose, corrected = _dose(order, check, ordered, rules)
    others = [d for d in timeline.draft_orders if d.drug_class is DrugClass.TOCILIZUMAB
              and d.reference != order.reference]
    limits = _limits(check, others)
    if check.assumptions or check.flags:
        dose = dataclasses.replace(dose, assumptions=(*dose.assumptions, *check.assumptions,
                                                      *(f"flag: {f}" for f in check.flags)))
    return TocilizumabOrderResult((dose, limits), check, ordered, corrected,
                                  bool(check.limit_blocks) or bool(others))
