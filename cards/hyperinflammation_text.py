"""Hyperinflammation card text (``cards/data/hyperinflammation.json``) and the card summary."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from cards.data_files import load
from criteria.carhlh import CARHLH
from criteria.caricchio import CARICCHIO
from criteria.hlh2004 import HLH2004
from criteria.hscore import HSCORE
from criteria.hyperinflammation import HyperinflammationResult
from criteria.iechs import IECHS
from criteria.mas import MAS

MAX_SUMMARY = 139
UNCONFIRMED = "unconfirmed"


def text() -> Mapping[str, Any]:
    """Return the hyperinflammation card text."""
    return load("hyperinflammation.json")


def cite(keys: Iterable[str], confidence: str | None = None) -> str:
    """Return a short citation with links, marking [R] content unconfirmed."""
    sources = text()["sources"]
    parts = [f"[{sources[k]['short']}]({sources[k]['url']})" if "url" in sources[k]
             else sources[k]["short"] for k in keys]
    return "; ".join(parts) + (f"; {UNCONFIRMED}" if confidence == "R" else "")


def point(item: Mapping[str, Any]) -> str:
    """Return a text with its sources in italics."""
    return f"{item['text']} *({cite(item['sources'], item.get('confidence'))})*"


def title(criteria: str) -> str:
    """Return the display title of a criterion, marked unconfirmed when [R]."""
    spec = text()["criteria"][criteria]
    return str(spec["title"]) + (f" ({UNCONFIRMED})" if spec["confidence"] == "R" else "")


def thousands(value: Decimal) -> str:
    """Return a value with thousands separators and at most 1 decimal ("12,400")."""
    rounded = value.quantize(Decimal("1")) if value >= 100 else value.quantize(Decimal("0.1"))
    return f"{rounded:,}"


def _ferritin(result: HyperinflammationResult, short: bool) -> str | None:
    trend = result.trends["ferritin"]
    if trend.latest is None:
        return None
    shown = f"ferritin {thousands(trend.latest.value)}" + ("" if short else " ng/mL")
    return shown + (" rising" if trend.direction == "rising" else "")


def _headline(result: HyperinflammationResult, lead: str) -> str:
    a = result.get(lead)
    extra = a.extra
    if lead == HSCORE:
        score = f"≥{extra['score']}" if extra.get("minimumScore") else str(extra["score"])
        return f"HLH-like syndrome likely: HScore {score} ({extra['probability']})"
    if lead == IECHS:
        grade = f"≥{a.grade}" if extra.get("gradeIsLowerBound") else str(a.grade)
        return f"IEC-HS likely, grade {grade} (unconfirmed criteria)"
    if lead == HLH2004:
        counts = extra["counts"]
        if a.met:
            return f"HLH-2004 criteria met ({counts['met']} of 8)"
        return f"Possible HLH: HLH-2004 {counts['met']} of 8 met, {counts['unknown']} unknown"
    if lead == CARHLH:
        return "carHLH criteria met (CARTOX, unconfirmed)"
    if lead == MAS:
        return "MAS in sJIA likely (Ravelli 2016)"
    if lead == CARICCHIO:
        return "COVID-19 cytokine storm criteria met (Caricchio)"
    raise KeyError(lead)


def build_summary(result: HyperinflammationResult) -> str:
    """Return the summary (≤139 characters) naming the strongest finding, built to fit."""
    head = _headline(result, result.lead[0])
    day = f"day +{result.day_post_index}" if result.day_post_index is not None else None
    for level in range(3):
        parts = [p for p in (_ferritin(result, level > 0) if level < 2 else None,) if p]
        body = f"{head}: {', '.join(parts)}" if parts else head
        for candidate in ((f"{body}; {day}",) if day else ()) + (body,):
            shown = unicodedata.normalize("NFC", candidate)
            if len(shown) <= MAX_SUMMARY:
                return shown
    raise ValueError("hyperinflammation summary does not fit in 139 characters")


def override_reasons() -> list[dict[str, str]]:
    """Return the override reasons as Codings (system, code, display)."""
    block = text()["overrideReasons"]
    return [{"system": block["system"], "code": c["code"], "display": c["display"]}
            for c in block["codes"]]
