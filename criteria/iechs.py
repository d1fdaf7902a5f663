"""IEC-HS after CAR-T or bispecific therapy: the project trigger (3 conditions) and the grade."""

# Source: Hines MR, Knight TE, McNerney KO, et al., Transplant Cell Ther 2023;29(7):438.e1-16
#   [V; cited by NCCN CART-6], doi:10.1016/j.jtct.2023.03.006 [R]; content [R]
# Table: clinical-criteria.md §2.3 (features, grades, project trigger), §0 Defaults (IEC window,
#   Criterion labs, Lab baseline, ULN/LLN)
# Confidence: assumption (project trigger, configurable); R (feature cut-offs, grades)
# Codes: LOINC 2276-4 (ferritin), 777-3, 751-8, 718-7, 1920-8, 1742-6, 3255-7, 2532-0

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from criteria.assessment import Assessment, iso
from criteria.astct import findings_at, grade_of
from criteria.common import given, in_window, say_duration
from criteria.crs import CrsResult
from criteria.labs import (
    Item,
    above_multiple,
    all_of,
    any_of,
    assessment,
    baseline,
    criterion_high,
    criterion_low,
    status,
)
from criteria.model import DrugClass, DrugExposure, Measurement, OxygenModality, PatientTimeline
from criteria.rules import RuleSet
from criteria.sampling import Slicer

IECHS = "iec-hs-2023"
GRADE_HINT = ("3 if hospitalised for it (e.g. coagulopathy needing blood products); 4 if "
              "dialysis or major bleeding")


def _ferritin_high(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                   index: DrugExposure | None) -> Item:
    peak = criterion_high(timeline, "ferritin", now, rules)
    base = baseline(timeline, "ferritin", index, rules)
    label = "1 Ferritin >2× ULN or >2× baseline"
    if peak is None:
        return Item("ferritin-high", label, "unknown", resolve="ferritin in the last 72 h",
                    labs=("ferritin",))
    met = any_of([above_multiple(peak, rules.decimal("iechs.ferritin_uln_multiple"),
                                 peak.ref_high),
                  above_multiple(peak, rules.decimal("iechs.ferritin_baseline_multiple"),
                                 base.value if base else None)])
    return Item("ferritin-high", label, status(met), (peak,) + ((base,) if base else ()),
                resolve="a ferritin reference range (ULN) or a baseline ferritin (day -7 to 0)",
                note=f"baseline {base.value.normalize():f} ng/mL" if base else "no baseline")


def _previous(series: list[Measurement], latest: Measurement,
              rules: RuleSet) -> Measurement | None:
    before = [m for m in series if m.time < latest.time
              and latest.time - m.time <= rules.duration("iechs.rise_within")]
    return before[-1] if before else None


def crs_improved(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                 crs: CrsResult | None) -> tuple[bool | None, str]:
    """Return whether CRS has improved: grade below the episode peak, or 0 for ≥24 h."""
    ep = crs.episode if crs else None
    if ep is not None and ep.current_grade is not None and ep.current_grade < ep.peak_grade:
        return True, f"ASTCT grade {ep.current_grade}, episode maximum {ep.peak_grade}"
    span = rules.duration("iechs.crs_zero_for")
    start = crs.screening.treatment_start if crs else None
    masked = ep is not None and ep.masked_by is not None
    times = {now - span, now} | {r.time for r in timeline.oxygen if now - span < r.time < now}
    times |= {m.time for m in timeline.series("systolic_bp") if now - span < m.time < now}
    sliced = Slicer(timeline, rules, start)
    unknown = False
    for t in sorted(times, reverse=True):  # the latest grade is the likeliest to be >= 1
        grade = grade_of(findings_at(sliced.at(t), t, rules, start), masked)
        if grade:
            return False, "CRS not improved: ASTCT grade ≥1 within the last " + say_duration(span)
        unknown = unknown or grade is None
    if unknown:
        return None, "CRS course unknown (no temperature)"
    return True, f"ASTCT grade 0 for at least {say_duration(span)}"


def _rising(timeline: PatientTimeline, now: datetime, rules: RuleSet,
            crs: CrsResult | None) -> Item:
    series = in_window(timeline.series("ferritin"),
                       now - rules.duration("hyper.criterion_lab_window"), now)
    label = "2 Ferritin rising (≥20 % in ≤48 h) after CRS improved"
    improved, why = crs_improved(timeline, now, rules, crs)
    if not series:
        return Item("ferritin-rising", label, "unknown", resolve="two ferritin values ≤48 h apart",
                    labs=("ferritin",), note=why)
    latest = series[-1]
    prev = _previous(series, latest, rules)
    rising = None if prev is None else (
        latest.value >= prev.value * (1 + rules.decimal("iechs.rise_min_pct") / 100))
    met = all_of([rising, improved])
    return Item("ferritin-rising", label, status(met), (latest,) + ((prev,) if prev else ()),
                resolve="a repeat ferritin within 48 h" if rising is None else "the CRS course",
                labs=("ferritin",) if rising is None and improved is not False else (), note=why)


