"""HScore for reactive haemophagocytic syndrome: items, points, minimum-maximum range, band."""

# Source: Fardet L et al., Arthritis Rheumatol 2014;66(9):2613-2620, doi:10.1002/art.38690
#   [V2: PMC7589537 Table 4 and two reproductions]; bands: MDCalc display [R; 161-170 confirmed]
# Table: HScore variables and points; clinical-criteria.md §2.2 (never the logistic formula)
# Confidence: V2 (points, cut-offs, cut-off 169); R (bands); assumption (7 d labs, 24 h fever)
# Codes: LOINC 8310-5, 718-7, 6690-2, 777-3, 2276-4, 2571-8, 3255-7, 1920-8; Conditions
#   hepatomegaly, splenomegaly, haemophagocytosis (fhir_mappers concepts)

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from criteria.assessment import Assessment
from criteria.cutoffs import against, criterion_pick, observed_refs
from criteria.hlh2004 import NOT_VALIDATED
from criteria.labs import (
    Item,
    Status,
    assessment,
    criterion_high,
    criterion_low,
    facts,
    lab_name,
    max_temperature,
)
from criteria.model import Measurement, PatientTimeline
from criteria.rules import RuleSet

HSCORE = "hscore-2014"
LABS = "hscore.lab_window"
IMMUNO = ("known immunosuppression (HIV, or long-term glucocorticoids, ciclosporin or "
          "azathioprine) is never derived from chart data: unknown, scored 0")


def _item(name: str, label: str, points: int, most: int, readings: tuple[Measurement, ...] = (),
          resolve: str | None = None, labs: tuple[str, ...] = (),
          note: str | None = None, observed: tuple[str, ...] = ()) -> Item:
    state: Status = "unknown" if points < most else ("met" if points > 0 else "not-met")
    return Item(name, label, state, readings, points=points, max_points=most,
                resolve=resolve if points < most else None,
                labs=labs if points < most else (), note=note, observed=observed)


def _band_points(m: Measurement, low: str, high: str, pts: tuple[int, int],
                 rules: RuleSet) -> int:
    """Return <low 0; low..high pts[0]; >high pts[1], each compared in the printed unit (§0)."""
    value, cut = against(m, rules, low)
    if value < cut:
        return 0
    value, cut = against(m, rules, high)
    return pts[1] if value > cut else pts[0]


def _banded(m: Measurement | None, low: str, high: str, pts: tuple[int, int], rules: RuleSet,
            name: str, label: str, resolve: str) -> Item:
    """Score a value: <low 0; low..high pts[0]; >high pts[1] (unknown: 0 to pts[1])."""
    if m is None:
        return _item(name, label, 0, pts[1], resolve=resolve, labs=(name,))
    points = _band_points(m, low, high, pts, rules)
    return _item(name, label, points, points, (m,),
                 observed=observed_refs(rules, [(m, low), (m, high)]))


def _temperature(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                 p: Mapping[str, int]) -> Item:
    top = max_temperature(timeline, now, rules)
    label = "Temperature (<38.4 / 38.4-39.4 / >39.4 °C)"
    if top is None:
        return _item("temperature", label, 0, p["temperature_high"],
                     resolve="a temperature in the last 24 h")
    return _banded(top, "hscore.temperature_mid_min", "hscore.temperature_high_above",
                   (p["temperature_mid"], p["temperature_high"]), rules, "temperature", label,
                   "")


def _organomegaly(timeline: PatientTimeline, p: Mapping[str, int]) -> Item:
    found = facts(timeline, "hepatomegaly") + facts(timeline, "splenomegaly")
    organs = {f.concept for f in found}
    points = p["organomegaly_both"] if len(organs) == 2 else (
        p["organomegaly_one"] if organs else 0)
    item = _item("organomegaly", "Organomegaly (liver or spleen / both)", points,
                 p["organomegaly_both"], resolve="liver and spleen size (examination or imaging)")
    return Item(item.name, item.label, item.status, facts=found, points=item.points,
                max_points=item.max_points, resolve=item.resolve)


def _cytopenias(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                p: Mapping[str, int]) -> Item:
    low, unknown, readings, used = 0, [], [], []

    def at_or_below(key: str) -> Callable[[Measurement], int]:
        def judge(m: Measurement) -> int:
            value, cut = against(m, rules, key)
            return int(value <= cut)
        return judge

    for kind, key in (("haemoglobin", "hscore.haemoglobin_max"), ("wbc", "hscore.wbc_max"),
                      ("platelets", "hscore.platelets_max")):
        m = criterion_pick(timeline, kind, now, rules, at_or_below(key), high=False,
                           window=LABS)
        if m is None:
            unknown.append(kind)
        else:
            readings.append(m)
            used.append((m, key))
            low += at_or_below(key)(m)

    def pts(n: int) -> int:
        return p["cytopenia_three"] if n >= 3 else (p["cytopenia_two"] if n == 2 else 0)

    return _item("cytopenias", "Cytopenias (Hb ≤9.2 g/dL, WBC ≤5.0, platelets ≤110)",
                 pts(low), pts(low + len(unknown)), tuple(readings),
                 resolve=f"{', '.join(lab_name(k) for k in unknown)} in the last 7 d",
                 labs=tuple(unknown),
                 note=f"{low} lineage{'s' if low != 1 else ''} low",
                 observed=observed_refs(rules, used))


