"""EASIX and m-EASIX (CAR-T toxicity risk): values with their inputs and trend, no cut-offs."""

# Source: EASIX = LDH × creatinine ÷ platelets; m-EASIX = LDH × CRP [mg/dL] ÷ platelets
#   (Pennisi M et al., Blood Adv 2021;5(17):3397-3406 [V abstract]; PMC8525234 [V]);
#   EASIX-F/-FC not computed (Greenbaum U et al., Blood Adv 2021;5(14):2799-2806)
# Table: clinical-criteria.md §2.7 (no cut-offs: risk groups not confirmed), §0 Defaults
#   (EASIX family: latest values drawn on one calendar day)
# Confidence: V (formulas); assumption (same UTC calendar day)
# Codes: LOINC 2532-0 (LDH), 2160-0 (creatinine), 777-3 (platelets), 1988-5 (CRP)

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from criteria.assessment import Assessment, json_number
from criteria.common import usable
from criteria.labs import Item, assessment, lab_name
from criteria.model import Measurement, PatientTimeline
from criteria.rules import RuleSet

EASIX = "easix"
M_EASIX = "m-easix"
NO_CUTOFF = ("no cut-off: EASIX risk-group cut-offs are not confirmed; shown as a value and "
             "its trend only")
SAME_DAY = "inputs: the latest values drawn on one calendar day (UTC)"


def same_day_inputs(timeline: PatientTimeline, kinds: Sequence[str], now: datetime,
                    since: datetime | None = None) -> list[tuple[date, list[Measurement]]]:
    """Return calendar days with every kind drawn, newest first, with that day's latest values."""
    days: dict[date, dict[str, Measurement]] = {}
    for kind in kinds:
        for m in timeline.series(kind):
            if m.time <= now and usable(m) and (since is None or m.time >= since):
                days.setdefault(m.time.date(), {})[kind] = m  # series is oldest first
    return [(d, [v[k] for k in kinds]) for d, v in sorted(days.items(), reverse=True)
            if all(k in v for k in kinds)]


def easix(ldh: Decimal, creatinine_mg_dl: Decimal, platelets: Decimal) -> Decimal | None:
    """Return EASIX = LDH [U/L] × creatinine [mg/dL] ÷ platelets [10⁹/L]; None without platelets."""
    return None if platelets <= 0 else ldh * creatinine_mg_dl / platelets


def m_easix(ldh: Decimal, crp_mg_l: Decimal, platelets: Decimal) -> Decimal | None:
    """Return m-EASIX = LDH × CRP [mg/dL] ÷ platelets, from CRP in mg/L (divided by 10 first)."""
    return None if platelets <= 0 else ldh * (crp_mg_l / 10) / platelets


def log2(value: Decimal) -> Decimal | None:
    """Return log2 of a positive value (output only), else None."""
    return Decimal(str(math.log2(float(value)))) if value > 0 else None


def _value(inputs: list[Measurement], crp: bool) -> Decimal | None:
    ldh, second, plt = (m.value for m in inputs)
    return m_easix(ldh, second, plt) if crp else easix(ldh, second, plt)


def _assess(name: str, kinds: Sequence[str], crp: bool, timeline: PatientTimeline,
            now: datetime, rules: RuleSet) -> Assessment:
    days = same_day_inputs(timeline, kinds, now)
    label = "LDH × CRP (mg/dL) ÷ platelets" if crp else "LDH × creatinine ÷ platelets"
    if not days or _value(days[0][1], crp) is None:
        item = Item(name, label, "unknown", resolve="LDH, " + lab_name(kinds[1]) + " and platelets "
                    "drawn on one day", labs=tuple(kinds))
        return assessment(name, None, now, [item], rules, [], notes=[NO_CUTOFF, SAME_DAY])
    day, inputs = days[0]
    value = _value(inputs, crp) or Decimal(0)
    extra: dict[str, object] = {"value": json_number(value), "day": day.isoformat(),
                                "formula": label}
    lg = log2(value)
    if not crp and lg is not None:
        extra["log2"] = json_number(lg)
        extra["sEasix"] = json_number(inputs[0].value / inputs[2].value)
    if len(days) > 1:
        before = _value(days[1][1], crp)
        if before is not None:
            extra["previous"] = {"value": json_number(before), "day": days[1][0].isoformat()}
    item = Item(name, label, "shown", tuple(inputs), note="value shown; no cut-off")
    return assessment(name, None, now, [item], rules, [], notes=[NO_CUTOFF, SAME_DAY],
                      extra=extra)


def assess_easix(timeline: PatientTimeline, now: datetime,
                 rules: RuleSet) -> tuple[Assessment, Assessment]:
    """Return EASIX (with log2 and s-EASIX) and m-EASIX; met is always null (no cut-off)."""
    return (_assess(EASIX, ("ldh", "creatinine", "platelets"), False, timeline, now, rules),
            _assess(M_EASIX, ("ldh", "crp", "platelets"), True, timeline, now, rules))
