"""MAS in systemic JIA (Ravelli 2016): febrile, ferritin >684 and any 2 of 4 laboratory items."""

# Source: Ravelli A et al., Arthritis Rheumatol 2016;68:566-576 (Ann Rheum Dis 2016;75:481) [V]
# Table: 2016 EULAR/ACR/PRINTO classification criteria; clinical-criteria.md §2.6
# Confidence: V (cut-offs); assumption (febrile = T ≥38.0 °C in 24 h); R (ICD-10-CM M08.2*)
# Codes: LOINC 8310-5, 2276-4, 777-3, 1920-8, 2571-8, 3255-7; Condition sjia (fhir_mappers)

from __future__ import annotations

from datetime import datetime

from criteria.assessment import Assessment
from criteria.cutoffs import against, criterion_pick, observed_refs
from criteria.labs import (
    Item,
    assessment,
    count_outcome,
    criterion_high,
    criterion_low,
    facts,
    lab_name,
    max_temperature,
    status,
)
from criteria.model import Measurement, PatientTimeline
from criteria.rules import RuleSet

MAS = "mas-sjia-2016"
KEYS = ["mas.fever_min", "mas.ferritin_above", "mas.platelets_max", "mas.ast_above",
        "mas.triglycerides_above", "mas.fibrinogen_max", "mas.items_required",
        "hyper.criterion_lab_window", "hyper.temperature_window"]


def _item(m: Measurement | None, hit: bool, kind: str, label: str,
          observed: tuple[str, ...] = ()) -> Item:
    return Item(kind, label, status(None if m is None else hit), (m,) if m else (),
                resolve=f"{lab_name(kind)} in the last 72 h", labs=(kind,) if m is None else (),
                observed=observed)


def _tg_above(m: Measurement, rules: RuleSet) -> int:
    """Return 1 when triglycerides are strictly above the cut-off in the printed unit (§0)."""
    value, cut = against(m, rules, "mas.triglycerides_above")
    return int(value > cut)


def applies(timeline: PatientTimeline, rules: RuleSet) -> bool:
    """Return whether MAS is assessed: a known or suspected sJIA Condition, or the setting."""
    ok = rules.strings("mas.verification_statuses")
    return rules.flag("mas.everyone") or any(
        f.verification_status in ok for f in facts(timeline, "sjia"))


def assess_mas(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Assessment:
    """Return MAS (Ravelli 2016), or met false with the reason when the rule does not run."""
    if not applies(timeline, rules):
        return assessment(MAS, False, now, [], rules, ["mas.everyone", "mas.verification_statuses"],
                          notes=["not assessed: no known or suspected sJIA Condition"],
                          extra={"applies": False})
    top = max_temperature(timeline, now, rules)
    fever = Item("febrile", "Febrile (T ≥38.0 °C)", status(
        None if top is None else top.value >= rules.decimal("mas.fever_min")),
        (top,) if top else (), resolve="a temperature in the last 24 h")
    fer = criterion_high(timeline, "ferritin", now, rules)
    ferritin = _item(fer, fer is not None and fer.value > rules.decimal("mas.ferritin_above"),
                     "ferritin", "Ferritin >684 ng/mL")
    plt = criterion_low(timeline, "platelets", now, rules)
    ast = criterion_high(timeline, "ast", now, rules)
    tg = criterion_pick(timeline, "triglycerides", now, rules, lambda m: _tg_above(m, rules),
                        high=True)
    fib = criterion_low(timeline, "fibrinogen", now, rules)
    labs = [
        _item(plt, plt is not None and plt.value <= rules.decimal("mas.platelets_max"),
              "platelets", "Platelets ≤181×10⁹/L"),
        _item(ast, ast is not None and ast.value > rules.decimal("mas.ast_above"), "ast",
              "AST >48 U/L"),
        _item(tg, tg is not None and bool(_tg_above(tg, rules)), "triglycerides",
              "Triglycerides >156 mg/dL",
              observed_refs(rules, [(tg, "mas.triglycerides_above")])),
        _item(fib, fib is not None and fib.value <= rules.decimal("mas.fibrinogen_max"),
              "fibrinogen", "Fibrinogen ≤360 mg/dL"),
    ]
    two, n, _ = count_outcome(labs, rules.integer("mas.items_required"))
    gates = [{"met": True, "not-met": False}.get(i.status) for i in (fever, ferritin)] + [two]
    met = False if False in gates else (True if all(gates) else None)
    return assessment(MAS, met, now, [fever, ferritin, *labs], rules, KEYS,
                      extra={"applies": True, "labItemsMet": n})