def _cytopenia(timeline: PatientTimeline, now: datetime, rules: RuleSet,
               index: DrugExposure | None) -> tuple[list[bool | None], list[Measurement]]:
    out: list[bool | None] = []
    used: list[Measurement] = []
    for kind in ("platelets", "neutrophils", "haemoglobin"):
        low = criterion_low(timeline, kind, now, rules)
        base = baseline(timeline, kind, index, rules)
        if low is None:
            out.append(None)
            continue
        used.append(low)
        below = None if low.ref_low is None else low.value < low.ref_low
        out.append(all_of([below, None if base is None else low.value < base.value]))
    return out, used


def _organ(timeline: PatientTimeline, now: datetime, rules: RuleSet,
           index: DrugExposure | None) -> Item:
    values, used = _cytopenia(timeline, now, rules, index)
    k = rules.decimal("iechs.liver_uln_multiple")
    for kind in ("ast", "alt"):
        top = criterion_high(timeline, kind, now, rules)
        base = baseline(timeline, kind, index, rules)
        ref = top.ref_high if top else None
        if ref is not None and base is not None and base.value > ref:
            ref = base.value  # >5× an abnormal baseline
        values.append(above_multiple(top, k, ref))
        used += [top] if top else []
    fib = criterion_low(timeline, "fibrinogen", now, rules)
    values.append(None if fib is None else fib.value < rules.decimal("iechs.fibrinogen_below"))
    ldh = criterion_high(timeline, "ldh", now, rules)
    values.append(above_multiple(ldh, Decimal(1), ldh.ref_high if ldh else None))
    used += [m for m in (fib, ldh) if m]
    met = any_of(values)
    missing = tuple(kind for kind, m in (("fibrinogen", fib), ("ldh", ldh)) if m is None)
    return Item("organ-findings", "3 New/worse cytopenia, AST/ALT >5× ULN, fibrinogen "
                "<150 mg/dL or LDH >ULN", status(met), tuple(used),
                resolve="fibrinogen, LDH, liver tests and blood counts with reference ranges",
                labs=missing if met is None else ())


def _grade(timeline: PatientTimeline, now: datetime, rules: RuleSet,
           crs: CrsResult | None) -> tuple[int, str | None]:
    f = crs.findings if crs else findings_at(timeline, now, rules, None)
    record = f.oxygen_record
    if f.counted_pressors or f.vasopressin_class or (
            record is not None and record.modality is OxygenModality.INVASIVE):
        return 4, None
    classes = {DrugClass(c) for c in rules.strings("iechs.therapy_classes")}
    since = now - rules.duration("hyper.criterion_lab_window")
    treated = [d for d in timeline.drugs_of(*classes)
               if given(d, rules) and since <= d.start <= now]
    return (2 if treated else 1), GRADE_HINT


def assess_iechs(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                 crs: CrsResult | None, index: DrugExposure | None,
                 iec_window: bool | None) -> Assessment:
    """Return IEC-HS: met when all three trigger conditions hold, with its (lowest) grade."""
    if not iec_window:
        why = ("medication administrations unavailable: IEC therapy cannot be checked"
               if iec_window is None else "no CAR-T infusion or bispecific dose in the IEC window")
        return assessment(IECHS, None if iec_window is None else False, now, [], rules,
                          ["hyper.iec_window"], notes=[why])
    items = [_ferritin_high(timeline, now, rules, index), _rising(timeline, now, rules, crs),
             _organ(timeline, now, rules, index)]
    met = all_of([{"met": True, "not-met": False}.get(i.status) for i in items])
    keys = ["iechs.ferritin_uln_multiple", "iechs.ferritin_baseline_multiple",
            "iechs.rise_min_pct", "iechs.rise_within", "iechs.crs_zero_for",
            "iechs.liver_uln_multiple", "iechs.fibrinogen_below", "hyper.criterion_lab_window",
            "hyper.baseline_days_before", "hyper.iec_window"]
    grade, hint = _grade(timeline, now, rules, crs) if met else (None, None)
    if met:
        keys += ["iechs.therapy_classes", "iechs.grade_is_lower_bound"]
    extra = {"indexDose": {"reference": index.reference, "time": iso(index.start)} if index
             else None, "gradeIsLowerBound": True if hint else None,
             "raiseHint": f"≥{grade}; {hint}" if hint else None,
             "unconfirmed": "IEC-HS content and the project trigger are unconfirmed [R]"}
    return assessment(IECHS, met, now, items, rules, keys, extra=extra, grade=grade,
                      missing=["ULN and LLN: Observation.referenceRange (else unknown)"]
                      if met is None else [])
