"""Build the hyperinflammation card detail (GitHub-Flavored Markdown, no raw HTML)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cards.hyperinflammation_text import cite, point, text, thousands, title
from cards.view import md
from criteria.assessment import Assessment
from criteria.hlh2004 import HLH2004
from criteria.hscore import HSCORE
from criteria.hyperinflammation import HyperinflammationResult
from criteria.iechs import IECHS
from criteria.labs import LabTrend, lab_name
from criteria.model import CANONICAL_UNITS

STATUS = {"met": "met", "not-met": "not met", "unknown": "unknown", "shown": "value"}
UNIT = {"Cel": "°C", "10*9/L": "×10⁹/L"}


def _time(iso: str) -> str:
    return iso.replace("T", " ")[:16] + " UTC"


def _value(v: Mapping[str, Any]) -> str:
    """Return one value; when compared in the unit the resource gave, that one first (§0)."""
    shown = f"{v['value']:,} {UNIT.get(v['unit'], v['unit'])}"
    seen = v.get("observed")
    if seen:
        shown = f"{seen['value']:,} {UNIT.get(seen['unit'], seen['unit'])} ({shown})"
    return f"{lab_name(v['kind'])} {shown}"


def _values(item: Mapping[str, Any]) -> tuple[str, str]:
    values = item.get("values", [])
    shown = ", ".join(_value(v) for v in values)
    shown = shown or ", ".join(c["reference"] for c in item.get("conditions", []))
    when = ", ".join(dict.fromkeys(_time(v["time"]) for v in values))
    return md(shown) or "-", when or "-"


def _result(a: Assessment) -> str:
    extra = a.extra
    if a.criteria == HSCORE:
        low, high = extra["scoreRange"]
        return (f"score {extra['score']} (minimum; range {low}-{high}), probability "
                f"{extra['probability']}, cut-off {extra['cutoff']}")
    if a.criteria == HLH2004:
        c = extra["counts"]
        return f"{extra['result']}: {c['met']} met, {c['unknown']} unknown, {c['notMet']} not met"
    shown = {True: "met", False: "not met", None: "insufficient data"}[a.met]
    if a.grade is not None:
        shown += f", grade {'≥' if extra.get('gradeIsLowerBound') else ''}{a.grade}"
    return shown


def criterion_lines(a: Assessment, iec_window: bool | None) -> list[str]:
    """Return the section of one criterion: result, items table, what would decide it."""
    spec = text()["criteria"][a.criteria]
    head = f"**{title(a.criteria)}:** {md(_result(a))} *({_cite(spec)})*"
    if a.criteria == HLH2004 and iec_window and a.met is None:
        head += f"\n\n{text()['iecPossible']}."
    items = a.extra.get("items", [])
    if not items:
        return [head, "", *(f"- {md(n)}" for n in a.assumptions[-1:])]
    rows = ["| Item | Status | Value | Time | Points |", "|---|---|---|---|---|"]
    for item in items:
        value, when = _values(item)
        pts = item.get("points")
        pts_shown = "-" if pts is None else (
            f"{pts}-{item['maxPoints']}" if "maxPoints" in item else str(pts))
        rows.append(f"| {md(item['label'])} | {STATUS[item['status']]} | {value} | {when} | "
                    f"{pts_shown} |")
    lines = [head, "", *rows]
    unknown = [f"- Would decide *{md(i['label'])}*: {md(i['decidedBy'])}" for i in items
               if i["status"] == "unknown" and "decidedBy" in i]
    if a.extra.get("decidedBy"):
        unknown.insert(0, f"- {md(a.extra['decidedBy'])}")
    if a.extra.get("raiseHint"):
        unknown.append(f"- Grade is the lowest the data support: {md(a.extra['raiseHint'])}")
    return lines + ([""] + unknown if unknown else [])


def _cite(spec: Mapping[str, Any]) -> str:
    return cite([spec["source"]], spec["confidence"])


def _trend(trend: LabTrend) -> str:
    name, unit = lab_name(trend.kind), CANONICAL_UNITS[trend.kind]
    if trend.latest is None:
        return f"- {name}: no value in the trend window"
    parts = [f"latest {thousands(trend.latest.value)} {unit}"]
    if trend.previous is not None:
        parts.append(f"previous {thousands(trend.previous.value)}"
                     + (f" ({trend.direction})" if trend.direction else ""))
    if trend.peak is not None:
        parts.append(f"peak {thousands(trend.peak.value)} ({_time(trend.peak.time.isoformat())})")
    if trend.baseline is not None:
        rise = trend.rise_since_baseline_pct
        parts.append(f"baseline {thousands(trend.baseline.value)}"
                     + (f", peak {rise:+.0f} % since baseline" if rise is not None else ""))
    return f"- {name}: " + "; ".join(parts) + f" ({trend.count} values)"


def _easix(result: HyperinflammationResult) -> list[str]:
    lines = []
    for name in ("easix", "m-easix"):
        a = result.get(name)
        if "value" in a.extra:
            log = f" (log2 {a.extra['log2']})" if "log2" in a.extra else ""
            prev = a.extra.get("previous")
            before = f"; previous {prev['value']} on {prev['day']}" if prev else ""
            lines.append(f"- {title(name)}: {a.extra['value']}{log} on {a.extra['day']}{before}")
    if lines:
        lines.append(f"- {md(result.get('easix').assumptions[0])}")
    return lines


def build_detail(result: HyperinflammationResult, *, orders_shown: bool,
                 unavailable: Mapping[str, str]) -> str:
    """Return the markdown detail of the hyperinflammation card."""
    data = text()
    sections: list[list[str]] = [[point(data["caveat"])]]
    if result.iec_window and any(result.get(c).met is not False for c in (HLH2004, HSCORE)):
        sections[0] += ["", point(data["iecCaveat"])]
    full = {*result.lead, HSCORE, HLH2004} | ({IECHS} if result.iec_window else set())
    for name in result.detail_order:
        a = result.get(name)
        if a.met is False and not a.extra.get("items"):
            continue  # not applicable (outside the IEC window, no sJIA)
        if name in full:
            sections.append(criterion_lines(a, result.iec_window))
        else:
            unknown = sum(1 for i in a.extra.get("items", []) if i["status"] == "unknown")
            sections.append([f"**{title(name)}:** {_result(a)}; {unknown} items unknown "
                             f"*({_cite(text()['criteria'][name])})*"])
    sections.append(["**Ferritin and CRP trend**", "",
                     *(_trend(t) for t in result.trends.values())])
    easix = _easix(result)
    if easix:
        sections.append(["**EASIX** (no cut-offs)", "", *easix])
    triggers = [f"- {md(t)}" for t in result.triggers] or ["- None on record."]
    sections.append(["**Possible triggers in the record**", "", *triggers])
    sections.append(["**Management options**", "",
                     *(f"- **{m['topic']}:** {point(m)}" for m in data["management"])])
    notes = [f"- {md(n)}" for c in result.lead for n in result.get(c).assumptions]
    notes += [f"- Unavailable: {md(k)} ({md(v)})" for k, v in sorted(unavailable.items())]
    if notes:
        sections.append(["**Rules, assumptions and data gaps**", "", *dict.fromkeys(notes)])
    if result.order_labs and not orders_shown:
        sections.append(["- Lab order suggestions are offered to clinicians only."])
    return "\n\n".join("\n".join(s) for s in sections)
