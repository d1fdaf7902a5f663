"""Order-sign card text, loaded from ``cards/data/order_sign.json`` (each item names its source)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cards.data_files import load

UNCONFIRMED = "unconfirmed"


def data() -> Mapping[str, Any]:
    """Return the order-sign card data."""
    return load("order_sign.json")


def card_spec(criteria: str) -> Mapping[str, Any]:
    """Return the card settings of a criteria name (source key, topic, "infusion"/"dose")."""
    specs: Mapping[str, Mapping[str, Any]] = data()["cards"]
    return specs[criteria]


def source(criteria: str) -> dict[str, Any]:
    """Return the card source (label, absolute url, topic Coding) of a criteria name."""
    spec = card_spec(criteria)
    src = data()["sources"][spec["source"]]
    return {"label": src["label"], "url": src["url"], "topic": dict(spec["topic"])}


def point(key: str) -> str:
    """Return one text item with its source in italics, marking [R] items unconfirmed."""
    item = data()["texts"][key]
    cited = "; ".join(f"[{data()['sources'][k]['short']}]({data()['sources'][k]['url']})"
                      for k in item["sources"])
    if item.get("confidence") == "R":
        cited += f"; {UNCONFIRMED}"
    return f"{item['text']} *({cited})*"


def check_label(check: str) -> str:
    """Return the display name of a check."""
    return str(data()["checks"].get(check, check))


def status_label(status: str) -> str:
    """Return the display name of a check status."""
    return str(data()["status"][status])


def override_reasons() -> list[dict[str, str]]:
    """Return the override reasons as CDS Hooks Codings (system, code and display)."""
    block = data()["overrideReasons"]
    return [{"system": block["system"], "code": c["code"], "display": c["display"]}
            for c in block["codes"]]


def label_link(name: str) -> dict[str, str]:
    """Return an absolute link to the current label of a product on DailyMed."""
    url = str(data()["labelSearch"]).format(name=quote(name))
    return {"label": f"Current label: {name} (DailyMed)", "url": url, "type": "absolute"}
