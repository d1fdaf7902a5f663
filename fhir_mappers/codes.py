"""Code tables loaded from ``fhir_mappers/data/*.json``, with text fallbacks for local codes.

Every table cites clinical-criteria.md (§4.1-§4.4); no code is used that the reference
does not print. Text matching is a fallback only: callers flag its results
"matched-by-text".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fhir_mappers.text import WordMatcher, codings, concept_texts, normalise

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")


@dataclass(frozen=True)
class Match:
    """What a code or text resolved to."""

    target: str  # measurement kind, device class, ingredient or condition concept
    by_text: bool
    flags: tuple[str, ...] = ()
    confidence: str = "V"


def _load(name: str) -> Any:
    with resources.files("fhir_mappers.data").joinpath(name).open(encoding="utf-8") as fh:
        return json.load(fh)


@dataclass(frozen=True)
class _Tables:
    obs_codes: Mapping[str, Match]
    obs_names: Mapping[str, str]
    percent_kind: Mapping[str, str]
    device_codes: Mapping[str, Match]
    device_names: Mapping[str, str]
    device_unclassified: frozenset[str]
    drug_rxnorm: Mapping[str, Match]
    drug_snomed: Mapping[str, Match]
    drug_names: WordMatcher
    drug_class: Mapping[str, str]
    cond_icd10: Mapping[str, str]
    cond_names: WordMatcher


@cache
def tables() -> _Tables:
    """Load and index every data file once."""
    loinc = _load("loinc.json")
    obs_codes: dict[str, Match] = {}
    obs_names: dict[str, str] = {}
    percent: dict[str, str] = {}
    for group in ("kinds", "special"):
        for kind, entry in loinc[group].items():
            flags = entry.get("flags", {})
            for code, conf in entry["codes"].items():
                obs_codes[code] = Match(kind, False, tuple(flags.get(code, ())), conf)
            for name in entry["names"]:
                obs_names.setdefault(normalise(name), kind)
            if "percent_kind" in entry:
                percent[kind] = entry["percent_kind"]
    dev = _load("oxygen_devices.json")
    device_codes = {
        c: Match(e["class"], False, (), e["confidence"]) for c, e in dev["snomed"].items()
    }
    device_names = {normalise(n): c for n, c in dev["names"]["entries"].items()}
    drugs = _load("drugs.json")["ingredients"]
    rx: dict[str, Match] = {}
    sct: dict[str, Match] = {}
    names: list[tuple[str, str]] = []
    for ingredient, entry in drugs.items():
        for code, conf in {**entry.get("rxcui", {}), **entry["products"]}.items():
            rx[code] = Match(ingredient, False, (), conf)
        for code, conf in entry.get("snomed", {}).items():
            sct[code] = Match(ingredient, False, (), conf)
        for name in entry["names"]:
            names.append((normalise(name), ingredient))
    conds = _load("conditions.json")["concepts"]
    icd = {
        p.replace(".", "").upper(): c
        for c, e in conds.items()
        for p in e.get("icd10_prefixes", {})
    }
    cond_names = [(normalise(n), c) for c, e in conds.items() for n in e["names"]]
    return _Tables(
        obs_codes, obs_names, percent, device_codes, device_names,
        frozenset(dev["not_classified"]["codes"]), rx, sct, WordMatcher(names),
        {i: e["class"] for i, e in drugs.items()}, icd, WordMatcher(cond_names),
    )


def observation_kind(code: Any) -> Match | None:
    """Resolve an Observation (or component) code: LOINC first, then exact name."""
    t = tables()
    for system, value in codings(code):
        if system == LOINC and value in t.obs_codes:
            return t.obs_codes[value]
    for text in concept_texts(code):
        if text in t.obs_names:
            return Match(t.obs_names[text], True)
    return None


def percent_twin(kind: str) -> str | None:
    """Return the percentage kind of a count kind (lymphocytes -> lymphocytes_pct)."""
    return tables().percent_kind.get(kind)


def device_class(concept: Any, text: str | None = None) -> Match | None:
    """Resolve an oxygen device: SNOMED code, else exact name; None if unknown."""
    t = tables()
    for system, value in codings(concept):
        if system == SNOMED and value in t.device_codes:
            return t.device_codes[value]
    texts = concept_texts(concept) + ([normalise(text)] if text else [])
    for item in texts:
        if item in t.device_names:
            return Match(t.device_names[item], True)
    return None


def drug_ingredient(concept: Any, extra_texts: tuple[str, ...] = ()) -> Match | None:
    """Resolve a medication: RxNorm ingredient or product, SNOMED, else a name in the text."""
    t = tables()
    for system, value in codings(concept):
        if system == RXNORM and value in t.drug_rxnorm:
            return t.drug_rxnorm[value]
        if system == SNOMED and value in t.drug_snomed:
            return t.drug_snomed[value]
    texts = concept_texts(concept) + [normalise(x) for x in extra_texts]
    found = t.drug_names.find(texts)
    if found is not None and t.drug_class[found] == "fluid-bolus":
        # "norepinephrine in 0.9% sodium chloride": the diluent never names the drug
        drugs = sorted(d for d in t.drug_names.find_all(texts) if t.drug_class[d] != "fluid-bolus")
        found = drugs[0] if drugs else found
    return None if found is None else Match(found, True)


def drug_class_of(ingredient: str) -> str:
    """Return the drug class value of an ingredient from the table."""
    return tables().drug_class[ingredient]


def condition_concepts(code: Any) -> tuple[set[str], bool]:
    """Return the concepts a Condition code names, and whether they came from text."""
    t = tables()
    coded: set[str] = set()
    for system, value in codings(code):
        if system in ICD10:
            key = value.replace(".", "").upper()
            coded.update(c for p, c in t.cond_icd10.items() if key.startswith(p))
    if coded:
        return coded, False
    return t.cond_names.find_all(concept_texts(code)), True
