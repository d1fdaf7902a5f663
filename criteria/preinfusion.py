"""Checks before a CAR-T or bispecific infusion: infection, labs, weight, readiness, EASIX."""

# Source: CAR-T boxed warnings [V] (no infusion with active infection or inflammatory disorder);
#   Breyanzi EMA SmPC (delay infusion) [R]; FDA REMS removal June 2025 [V]; Pennisi M et al.,
#   Blood Adv 2021;5(17):3397-3406 (m-EASIX) [V]
# Table: clinical-criteria.md §3.6 (checks), §3.5 (tocilizumab on hand), §2.7 (EASIX), §0
#   Defaults (Dosing weight, EASIX family, Lab baseline)
# Confidence: V (boxed warning, EASIX formulas); R (GVHD delay, card items); assumption
#   (48 h fever window, 3 d labs, local readiness count, undated Conditions)
# Codes: temperature 8310-5, CRP 1988-5, ferritin 2276-4, LDH 2532-0, creatinine 2160-0,
#   platelets 777-3, weight 29463-7 (§4.1, §4.3; mapped by fhir_mappers)

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from criteria.assessment import Evidence, iso, json_number
from criteria.common import dosing_weight, given, in_window, latest_before, say_duration
from criteria.easix import easix, log2, m_easix, same_day_inputs
from criteria.model import DrugClass, DrugExposure, DrugSource, Measurement, PatientTimeline
from criteria.rules import RuleSet

Status = Literal["pass", "note", "unknown", "fail", "critical"]
RANK: Mapping[str, int] = {"pass": 0, "note": 1, "unknown": 2, "fail": 3, "critical": 4}
LAB_NAMES = {"crp": "CRP", "ferritin": "ferritin", "ldh": "LDH", "creatinine": "creatinine",
             "platelets": "platelets"}


@dataclass(frozen=True)
class CheckResult:
    """One check on one draft order; ``met`` is True when nothing needs attention."""

    check: str  # e.g. "infection-inflammation", "baseline-labs", "dose", "limits"
    status: Status  # pass | note (reported only) | unknown | fail | critical
    finding: str  # one plain-language line for the card detail
    met: bool | None
    short: str | None = None  # summary fragment when the check needs attention
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def _reading(m: Measurement, note: str | None = None) -> Evidence:
    return Evidence(m.kind, m.time, m.reference, m.value, m.unit, note)


def _unavailable(timeline: PatientTimeline, *keys: str) -> list[str]:
    return [u for u in timeline.unavailable if u.split(":", 1)[0] in keys]


def infection_inflammation(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                           crs_grade: int | None) -> CheckResult:
    """Fever in the fever window, an active infection or inflammatory Condition, or CRS now."""
    window = rules.constant("order.fever_window").shown()
    temps = in_window(timeline.series("temperature"), now - rules.duration("order.fever_window"),
                      now)
    evidence: list[Evidence] = []
    critical: list[str] = []
    failing: list[str] = []
    shorts: list[str] = []
    hottest = max(temps, key=lambda m: m.value) if temps else None
    if hottest is not None and hottest.value >= rules.decimal("astct.fever_min"):
        critical.append(f"fever {hottest.value} °C at {iso(hottest.time)} (within {window})")
        shorts.append(f"fever {hottest.value} °C in {window}")
        evidence.append(_reading(hottest, f"fever (at or above {rules.decimal('astct.fever_min')}"
                                          " °C)"))
    statuses = rules.strings("order.infection_statuses")
    recent = now - rules.duration("order.undated_condition_window")
    inflammatory = rules.strings("order.inflammation_concepts")
    for c in timeline.conditions:
        when = c.onset or c.recorded
        current = c.clinical_status in statuses or (
            c.clinical_status is None and when is not None and when >= recent)
        if not current or c.concept not in ("infection", *inflammatory):
            continue
        text = "active infection" if c.concept == "infection" else f"active {c.concept}"
        (critical if c.concept == "infection" else failing).append(f"{text} ({c.reference})")
        shorts.append(text)
        evidence.append(Evidence(c.concept, when or now, c.reference, c.clinical_status or None,
                                 note="Condition" + ("" if when else ", undated")))
    if crs_grade is not None and crs_grade >= 1:
        critical.append(f"CRS grade {crs_grade} now (ASTCT)")
        shorts.insert(0, f"CRS grade {crs_grade} now")
    missing = [f"temperature in the last {window}"] if hottest is None else []
    missing += _unavailable(timeline, "vitals", "conditions")
    notes = [rules.note("order.fever_window")]
    if failing:
        notes.append(rules.note("order.inflammation_concepts"))
    found = critical + failing
    if found:
        status: Status = "critical" if critical else "fail"
        return CheckResult("infection-inflammation", status, "; ".join(found), False,
                           ", ".join(shorts), tuple(evidence), tuple(missing), tuple(notes))
    if hottest is None:
        return CheckResult("infection-inflammation", "unknown",
                           f"no temperature recorded in the last {window}: fever not ruled out",
                           None, "no temperature in " + window, (), tuple(missing), tuple(notes))
    return CheckResult("infection-inflammation", "pass",
                       f"no fever (maximum {hottest.value} °C in {window}), no active infection "
                       "on record, no CRS now", True, None, (_reading(hottest, "maximum"),),
                       tuple(missing), tuple(notes))


