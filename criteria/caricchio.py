"""COVID-19 cytokine storm (Caricchio 2021): entry criteria, then 1 criterion from each cluster."""

# Source: Caricchio R et al., Ann Rheum Dis 2021;80:88-95, doi:10.1136/annrheumdis-2020-218323
# Table: ARD Table 4 [V]; clinical-criteria.md §2.5 (all inequalities strict), §0 (Caricchio labs)
# Confidence: V (cut-offs); assumption (7 d window without admission time; D-dimer as FEU)
# Codes: LOINC 2276-4, 1988-5, 1751-7, 736-9 [R], 751-8, 1742-6, 1920-8, 48065-7, 2532-0,
#   10839-9, 33037-3 [R], 2075-0 [R], 2823-3, 3094-0, 2160-0; Conditions covid19, ground-glass

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from criteria.assessment import Assessment
from criteria.labs import (
    Item,
    all_of,
    any_of,
    assessment,
    criterion_high,
    criterion_low,
    facts,
    lab_name,
    recent,
    status,
)
from criteria.model import Measurement, PatientTimeline
from criteria.rules import RuleSet

CARICCHIO = "covid-css-2021"
W = "caricchio.lab_window"


def _cut(timeline: PatientTimeline, now: datetime, rules: RuleSet, kind: str, key: str,
         label: str, above: bool = True) -> Item:
    if above:
        m = criterion_high(timeline, kind, now, rules, W)
        met = None if m is None else m.value > rules.decimal(key)
    else:
        m = criterion_low(timeline, kind, now, rules, W)
        met = None if m is None else m.value < rules.decimal(key)
    note = "hs assay converted" if m is not None and "hs-assay" in m.flags else None
    if m is not None and kind == "d_dimer_feu" and "d-dimer-basis-unknown" in m.flags:
        note = "D-dimer basis not stated: compared as FEU"
    return Item(kind, label, status(met), (m,) if m else (),
                resolve=f"{lab_name(kind)} in the last 7 d", labs=(kind,) if m is None else (),
                note=note)


def _pairs(timeline: PatientTimeline, now: datetime, rules: RuleSet, a: str,
           b: str) -> list[tuple[Measurement, Measurement]]:
    """Return values of two kinds drawn at the same time (for a computed gap or ratio)."""
    second = {m.time: m for m in recent(timeline, b, now, rules.duration(W))}
    return [(m, second[m.time]) for m in recent(timeline, a, now, rules.duration(W))
            if m.time in second]


def _anion_gap(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Item:
    label = "Anion gap <6.8 mmol/L"
    item = _cut(timeline, now, rules, "anion_gap", "caricchio.anion_gap_below", label, False)
    if item.status != "unknown":
        return item
    hco3 = {m.time: m for m in recent(timeline, "bicarbonate", now, rules.duration(W))}
    gaps = [(na.value - (cl.value + hco3[na.time].value), na, cl, hco3[na.time])
            for na, cl in _pairs(timeline, now, rules, "sodium", "chloride") if na.time in hco3]
    if not gaps:
        return item
    gap = min(gaps, key=lambda g: g[0])
    return Item("anion_gap", label, status(gap[0] < rules.decimal("caricchio.anion_gap_below")),
                gap[1:], note=f"computed Na - (Cl + HCO3) = {gap[0].normalize():f}")


def _ratio(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Item:
    pairs = [(b.value / c.value, b, c) for b, c in _pairs(timeline, now, rules, "bun",
                                                          "creatinine") if c.value > 0]
    label = "BUN:creatinine >29"
    if not pairs:
        return Item("bun-creatinine", label, "unknown", resolve="BUN and creatinine drawn together",
                    labs=("bun", "creatinine"))
    top = max(pairs, key=lambda p: p[0])
    return Item("bun-creatinine", label,
                status(top[0] > rules.decimal("caricchio.bun_creatinine_above")), top[1:],
                note=f"ratio {top[0].quantize(Decimal('0.1'))}")


def _d_dimer(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Item:
    label = "D-dimer >4930 ng/mL (FEU)"
    item = _cut(timeline, now, rules, "d_dimer_feu", "caricchio.d_dimer_above", label)
    if item.status == "unknown" and rules.flag("caricchio.d_dimer_compare_ddu"):
        ddu = _cut(timeline, now, rules, "d_dimer_ddu", "caricchio.d_dimer_above", label)
        return Item(ddu.name, label, ddu.status, ddu.readings, note="DDU compared (site setting)")
    return item


def assess_caricchio(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Assessment:
    """Return the Caricchio criteria: entry all true and ≥1 criterion in clusters I-III."""
    covid, ggo = facts(timeline, "covid19"), facts(timeline, "ground-glass")
    entry = [
        Item("covid19", "COVID-19 (signs, with or without PCR)", "met" if covid else "unknown",
             facts=covid, resolve="a coded COVID-19 Condition"),
        Item("ground-glass", "Ground-glass opacities (HRCT or CXR)", "met" if ggo else "unknown",
             facts=ggo, resolve="a coded ground-glass finding (imaging)"),
        _cut(timeline, now, rules, "ferritin", "caricchio.ferritin_above", "Ferritin >250 ng/mL"),
        _cut(timeline, now, rules, "crp", "caricchio.crp_above", "CRP >4.6 mg/dL (46 mg/L)"),
    ]
    clusters = {
        "I": [_cut(timeline, now, rules, "albumin", "caricchio.albumin_below",
                   "Albumin <2.8 g/dL", False),
              _cut(timeline, now, rules, "lymphocytes_pct", "caricchio.lymphocytes_pct_below",
                   "Lymphocytes <10.2 %", False),
              _cut(timeline, now, rules, "neutrophils", "caricchio.neutrophils_above",
                   "Neutrophils >11.4×10⁹/L")],
        "II": [_cut(timeline, now, rules, "alt", "caricchio.alt_above", "ALT >60 U/L"),
               _cut(timeline, now, rules, "ast", "caricchio.ast_above", "AST >87 U/L"),
               _d_dimer(timeline, now, rules),
               _cut(timeline, now, rules, "ldh", "caricchio.ldh_above", "LDH >416 U/L"),
               _cut(timeline, now, rules, "troponin_i", "caricchio.troponin_above",
                    "Troponin I >1.09 ng/mL")],
        "III": [_anion_gap(timeline, now, rules),
                _cut(timeline, now, rules, "chloride", "caricchio.chloride_above",
                     "Chloride >106 mmol/L"),
                _cut(timeline, now, rules, "potassium", "caricchio.potassium_above",
                     "Potassium >4.9 mmol/L"),
                _ratio(timeline, now, rules)],
    }

    def state(i: Item) -> bool | None:
        return {"met": True, "not-met": False}.get(i.status)

    found = {name: any_of([state(i) for i in items]) for name, items in clusters.items()}
    met = all_of([*(state(i) for i in entry), *found.values()])
    keys = [W] + [k for k in rules.names() if k.startswith("caricchio.") and k.endswith(
        ("_above", "_below"))]
    items = entry + [i for name in ("I", "II", "III") for i in clusters[name]]
    return assessment(CARICCHIO, met, now, items, rules, keys,
                      extra={"clusters": {k: status(v) for k, v in found.items()}})
