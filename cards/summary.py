"""Build the one-sentence card summary (≤139 code points, NFC) from the deciding findings.

Spec: CDS Hooks 2.0 card ``summary`` "<140-character" (https://cds-hooks.hl7.org/2.0/#card-attributes);
project rule reference/cds-hooks.md §5: the summary is built to fit, never truncated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from cards.view import CardFacts, oxygen_phrase, shown_temperature

MAX_SUMMARY = 139


def _head(facts: CardFacts) -> str:
    grade = f"≥{facts.grade}" if facts.lower_bound else str(facts.grade)
    return f"CRS grade {grade} (ASTCT)"


def _fever(facts: CardFacts, level: int) -> str | None:
    if facts.fever_c is not None:
        return shown_temperature(facts.fever_c)
    if facts.masked_by is not None:
        return "fever masked" if level >= 1 else f"fever masked by {facts.masked_by.ingredient}"
    return None


def _pressors(facts: CardFacts, level: int) -> str | None:
    parts = list(facts.pressors)
    if level >= 2 or len(" + ".join(parts)) > 48:
        count = len(facts.pressors)
        parts = [f"{count} vasopressor{'s' if count > 1 else ''}"] if count else []
    if facts.vasopressin:
        parts.append("vasopressin" if level < 2 else "vasopressin class")
    if not parts:
        return "hypotension" if facts.hypotension else None
    text = " + ".join(parts).replace("angiotensin ii", "angiotensin II")
    if facts.changeover:
        text += " (changeover)"
    return text


def _fragments(facts: CardFacts, level: int) -> Iterator[str]:
    for fragment in (_fever(facts, level), _pressors(facts, level)):
        if fragment:
            yield fragment
    if facts.oxygen is not None:
        yield oxygen_phrase(facts.oxygen, short=level >= 2)


def build_summary(facts: CardFacts) -> str:
    """Return the summary, e.g. "CRS grade 3 (ASTCT): 39.4 °C, norepinephrine, 8 L/min ... O2"."""
    for level in range(3):
        body = ", ".join(_fragments(facts, level))
        text = f"{_head(facts)}: {body}" if body else _head(facts)
        if facts.day_post_index is not None:
            with_day = f"{text}; day +{facts.day_post_index}"
            if len(unicodedata.normalize("NFC", with_day)) <= MAX_SUMMARY:
                text = with_day
        text = unicodedata.normalize("NFC", text)
        if len(text) <= MAX_SUMMARY:
            return text
    raise ValueError("CRS summary does not fit in 139 characters")
