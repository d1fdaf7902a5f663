"""Route of administration to a route category (``data/routes.json``).

SNOMED CT code first, then whole words of the route's text; with no route at all, a dosage
form in the drug's own text ("cream", "eye drops", "inhaler", ...), flagged
"route-from-text". Unknown stays None: the criteria decide what an unknown route means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fhir_mappers.codes import SNOMED
from fhir_mappers.text import WordMatcher, codings, concept_texts, normalise

ROUTES = ("systemic", "topical", "inhaled", "ophthalmic", "otic", "nasal")


@dataclass(frozen=True)
class _Routes:
    codes: dict[str, str]
    route_words: WordMatcher
    drug_words: WordMatcher


@cache
def _tables() -> _Routes:
    path = resources.files("fhir_mappers.data").joinpath("routes.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    codes = {c: e["route"] for c, e in data["snomed"]["codes"].items()}
    return _Routes(
        codes,
        WordMatcher((normalise(k), v) for k, v in data["route_text"]["entries"].items()),
        WordMatcher((normalise(k), v) for k, v in data["drug_text"]["entries"].items()),
    )


def route_of(route: Any, drug_texts: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """Return (route category or None, flags) from dosage.route, else from the drug text."""
    t = _tables()
    if route is not None:
        for system, code in codings(route):
            if system == SNOMED and code in t.codes:
                return t.codes[code], ()
        return t.route_words.find(concept_texts(route)), ()
    found = t.drug_words.find(normalise(x) for x in drug_texts if isinstance(x, str))
    return (found, ("route-from-text",)) if found else (None, ())
