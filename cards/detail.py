"""Build the card detail (GitHub-Flavored Markdown, no raw HTML) for a CRS card."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from cards import content
from cards.treatment import steroid_lines, tocilizumab_lines
from cards.view import (
    ITEM_SHOWN,
    UNIT_SHOWN,
    CardFacts,
    drug_name,
    md,
    modality_shown,
    recorded_number,
    shown_number,
    shown_temperature,
    shown_time,
)
from criteria.assessment import Assessment, Evidence
from criteria.crs import CrsResult
from criteria.steroids import SteroidAdvice
from criteria.tocilizumab import TocilizumabCheck


def _value(e: Evidence) -> str:
    if isinstance(e.value, Decimal) and e.unit == "Cel":
        return md(shown_temperature(e.value) + (f" ({e.note})" if e.note else ""))
    if isinstance(e.value, Decimal):
        text = recorded_number(e.value) if e.item == "oxygen-flow" else shown_number(e.value)
    else:
        text = modality_shown(e.value) if e.item == "oxygen-support" and e.value else e.value or ""
    if e.unit:
        text = f"{text} {UNIT_SHOWN.get(e.unit, e.unit)}".strip()
    if e.note:
        text = f"{text} ({e.note})" if text else e.note
    return md(text) or "recorded"


def evidence_table(evidence: Iterable[Evidence]) -> list[str]:
    """Return the evidence as a markdown table (finding, value, time)."""
    rows = [f"| {md(ITEM_SHOWN.get(e.item, e.item))} | {_value(e)} | {shown_time(e.time)} |"
            for e in evidence]
    if not rows:
        return ["No individual findings recorded."]
    return ["| Finding | Value | Time |", "|---|---|---|", *rows]


def _episode(result: CrsResult, facts: CardFacts) -> list[str]:
    ep = result.episode
    if ep is None:
        return ["- No open CRS episode on record."]
    current = "unknown" if ep.current_grade is None else str(ep.current_grade)
    lines = [f"- Onset: {shown_time(ep.onset)} (first fever after the index dose)",
             f"- Peak grade {ep.peak_grade}, current grade {current}, trend {ep.trend}",
             f"- Open until {shown_time(ep.close)} unless fever, hypotension or O2 recur"]
    if ep.day_post_index is not None and ep.index_dose is not None:
        dose = ep.index_dose
        lines.append(f"- Day +{ep.day_post_index} since the last CAR-T/bispecific dose "
                     f"({md(drug_name(dose))}, {shown_time(dose.start)})")
    return lines


def note_line(note: str) -> str:
    """Return an assessment note as a bullet; [R] and assumption notes keep their prefix."""
    if note.startswith(("assumption", "unconfirmed")):
        return f"- {md(note)}"
    return f"- rule applied: {md(note)}"


def _gaps(result: CrsResult, unavailable: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    if result.lower_bound:
        hint = f": {md(result.raise_hint)}" if result.raise_hint else ""
        lines.append(f"- Grade is a lower bound (lowest the data support){hint}")
    lines += [f"- Missing: {md(m)}" for m in result.astct.missing]
    lines += [f"- Unavailable: {md(key)} ({md(why)})" for key, why in sorted(unavailable.items())]
    flags = result.astct.extra.get("flags") or []
    lines += [f"- Flag: {md(str(flag))}" for flag in flags]
    lines += [note_line(note) for note in result.astct.assumptions]
    return lines


def _secondary(name: str, a: Assessment) -> str:
    spec = content.card_text()["secondary"][name]
    label = spec["label"] + (f" ({content.UNCONFIRMED})" if spec["confidence"] == "R" else "")
    hint = a.extra.get("raiseHint")
    if a.grade is None or a.met is None:
        shown = "insufficient data"
    elif not a.met:
        shown = "no CRS"
    elif a.extra.get("gradeIsLowerBound"):
        shown = f"grade {md(str(hint))}" if hint else f"grade ≥{a.grade}"
    else:
        shown = f"grade {a.grade}"
    extra = [md(m) for m in (*a.missing, *a.assumptions)]
    tail = f"; {'; '.join(extra)}" if extra else ""
    return f"- {label}: {shown}{tail} *({content.cite([spec['source']])})*"


def _management(grade: int) -> list[str]:
    data = content.card_text()
    lines = [f"- **{m['topic']}:** {content.point(m)}" for m in content.management(grade)]
    lines.append(f"- **Infection work-up:** {content.point(data['infection'])}")
    lines.append(f"- {content.point(data['productNote'])}")
    return lines


def build_detail(result: CrsResult, facts: CardFacts, toci: TocilizumabCheck | None,
                 steroid: SteroidAdvice | None, *, unavailable: Mapping[str, str],
                 orders_shown: bool, record_warnings: Sequence[str] = ()) -> str:
    """Return the markdown detail of a CRS card."""
    data = content.card_text()
    head = f"**CRS grade {'≥' if facts.lower_bound else ''}{facts.grade} (ASTCT 2019).**"
    caveat = [head, "", content.point(data["caveat"]), "", content.point(data["infectionShort"])]
    if facts.masked_by is not None:
        masked = data["maskedFever"].format(drug=md(drug_name(facts.masked_by)),
                                            time=shown_time(facts.masked_by.start))
        caveat += ["", f"{masked}: fever is no longer required; hypotension and hypoxia "
                       "set the grade."]
    sections = [
        caveat,
        ["**Evidence**", "", *evidence_table(result.astct.evidence)],
        ["**Episode**", "", *_episode(result, facts)],
    ]
    gaps = _gaps(result, unavailable)
    if gaps:
        sections.append(["**Data gaps, assumptions and rules applied**", "", *gaps])
    sections.append(["**Other grading systems** (shown only; ASTCT sets the grade)", "",
                     _secondary("lee", result.lee), _secondary("ctcae", result.ctcae)])
    sections.append([f"**Management for grade {facts.grade}**", "", *_management(facts.grade)])
    sections.append(["**Tocilizumab now**", "",
                     *tocilizumab_lines(toci, orders_shown, facts.grade, record_warnings)])
    sections.append(["**Corticosteroid**", "", *steroid_lines(steroid, orders_shown)])
    sections.append(["**If refractory**", "",
                     *(f"- {content.point(p)}" for p in data["refractory"])])
    return "\n\n".join("\n".join(s) for s in sections)
