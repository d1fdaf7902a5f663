"""carHLH (CARTOX): ferritin peak >10 000 ng/mL in the CRS phase and 2 organ involvements."""

# Source: Neelapu SS et al., Nat Rev Clin Oncol 2018 (CARTOX) [R; display only until verified];
#   see also Lichtenstein DA et al., Blood 2021;138(24):2469 [V, abstract]
# Table: clinical-criteria.md §2.4; §0 Defaults (Criterion labs, Lab baseline, ULN)
# Confidence: R (whole rule; carhlh.display_only keeps it out of the card indicator)
# Codes: LOINC 2276-4, 1975-2, 1920-8, 1742-6, 2160-0; Conditions oliguria,
#   pulmonary-oedema, haemophagocytosis (fhir_mappers concepts)

from __future__ import annotations

from datetime import datetime, timedelta

from criteria.assessment import Assessment
from criteria.common import in_window
from criteria.labs import (
    Item,
    above_multiple,
    any_of,
    assessment,
    baseline,
    count_outcome,
    criterion_high,
    facts,
    highest,
    status,
)
from criteria.model import DrugExposure, PatientTimeline
from criteria.rules import RuleSet

CARHLH = "carhlh-2018"
KEYS = ["carhlh.display_only", "carhlh.crs_phase_days", "carhlh.ferritin_above",
        "carhlh.bilirubin_uln_multiple", "carhlh.liver_uln_multiple",
        "carhlh.creatinine_multiple", "carhlh.organs_required", "hyper.criterion_lab_window"]


def _ferritin(timeline: PatientTimeline, now: datetime, rules: RuleSet,
              index: DrugExposure) -> Item:
    start = index.start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = min(now, start + timedelta(days=rules.integer("carhlh.crs_phase_days") + 1))
    peak = highest(in_window(timeline.series("ferritin"), start, end))
    met = None if peak is None else peak.value > rules.decimal("carhlh.ferritin_above")
    return Item("ferritin-peak", "Ferritin peak >10 000 ng/mL on days 0-5", status(met),
                (peak,) if peak else (), resolve="ferritin on days 0-5 after the index dose",
                labs=("ferritin",) if peak is None and end == now else ())


def _liver(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Item:
    bili = criterion_high(timeline, "bilirubin", now, rules)
    ast = criterion_high(timeline, "ast", now, rules)
    alt = criterion_high(timeline, "alt", now, rules)
    k = rules.decimal("carhlh.liver_uln_multiple")
    met = any_of([above_multiple(bili, rules.decimal("carhlh.bilirubin_uln_multiple"),
                                 bili.ref_high if bili else None),
                  above_multiple(ast, k, ast.ref_high if ast else None),
                  above_multiple(alt, k, alt.ref_high if alt else None)])
    return Item("liver", "Bilirubin >3× ULN or AST/ALT >5× ULN", status(met),
                tuple(m for m in (bili, ast, alt) if m),
                resolve="bilirubin, AST and ALT with reference ranges",
                labs=tuple(k for k, m in (("bilirubin", bili), ("ast", ast)) if m is None))


def _kidney(timeline: PatientTimeline, now: datetime, rules: RuleSet,
            index: DrugExposure) -> Item:
    cr = criterion_high(timeline, "creatinine", now, rules)
    base = baseline(timeline, "creatinine", index, rules)
    k = rules.decimal("carhlh.creatinine_multiple")
    olig = facts(timeline, "oliguria")
    met = any_of([above_multiple(cr, k, base.value if base else None),
                  above_multiple(cr, k, cr.ref_high if cr else None), True if olig else None])
    return Item("kidney", "Creatinine >3× baseline or ULN, or oliguria", status(met),
                (cr,) if cr else (), olig, resolve="creatinine with a baseline or reference "
                "range; oliguria as a coded Condition", labs=("creatinine",) if cr is None else ())


def assess_carhlh(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                  index: DrugExposure | None, iec_window: bool | None) -> Assessment:
    """Return carHLH [R]: met when the ferritin peak and 2 organ involvements hold."""
    if not iec_window or index is None:
        why = "no CAR-T infusion or bispecific dose in the IEC window"
        return assessment(CARHLH, None if iec_window is None else False, now, [], rules,
                          ["hyper.iec_window"], notes=[why])
    fer = _ferritin(timeline, now, rules, index)
    organs = [_liver(timeline, now, rules), _kidney(timeline, now, rules, index)]
    for concept, label in (("pulmonary-oedema", "Pulmonary oedema"),
                           ("haemophagocytosis", "Haemophagocytosis")):
        found = facts(timeline, concept)
        organs.append(Item(concept, label, "met" if found else "unknown", facts=found,
                           resolve=f"a coded {label.lower()} Condition"))
    organ_met, n, _ = count_outcome(organs, rules.integer("carhlh.organs_required"))
    ferritin_met = {"met": True, "not-met": False}.get(fer.status)
    met = False if False in (ferritin_met, organ_met) else (
        True if ferritin_met and organ_met else None)
    extra = {"organInvolvement": n, "displayOnly": rules.flag("carhlh.display_only")}
    return assessment(CARHLH, met, now, [fer, *organs], rules, KEYS, extra=extra,
                      notes=["carHLH is shown for information until verified (unconfirmed)"])