def baseline_labs(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> CheckResult:
    """CRP and ferritin (configurable) drawn within the baseline window; which to order."""
    age = rules.duration("order.baseline_lab_max_age")
    shown = rules.constant("order.baseline_lab_max_age").shown()
    pending = dict(timeline.draft_lab_orders)
    evidence: list[Evidence] = []
    to_order: list[str] = []
    ordered: list[str] = []
    for kind in rules.strings("order.baseline_labs"):
        latest = latest_before(timeline.series(kind), now)
        if latest is not None and now - latest.time <= age:
            evidence.append(_reading(latest, "baseline"))
        elif kind in pending:
            ordered.append(kind)
        else:
            to_order.append(kind)
    names = [LAB_NAMES.get(k, k) for k in to_order]
    notes = (rules.note("order.baseline_labs"), rules.note("order.baseline_lab_max_age"))
    extra = {"toOrder": to_order, "orderedNow": [pending[k] for k in ordered]}
    missing = tuple(f"{LAB_NAMES.get(k, k)} within {shown}" for k in to_order + ordered)
    missing += tuple(_unavailable(timeline, "labs"))
    if to_order:
        return CheckResult("baseline-labs", "fail", f"no {' or '.join(names)} in the last {shown}",
                           False, f"no {', '.join(names)} in {shown}", tuple(evidence), missing,
                           notes, extra)
    if ordered:
        text = ", ".join(LAB_NAMES.get(k, k) for k in ordered)
        return CheckResult("baseline-labs", "note", f"{text} ordered with this signing (no result"
                           f" in the last {shown})", True, None, tuple(evidence), missing, notes,
                           extra)
    return CheckResult("baseline-labs", "pass", f"baseline labs within {shown}", True, None,
                       tuple(evidence), missing, notes)


def body_weight(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> CheckResult:
    """A dosing weight on file and recent (tocilizumab is dosed by weight)."""
    weight, flag = dosing_weight(timeline, now, rules)
    limit = rules.constant("weight.max_age").shown()
    if weight is None:
        oldest = rules.constant("weight.flagged_max_age").shown()
        return CheckResult("weight", "fail", f"no body weight in the last {oldest}: tocilizumab "
                           "cannot be dosed", False, "no weight", (),
                           (f"body weight within {limit}",), (rules.note("weight.max_age"),))
    if flag:
        old = say_duration(now - weight.time)
        return CheckResult("weight", "fail", f"{flag}: re-weigh before infusion (dosing weight "
                           f"at most {limit} old)", False, f"weight {old} old",
                           (_reading(weight, "dosing weight, flagged"),), (),
                           (rules.note("weight.max_age"),))
    return CheckResult("weight", "pass", f"weight {weight.value} kg on {weight.time:%Y-%m-%d}",
                       True, None, (_reading(weight, "dosing weight"),))


def tocilizumab_readiness(timeline: PatientTimeline, order: DrugExposure,
                          rules: RuleSet) -> CheckResult | None:
    """Local rule: tocilizumab doses reserved for this patient (orders on record or in signing)."""
    wanted = rules.integer("order.tocilizumab_on_hand")
    if wanted <= 0 or order.drug_class.value not in rules.strings(
            "order.tocilizumab_on_hand_classes"):
        return None
    drafts = [d for d in timeline.draft_orders if d.drug_class is DrugClass.TOCILIZUMAB]
    signed = [d for d in timeline.drugs_of(DrugClass.TOCILIZUMAB) if d.source is DrugSource.ORDER
              and d.status in rules.strings("tocilizumab.order_statuses")]
    found = drafts + signed
    evidence = tuple(Evidence("tocilizumab-order", d.start, d.reference, d.dose, d.dose_unit,
                              d.source.value) for d in found)
    notes = (rules.note("order.tocilizumab_on_hand"),)
    extra = {"localPolicy": True, "dosesRequired": wanted, "ordersFound": len(found)}
    if len(found) >= wanted:
        return CheckResult("tocilizumab-readiness", "pass", f"{len(found)} tocilizumab orders for "
                           f"this patient (local policy: {wanted})", True, None, evidence, (),
                           notes, extra)
    return CheckResult("tocilizumab-readiness", "unknown", f"confirm {wanted} tocilizumab doses "
                       f"are available for this patient ({len(found)} ordered)", None,
                       f"confirm {wanted} tocilizumab doses", evidence,
                       (f"{wanted} tocilizumab doses reserved",), notes, extra)


def _same_day(timeline: PatientTimeline, kinds: tuple[str, ...], now: datetime,
              rules: RuleSet) -> dict[str, Measurement] | None:
    """Return the latest values of kinds drawn on one calendar day within the EASIX window."""
    days = same_day_inputs(timeline, kinds, now,
                           since=now - rules.duration("order.easix_max_age"))
    return dict(zip(kinds, days[0][1], strict=True)) if days else None


def easix_baseline(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> CheckResult:
    """Baseline EASIX and m-EASIX with their inputs (shown only: no cut-offs are confirmed)."""
    extra: dict[str, Any] = {}
    evidence: dict[str, Evidence] = {}
    base = _same_day(timeline, ("ldh", "creatinine", "platelets"), now, rules)
    if base is not None:
        value = easix(base["ldh"].value, base["creatinine"].value, base["platelets"].value)
        if value is not None:
            extra["easix"] = json_number(value)
            lg = log2(value)
            if lg is not None:
                extra["easixLog2"] = json_number(lg)
            evidence.update({m.reference: _reading(m, "EASIX input") for m in base.values()})
    mod = _same_day(timeline, ("ldh", "crp", "platelets"), now, rules)
    if mod is not None:
        value = m_easix(mod["ldh"].value, mod["crp"].value, mod["platelets"].value)
        if value is not None:
            extra["mEasix"] = json_number(value)
            evidence.update({m.reference: _reading(m, "m-EASIX input") for m in mod.values()
                             if m.reference not in evidence})
    notes = (rules.note("order.easix_max_age"),)
    shown = rules.constant("order.easix_max_age").shown()
    log = f" (log2 {extra['easixLog2']})" if "easixLog2" in extra else ""
    parts = [f"EASIX {extra['easix']}{log}" if "easix" in extra else "EASIX not computed",
             f"m-EASIX {extra['mEasix']}" if "mEasix" in extra else "m-EASIX not computed"]
    missing = () if "easix" in extra and "mEasix" in extra else (
        f"LDH, creatinine, CRP and platelets on one day within {shown}",)
    return CheckResult("easix", "note", "; ".join(parts) + " (no confirmed cut-offs)",
                       True if extra else None, None, tuple(evidence.values()), missing, notes,
                       extra)


def earlier_tocilizumab(timeline: PatientTimeline, now: datetime,
                        rules: RuleSet) -> tuple[DrugExposure, ...]:
    """Return tocilizumab administrations given before now."""
    return tuple(d for d in timeline.drugs_of(DrugClass.TOCILIZUMAB)
                 if given(d, rules) and d.start <= now)


def in_unit(value: Decimal, unit: str) -> str:
    """Return a value with its unit for a finding, e.g. "560 mg"."""
    return f"{value.normalize():f} {unit}"
