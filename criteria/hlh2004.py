"""HLH-2004 diagnostic criteria (5 of 8), evaluated from labs, vitals and coded Conditions."""

# Source: Henter JI et al., Pediatr Blood Cancer 2007;48:124-131 [V2: PMC3204727 Table 1]
# Table: HLH-2004 criteria (B) 1-8; clinical-criteria.md §2.1, §0 Defaults (Criterion labs)
# Confidence: V2 (cut-offs); assumption (fever ≥38.5 °C, windows, IEC-window wording)
# Codes: LOINC 8310-5 (temperature), 718-7, 777-3, 751-8, 2571-8, 3255-7, 2276-4, sIL-2R
#   (U/mL only, §4.3); Conditions splenomegaly, haemophagocytosis (fhir_mappers concepts)

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from criteria.assessment import Assessment
from criteria.cutoffs import against, criterion_pick, observed_refs
from criteria.labs import (
    Item,
    any_of,
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

HLH2004 = "hlh-2004"
NOT_VALIDATED = ("HLH-2004 is not validated after IEC therapy; IEC-HS (§2.3) is the more "
                 "specific framework.")
MOLECULAR = "molecular diagnosis (HLH-2004 part A) is not read from the record"
POSSIBLE = "possible, insufficient data"


def _fever(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Item:
    top = max_temperature(timeline, now, rules)
    met = None if top is None else top.value >= rules.decimal("hlh2004.fever_min")
    return Item("fever", "1 Fever ≥38.5 °C", status(met), (top,) if top else (),
                resolve="a temperature in the last 24 h", labs=())


def _condition(timeline: PatientTimeline, concept: str, label: str, resolve: str) -> Item:
    found = facts(timeline, concept)
    return Item(concept, label, "met" if found else "unknown", facts=found, resolve=resolve)


def haemoglobin_below(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> str:
    """Return the rule name of the Hb cut-off for the patient's age (under 4 weeks or not)."""
    born = timeline.patient.birth_date
    if born is not None and (now.date() - born) < rules.duration("hlh2004.neonate_age"):
        return "hlh2004.haemoglobin_below_neonate"
    return "hlh2004.haemoglobin_below"


def _below(rules: RuleSet, key: str) -> Callable[[Measurement], int]:
    """Return 1 when a value is strictly below the cut-off, compared in its printed unit (§0)."""
    def judge(m: Measurement) -> int:
        value, cut = against(m, rules, key)
        return int(value < cut)
    return judge


def _cytopenias(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> tuple[Item, str]:
    hb_key = haemoglobin_below(timeline, now, rules)
    lineages = (("haemoglobin", hb_key), ("platelets", "hlh2004.platelets_below"),
                ("neutrophils", "hlh2004.anc_below"))
    low, unknown, readings, used = 0, [], [], []
    for kind, key in lineages:
        m = criterion_pick(timeline, kind, now, rules, _below(rules, key), high=False)
        if m is None:
            unknown.append(kind)
            continue
        readings.append(m)
        used.append((m, key))
        low += _below(rules, key)(m)
    need = rules.integer("hlh2004.cytopenia_lineages")
    met = True if low >= need else (False if low + len(unknown) < need else None)
    resolve = f"{', '.join(lab_name(k) for k in unknown)} in the last 72 h" if unknown else None
    item = Item("cytopenias", "3 Cytopenias (≥2 of Hb, platelets, ANC)", status(met),
                tuple(readings), resolve=resolve, labs=tuple(unknown) if met is None else (),
                note=f"{low} of 3 lineages low", observed=observed_refs(rules, used))
    return item, hb_key


def _lipids(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Item:
    tg_key = "hlh2004.triglycerides_min"

    def at_or_above(m: Measurement) -> int:
        value, cut = against(m, rules, tg_key)
        return int(value >= cut)

    tg = criterion_pick(timeline, "triglycerides", now, rules, at_or_above, high=True)
    fib = criterion_low(timeline, "fibrinogen", now, rules)
    met = any_of([None if tg is None else bool(at_or_above(tg)),
                  None if fib is None else fib.value <= rules.decimal("hlh2004.fibrinogen_max")])
    missing = tuple(k for k, m in (("triglycerides", tg), ("fibrinogen", fib)) if m is None)
    note = "fasting status is not recorded; any triglyceride value is used" if tg else None
    return Item("triglycerides-fibrinogen", "4 Triglycerides ≥265 mg/dL and/or fibrinogen "
                "≤150 mg/dL", status(met), tuple(m for m in (tg, fib) if m),
                resolve=f"{' and '.join(missing)} in the last 72 h" if missing else None,
                labs=missing if met is None else (), note=note,
                observed=observed_refs(rules, [(tg, tg_key)]))


def _high(timeline: PatientTimeline, now: datetime, rules: RuleSet, kind: str, key: str,
          label: str) -> Item:
    m = criterion_high(timeline, kind, now, rules)
    met = None if m is None else m.value >= rules.decimal(key)
    return Item(kind, label, status(met), (m,) if m else (),
                resolve=f"{lab_name(kind)} in the last 72 h", labs=(kind,) if m is None else ())


def hlh2004_items(timeline: PatientTimeline, now: datetime,
                  rules: RuleSet) -> tuple[list[Item], list[str]]:
    """Return the eight HLH-2004 items and the rule keys they used."""
    cyto, hb_key = _cytopenias(timeline, now, rules)
    items = [
        _fever(timeline, now, rules),
        _condition(timeline, "splenomegaly", "2 Splenomegaly",
                   "a coded splenomegaly Condition or imaging finding"),
        cyto,
        _lipids(timeline, now, rules),
        _condition(timeline, "haemophagocytosis", "5 Haemophagocytosis (marrow, spleen, node)",
                   "pathology (marrow aspirate or biopsy)"),
        Item("nk-activity", "6 Low or absent NK-cell activity", "unknown",
             resolve="NK-cell activity (specialist laboratory)"),
        _high(timeline, now, rules, "ferritin", "hlh2004.ferritin_min", "7 Ferritin ≥500 ng/mL"),
        _high(timeline, now, rules, "sil2r", "hlh2004.sil2r_min", "8 sCD25 (sIL-2R) ≥2400 U/mL"),
    ]
    keys = ["hlh2004.required", "hlh2004.fever_min", "hyper.criterion_lab_window",
            "hyper.temperature_window", hb_key, "hlh2004.platelets_below", "hlh2004.anc_below",
            "hlh2004.triglycerides_min", "hlh2004.fibrinogen_max", "hlh2004.ferritin_min",
            "hlh2004.sil2r_min"]
    return items, keys


def assess_hlh2004(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                   iec_window: bool) -> Assessment:
    """Return HLH-2004: met at 5 of 8, not met when 5 cannot be reached, else insufficient."""
    items, keys = hlh2004_items(timeline, now, rules)
    met, n_met, n_unknown = count_outcome(items, rules.integer("hlh2004.required"))
    result = "criteria met" if met else ("not met" if met is False else POSSIBLE)
    notes = [MOLECULAR]
    caveats = []
    if iec_window and met is not False:
        caveats.append(NOT_VALIDATED)
        keys.append("hyper.iec_window")
    extra = {"result": result, "counts": {"met": n_met, "unknown": n_unknown,
                                          "notMet": len(items) - n_met - n_unknown,
                                          "required": rules.integer("hlh2004.required")},
             "iecWindow": iec_window, "caveats": caveats}
    return assessment(HLH2004, met, now, items, rules, keys, extra=extra, notes=notes)
