"""Clinical card text, loaded from ``cards/data/crs_card.json`` (each item names its source)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cards.data_files import load

UNCONFIRMED = "unconfirmed"


def card_text() -> Mapping[str, Any]:
    """Return the CRS card text data."""
    return load("crs_card.json")


def source(key: str) -> Mapping[str, str]:
    """Return one guideline source (label, short, optional url); KeyError when unknown."""
    sources: Mapping[str, Mapping[str, str]] = card_text()["sources"]
    return sources[key]


def cite(keys: Iterable[str], confidence: str | None = None) -> str:
    """Return a short citation such as "NCCN CART-6; Actemra label", marking [R] unconfirmed."""
    parts = []
    for key in keys:
        src = source(key)
        short = src["short"]
        parts.append(f"[{short}]({src['url']})" if "url" in src else short)
    text = "; ".join(parts)
    if confidence == "R":
        text += f"; {UNCONFIRMED}"
    return text


def point(item: Mapping[str, Any]) -> str:
    """Return one management point as markdown text followed by its source in italics."""
    return f"{item['text']} *({cite(item['sources'], item.get('confidence'))})*"


def management(grade: int) -> list[Mapping[str, Any]]:
    """Return the management points for an ASTCT grade (grades above 4 use grade 4)."""
    table: Mapping[str, list[Mapping[str, Any]]] = card_text()["management"]
    return list(table[str(min(max(grade, 1), 4))])


def override_reasons() -> list[dict[str, str]]:
    """Return the override reasons as CDS Hooks Codings (system, code and display)."""
    block = card_text()["overrideReasons"]
    return [{"system": block["system"], "code": c["code"], "display": c["display"]}
            for c in block["codes"]]


def medication(name: str) -> Mapping[str, Any]:
    """Return the medication entry (text and, when confirmed, its RxNorm coding)."""
    meds: Mapping[str, Mapping[str, Any]] = card_text()["medications"]
    return meds[name]


def route(name: str) -> Mapping[str, Any]:
    """Return the route entry (text and SNOMED coding) for a route such as "IV"."""
    routes: Mapping[str, Mapping[str, Any]] = card_text()["routes"]
    return routes[name]
