"""Finding Observations (imaging, exam, survey) to ConditionFacts, by whole-word text.

Only Observations no criterion reads by code get here, and only when they carry an imaging,
exam or survey category or no LOINC coding at all (``candidate``), so the common path stays
cheap. The concept names of ``data/conditions.json`` are matched on the value
(valueCodeableConcept text and displays), and on the code (text and displays) when the
value means present (valueBoolean true, SNOMED 52101004, "present", "yes", "positive",
"detected"). A value meaning absent (valueBoolean false, SNOMED 2667000, "absent", "no",
"negative", ...) or any negating or hedging word ("no ground-glass opacities", "possible
splenomegaly") gives nothing: a negated finding is never recorded as present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from criteria.model import ConditionFact
from fhir_mappers.codes import LOINC, SNOMED, tables
from fhir_mappers.text import codings, concept_texts

# Findings, not diagnoses: a diagnosis (COVID-19, infection, sJIA, ...) stays a Condition.
FINDINGS = frozenset({"ground-glass", "splenomegaly", "hepatomegaly", "haemophagocytosis",
                      "pulmonary-oedema", "oliguria", "immunosuppression"})
CATEGORIES = frozenset({"imaging", "exam", "survey"})
_CATEGORY_SYSTEMS = frozenset({"http://terminology.hl7.org/CodeSystem/observation-category", ""})
PRESENT = frozenset({(SNOMED, "52101004")})
ABSENT = frozenset({(SNOMED, "2667000")})
_PRESENT_WORDS = frozenset({"present", "yes", "positive", "detected", "true"})
# Any of these anywhere in a text sets that finding aside (negation, hedging, the past).
_NEGATED = re.compile(
    r"(?<![a-z0-9])(?:no|not|non|none|nor|neither|without|absent|absence|negative|false|"
    r"denies|denied|excluded|ruled|rule|resolved|resolving|free|normal|possible|possibly|"
    r"probable|suspected|suspicion|query|questionable|equivocal|unlikely|history|previous|"
    r"prior)(?![a-z0-9])")
# Status of the Observation -> verification status of the finding.
VERIFICATION = {"final": "confirmed", "amended": "confirmed", "corrected": "confirmed",
                "preliminary": "provisional", "unknown": "unconfirmed"}
FLAGS = ("from-observation", "matched-by-text")


def _codes(value: Any) -> list[Any]:
    """Return the codings of a raw CodeableConcept (anything else: none)."""
    coding = value.get("coding") if isinstance(value, Mapping) else None
    return coding if isinstance(coding, list) else []


def candidate(raw: Mapping[str, Any]) -> bool:
    """Return whether an Observation may name a finding (imaging/exam/survey or no LOINC)."""
    for coding in _codes(raw.get("code")):
        if isinstance(coding, Mapping) and coding.get("system") == LOINC:
            break
    else:
        return True
    categories = raw.get("category")
    for category in categories if isinstance(categories, list) else ():
        for c in _codes(category):
            if not isinstance(c, Mapping):
                continue
            code, system = c.get("code"), c.get("system", "")
            if (isinstance(code, str) and code in CATEGORIES and isinstance(system, str)
                    and system in _CATEGORY_SYSTEMS):
                return True
    return False


def _negated(texts: list[str]) -> bool:
    return any(_NEGATED.search(t) for t in texts)


def finding_concepts(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the finding concepts an Observation records as present (sorted), else ()."""
    boolean, value = raw.get("valueBoolean"), raw.get("valueCodeableConcept")
    if "dataAbsentReason" in raw or boolean is False or (boolean is not True and value is None):
        return ()
    value_texts = concept_texts(value)
    value_codes = set(codings(value))
    present = (boolean is True or bool(value_codes & PRESENT)
               or any(t in _PRESENT_WORDS for t in value_texts))
    code_texts = concept_texts(raw.get("code")) if present else []
    texts = value_texts + code_texts
    found = tables().cond_names.find_all(texts) & FINDINGS if texts else set()
    # Checked only once something is found (cheap common path); absent wins over present.
    if not found or value_codes & ABSENT or _negated(value_texts) or _negated(
            code_texts or concept_texts(raw.get("code"))):
        return ()
    return tuple(sorted(found))


def finding_facts(concepts: tuple[str, ...], ref: str, status: str,
                  time: datetime, extra_flags: tuple[str, ...] = ()) -> tuple[ConditionFact, ...]:
    """Return one ConditionFact per concept, timed at the Observation's effective time."""
    flags = (*FLAGS, *extra_flags)
    return tuple(ConditionFact(concept=c, reference=ref,
                               verification_status=VERIFICATION.get(status), recorded=time,
                               flags=flags) for c in concepts)
