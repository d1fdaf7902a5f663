"""Read what the card needs from a CRS result (the one place that knows the criteria shapes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from criteria.crs import CrsResult
from criteria.model import DrugExposure, OxygenModality, OxygenSupport

# Display units for the canonical UCUM units (output only).
UNIT_SHOWN = {"Cel": "°C", "mm[Hg]": "mmHg", "/min": "/min", "L/min": "L/min", "%": "%",
              "kg": "kg", "ug/min": "µg/min", "ug/(kg.min)": "µg/kg/min", "[U]/min": "units/min",
              "mL": "mL", "mg": "mg"}

# Evidence item names as shown in the detail table; other items (drugs) are shown as they are.
ITEM_SHOWN = {"temperature": "Temperature", "systolic_bp": "Systolic BP",
              "diastolic_bp": "Diastolic BP", "mean_arterial_pressure": "MAP",
              "oxygen-support": "O2 support", "oxygen-flow": "O2 flow", "fio2": "FiO2",
              "body_weight": "Weight", "spo2": "SpO2"}

# Oxygen phrases for the summary and the detail; {flow} is the recorded flow in L/min.
OXYGEN_SHOWN: dict[OxygenModality, tuple[str, str]] = {
    OxygenModality.ROOM_AIR: ("room air", "room air"),
    OxygenModality.LOW_FLOW_CANNULA: ("{flow} L/min nasal cannula O2", "nasal cannula O2"),
    OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW: ("nasal cannula O2, flow unknown",
                                                "nasal cannula O2, flow unknown"),
    OxygenModality.BLOW_BY: ("blow-by O2", "blow-by O2"),
    OxygenModality.HIGH_FLOW_CANNULA: ("{flow} L/min high-flow O2", "high-flow O2"),
    OxygenModality.FACEMASK: ("O2 by facemask", "O2 by facemask"),
    OxygenModality.NON_REBREATHER: ("non-rebreather mask", "non-rebreather mask"),
    OxygenModality.VENTURI: ("Venturi mask", "Venturi mask"),
    OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE: ("{flow} L/min O2, device unknown",
                                                 "O2, device unknown"),
    OxygenModality.CPAP: ("CPAP", "CPAP"),
    OxygenModality.BIPAP: ("BiPAP", "BiPAP"),
    OxygenModality.INVASIVE: ("mechanical ventilation", "mechanical ventilation"),
}


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Markdown that could make a link, an image or emphasis out of EHR-supplied text.
_MARKDOWN = re.compile(r"([\\\[\]()!*_`])")


def md(text: str) -> str:
    """Return EHR-supplied text safe for markdown: one line, no HTML tag openers, no table
    pipes, and no link, image, emphasis or code syntax (``[ ] ( ) ! * _ ` `` are escaped)."""
    text = _MARKDOWN.sub(r"\\\1", text)
    return _TAG_START.sub(r"\\<", text).replace("|", r"\|").replace("\n", " ")


def shown_time(t: datetime) -> str:
    """Return a time as "YYYY-MM-DD HH:MM UTC"."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _rounded(value: Decimal, places: str) -> Decimal | None:
    """Return a value rounded to places, or None when it cannot be shown that way (too large
    for the context precision, not finite, or a non-zero value that would show as 0)."""
    if not value.is_finite():
        return None
    try:
        rounded = value.quantize(Decimal(places))
    except InvalidOperation:
        return None
    return None if rounded.is_zero() and not value.is_zero() else rounded


def _scientific(value: Decimal) -> str:
    return f"{value:.3g}" if value.is_finite() else str(value)


def shown_number(value: Decimal) -> str:
    """Return a Decimal rounded to 2 places, without exponent or trailing zeros ("8", "39.4");
    a huge or tiny value in scientific notation ("1e+30"), never an exception."""
    rounded = _rounded(value, "0.01")
    return _scientific(value) if rounded is None else f"{rounded.normalize():f}"


def recorded_number(value: Decimal) -> str:
    """Return a Decimal as recorded, trimmed of trailing zeros ("6.001", "6"), never rounded
    (so 6.001 L/min is never shown as 6); a huge or tiny value in scientific notation."""
    if not value.is_finite() or abs(value.adjusted()) > 12:
        return _scientific(value)
    return f"{value.normalize():f}"


def shown_temperature(value: Decimal) -> str:
    """Return a temperature with one decimal, e.g. "39.4 °C", "37.0 °C" (huge: scientific)."""
    rounded = _rounded(value, "0.1")
    return f"{_scientific(value) if rounded is None else rounded} °C"


def drug_name(drug: DrugExposure) -> str:
    """Return the name shown for a drug exposure (product name when known)."""
    name = drug.ingredient.replace("angiotensin ii", "angiotensin II")
    return f"{name} ({drug.product})" if drug.product else name


def modality_shown(value: str) -> str:
    """Return the display text of an OxygenModality value ("high-flow O2"), else the value."""
    try:
        modality = OxygenModality(value)
    except ValueError:
        return value
    long_form, short_form = OXYGEN_SHOWN[modality]
    return short_form if "{flow}" in long_form else long_form


def oxygen_phrase(record: OxygenSupport, short: bool = False) -> str:
    """Return the summary phrase for an oxygen record, e.g. "8 L/min high-flow O2"."""
    long_form, short_form = OXYGEN_SHOWN[record.modality]
    if short or record.flow_l_min is None:
        return short_form if "{flow}" in long_form else long_form
    return long_form.format(flow=recorded_number(record.flow_l_min))


@dataclass(frozen=True)
class CardFacts:
    """The deciding facts of one CRS result, in card terms."""

    grade: int
    lower_bound: bool
    fever_c: Decimal | None
    masked_by: DrugExposure | None
    pressors: tuple[str, ...]  # counted vasopressors (ingredients)
    vasopressin: tuple[str, ...]  # vasopressin-class agents (never counted in n)
    changeover: bool
    oxygen: OxygenSupport | None  # shown when it sets a hypoxia tier >= 2
    hypotension: bool  # hypotension tier 2 without a vasopressor
    day_post_index: int | None


def card_facts(result: CrsResult) -> CardFacts | None:
    """Return the card facts of a CRS result, or None when there is no CRS (grade 0/unknown)."""
    grade = result.astct.grade
    if not result.screened or grade is None or grade < 1:
        return None
    f = result.findings
    episode = result.episode
    fever = f.fever
    return CardFacts(
        grade=grade, lower_bound=result.lower_bound,
        fever_c=fever.value if fever is not None else None,
        masked_by=episode.masked_by if episode is not None else None,
        pressors=tuple(i.ingredient for i in f.counted_pressors),
        vasopressin=tuple(i.ingredient for i in f.vasopressin_class),
        changeover=f.changeover,
        oxygen=f.oxygen_record if f.hypoxia_tier >= 2 else None,
        hypotension=f.hypotension_tier == 2 and not f.counted_pressors,
        day_post_index=episode.day_post_index if episode is not None else None,
    )