def _single(m: Measurement | None, hit: bool, points: int, name: str, label: str,
            resolve: str) -> Item:
    if m is None:
        return _item(name, label, 0, points, resolve=resolve, labs=(name,))
    return _item(name, label, points if hit else 0, points if hit else 0, (m,))


def hscore_items(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> list[Item]:
    """Return the nine HScore items with their points (unknown: 0 up to the item maximum)."""
    p = rules.table("hscore.points")
    fer = criterion_high(timeline, "ferritin", now, rules, LABS)
    tg_cuts = ("hscore.triglycerides_mid_min", "hscore.triglycerides_high_above")
    tg_pts = (p["triglycerides_mid"], p["triglycerides_high"])
    tg = criterion_pick(timeline, "triglycerides", now, rules,
                        lambda m: _band_points(m, *tg_cuts, tg_pts, rules), high=True,
                        window=LABS)
    fib = criterion_low(timeline, "fibrinogen", now, rules, LABS)
    ast = criterion_high(timeline, "ast", now, rules, LABS)
    haemo = facts(timeline, "haemophagocytosis")
    return [
        _item("immunosuppression", "Known immunosuppression", 0, p["immunosuppression"],
              resolve="clinician: HIV, or long-term glucocorticoids, ciclosporin or "
                      "azathioprine", note=IMMUNO),
        _temperature(timeline, now, rules, p),
        _organomegaly(timeline, p),
        _cytopenias(timeline, now, rules, p),
        _banded(fer, "hscore.ferritin_mid_min", "hscore.ferritin_high_above",
                (p["ferritin_mid"], p["ferritin_high"]), rules, "ferritin",
                "Ferritin (<2000 / 2000-6000 / >6000 ng/mL)", "ferritin in the last 7 d"),
        _banded(tg, *tg_cuts, tg_pts, rules, "triglycerides",
                "Triglycerides (<132.7 / 132.7-354 / >354 mg/dL)",
                "triglycerides in the last 7 d"),
        _single(fib, fib is not None and fib.value <= rules.decimal("hscore.fibrinogen_max"),
                p["fibrinogen_low"], "fibrinogen", "Fibrinogen ≤250 mg/dL",
                "fibrinogen in the last 7 d"),
        _single(ast, ast is not None and ast.value >= rules.decimal("hscore.ast_min"),
                p["ast_high"], "ast", "AST ≥30 U/L", "AST in the last 7 d"),
        Item("haemophagocytosis", "Haemophagocytosis on marrow aspirate",
             "met" if haemo else "unknown", facts=haemo,
             points=p["haemophagocytosis"] if haemo else 0, max_points=p["haemophagocytosis"],
             resolve=None if haemo else "bone marrow aspirate"),
    ]


def band(score: int, rules: RuleSet) -> str:
    """Return the probability band of a score from the reference table (never a formula)."""
    table = rules.table("hscore.bands")
    for upper in sorted(table, key=int):
        if score <= int(upper):
            return str(table[upper])
    return str(table[max(table, key=int)])


def shown_probability(score: int, minimum: bool, rules: RuleSet) -> str:
    """Return the band as shown: "80-88 %", or for a minimum score its lower bound "≥80 %"."""
    text = band(score, rules)
    if not minimum or text.startswith(">"):
        return f"{text} %"
    if text.startswith("<"):
        return f"{text} % at the minimum score"
    return f"≥{text.split('-')[0]} %"


def assess_hscore(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                  iec_window: bool) -> Assessment:
    """Return the HScore: score = minimum, scoreRange = [minimum, maximum], band of the minimum."""
    items = hscore_items(timeline, now, rules)
    low = sum(i.points or 0 for i in items)
    high = sum(i.max_points or 0 for i in items)
    cutoff = rules.integer("hscore.cutoff")
    met = True if low >= cutoff else (False if high < cutoff else None)
    minimum = low < high
    unknown = [i for i in items if i.status == "unknown"]
    decided_by = None
    if met is None:
        names = ", ".join(f"{lab_name(i.name)} (up to "
                          f"+{(i.max_points or 0) - (i.points or 0)})" for i in unknown)
        decided_by = f"{cutoff - low} more points reach the cut-off {cutoff}: {names}"
    caveats = [NOT_VALIDATED] if iec_window and met is not False else []
    extra = {"score": low, "scoreRange": [low, high], "minimumScore": minimum,
             "probability": shown_probability(low, minimum, rules),
             "probabilityBand": f"{band(low, rules)} %", "cutoff": cutoff,
             "decidedBy": decided_by, "caveats": caveats}
    keys = ["hscore.points", "hscore.bands", "hscore.cutoff", LABS, "hyper.temperature_window"]
    notes = ["unknown items score 0: the score is a minimum" if minimum else ""]
    return assessment(HSCORE, met, now, items, rules, keys, extra=extra,
                      notes=[n for n in notes if n])
