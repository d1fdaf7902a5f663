"""Describe the tocilizumab check and the steroid advice in words (detail and suggestion labels)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cards import content
from cards.view import md, shown_number, shown_time
from criteria.steroids import SteroidAdvice
from criteria.tocilizumab import TocilizumabCheck

_EVERY = re.compile(r"^q(\d+)(?:-(\d+))?h\b")

PATIENT_VIEWER = "Order suggestions are offered to clinicians only."
VERIFY = "Proposed by crs-cds from the CRS assessment; verify before signing."
TOCI_UNREADABLE = "tocilizumab-unreadable"  # MappingWarning code from fhir_mappers


@dataclass(frozen=True)
class Every:
    """A dosing interval in hours, possibly a range (q12-24h)."""

    hours: int
    max_hours: int | None


def every(frequency: str) -> Every | None:
    """Return the interval of "q6h" or "q12-24h, by product"; None when not of that form."""
    found = _EVERY.match(frequency.strip())
    if found is None:
        return None
    return Every(int(found.group(1)), int(found.group(2)) if found.group(2) else None)


def offered_dose(toci: TocilizumabCheck | None) -> Decimal | None:
    """Return the tocilizumab dose (mg) the limits and data allow, or None."""
    if toci is None or not toci.allowed:
        return None
    return toci.dose_mg


def toci_unreadable(record_warnings: Sequence[str]) -> bool:
    """Return whether a tocilizumab record could not be read (the limits cannot be checked)."""
    return TOCI_UNREADABLE in record_warnings


def toci_firm(grade: int) -> bool:
    """Return whether the grade's tocilizumab advice is firm enough to suggest an order.

    NCCN CART-6 (CC §3.2): at grade 1, "*consider* 1 dose of tocilizumab"; like conditional
    steroid advice, that stays in the detail.
    """
    return grade >= int(content.card_text()["tocilizumabAdvice"]["firmFromGrade"])


def suggested_dose(toci: TocilizumabCheck | None, grade: int,
                   record_warnings: Sequence[str] = ()) -> Decimal | None:
    """Return the tocilizumab dose (mg) to offer as a suggestion, or None."""
    if not toci_firm(grade) or toci_unreadable(record_warnings):
        return None
    return offered_dose(toci)


def toci_label(toci: TocilizumabCheck, dose: Decimal) -> str:
    """Return the suggestion label, e.g. "Tocilizumab 560 mg IV over 60 min (8 mg/kg × 70 kg)"."""
    minutes = content.medication("tocilizumab")["infusionMinutes"]
    label = f"Tocilizumab {shown_number(dose)} mg IV over {minutes} min"
    if toci.mg_per_kg is not None and toci.weight is not None:
        label += f" ({shown_number(toci.mg_per_kg)} mg/kg × {shown_number(toci.weight.value)} kg"
        label += ", capped)" if toci.capped else ")"
    return label


def toci_note(toci: TocilizumabCheck, dose: Decimal) -> str:
    """Return the order note naming the weight used and its date."""
    text = VERIFY
    if toci.weight is not None:
        text = (f"Dosing weight {shown_number(toci.weight.value)} kg recorded "
                f"{shown_time(toci.weight.time)}. " + text)
    if toci.capped:
        text += f" Dose capped at {shown_number(dose)} mg, the per-infusion maximum."
    return text


def _toci_head(toci: TocilizumabCheck, dose: Decimal | None, grade: int,
               unreadable: bool, orders_shown: bool) -> list[str]:
    advice = content.card_text()["tocilizumabAdvice"]
    src = content.cite(["actemra", "nccn-cart9"])
    if unreadable:
        lines = [f"- Not suggested: {advice['unreadable']} *({src})*"]
        if dose is not None:
            lines.append(f"- Dose by weight, if the MAR allows another dose: "
                         f"{toci_label(toci, dose)}")
        return lines
    if dose is None:
        reasons = list(toci.blocks) or ["no dose could be calculated"]
        return [f"- Not suggested: {md('; '.join(reasons))} *({src})*"]
    if not toci_firm(grade):
        return [f"- Consider: {toci_label(toci, dose)} *({content.cite(advice['sources'])})*",
                f"- {toci_note(toci, dose)}", f"- {advice['considerOnly']}"]
    lines = [f"- Suggested: {toci_label(toci, dose)} *({src})*", f"- {toci_note(toci, dose)}"]
    if not orders_shown:
        lines.append(f"- {PATIENT_VIEWER}")
    return lines


def tocilizumab_lines(toci: TocilizumabCheck | None, orders_shown: bool, grade: int = 2,
                      record_warnings: Sequence[str] = ()) -> list[str]:
    """Return the detail lines on tocilizumab: the dose, or what prevents one."""
    if toci is None:
        return ["- Not evaluated for this card."]
    lines = _toci_head(toci, offered_dose(toci), grade, toci_unreadable(record_warnings),
                       orders_shown)
    lines.append(f"- Doses counted: {toci.counted_24h} in the last 24 h, "
                 f"{toci.counted_episode} this episode.")
    lines += [f"- Flag: {md(flag)}" for flag in toci.flags]
    lines += [f"- {md(note)}" if note.startswith(("assumption", "unconfirmed"))
              else f"- rule applied: {md(note)}" for note in toci.assumptions]
    lines += [f"- {content.point(n)}" for n in content.card_text()["tocilizumabNotes"]]
    return lines


def steroid_offered(steroid: SteroidAdvice | None) -> SteroidAdvice | None:
    """Return the advice when firm enough to suggest (not "consider ... if"), else None."""
    if steroid is None or steroid.consider or steroid.condition:
        return None
    return steroid


def steroid_label(steroid: SteroidAdvice) -> str:
    """Return e.g. "Dexamethasone 10 mg IV q6h"."""
    dose = shown_number(steroid.dose_mg)
    return f"{steroid.drug.capitalize()} {dose} mg {steroid.route} {steroid.frequency}"


def steroid_lines(steroid: SteroidAdvice | None, orders_shown: bool) -> list[str]:
    """Return the detail lines on the corticosteroid for this grade."""
    if steroid is None:
        return ["- No corticosteroid advice for this grade."]
    label = steroid_label(steroid)
    if steroid.consider:
        label = f"Consider {label[0].lower()}{label[1:]}"
    if steroid.condition:
        label += f" if {md(steroid.condition)}"
    cited = [p.strip() for p in steroid.source.split(";") if not p.strip().startswith("CC ")]
    if steroid.confidence == "R":
        cited.append(content.UNCONFIRMED)
    lines = [f"- {label} *({'; '.join(cited)})*"]
    if steroid.course:
        lines.append(f"- Course: {md(steroid.course)}")
    if steroid_offered(steroid) is None:
        lines.append("- No order suggestion: the advice is conditional; decide at the bedside.")
    elif not orders_shown:
        lines.append(f"- {PATIENT_VIEWER}")
    return lines
