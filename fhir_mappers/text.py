"""Text normalisation and whole-word name matching for local codes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_NON_WORD = re.compile(r"[^a-z0-9%]+")
# "Nor-Epinephrine", "nor adrenaline": the "nor" prefix is part of the word, never a word of
# its own (else "epinephrine" would match norepinephrine).
_NOR = re.compile(r"(?<![a-z0-9])nor (?=epinephrine|adrenaline)")


def normalise(text: str) -> str:
    """Lower-case, turn punctuation into single spaces and trim (keeps '%')."""
    return _NOR.sub("nor", _NON_WORD.sub(" ", text.lower()).strip())


def _list(value: Any) -> list[Any]:
    """Return a JSON array as a list; anything else (a number, an object) as empty."""
    return value if isinstance(value, list) else []


def concept_texts(concept: Any) -> list[str]:
    """Return the normalised text and coding displays of a raw CodeableConcept."""
    if not isinstance(concept, Mapping):
        return []
    out: list[str] = []
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        out.append(normalise(text))
    for coding in _list(concept.get("coding")):
        if isinstance(coding, Mapping) and isinstance(coding.get("display"), str):
            out.append(normalise(coding["display"]))
    return [t for t in out if t]


def codings(concept: Any) -> list[tuple[str, str]]:
    """Return (system, code) pairs of a raw CodeableConcept, skipping malformed codings."""
    if not isinstance(concept, Mapping):
        return []
    out: list[tuple[str, str]] = []
    for coding in _list(concept.get("coding")):
        if isinstance(coding, Mapping):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(code, str):
                out.append((system if isinstance(system, str) else "", code.strip()))
    return out


class WordMatcher:
    """Finds listed names occurring as whole words in a text (one name may mean several)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        # pairs: (normalised name, target); longer names are tried first
        self._targets: dict[str, list[str]] = {}
        for name, target in pairs:
            self._targets.setdefault(name, []).append(target)
        ordered = sorted(self._targets, key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in ordered if n)
        self._pattern = re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")

    def find(self, texts: Iterable[str]) -> str | None:
        """Return the target of the first name found in the texts, or None."""
        for text in texts:
            hit = self._pattern.search(text)
            if hit:
                return self._targets[hit.group(0)][0]
        return None

    def find_all(self, texts: Iterable[str]) -> set[str]:
        """Return the targets of every name found in the texts."""
        found: set[str] = set()
        for text in texts:
            for m in self._pattern.finditer(text):
                found.update(self._targets[m.group(0)])
        return found
