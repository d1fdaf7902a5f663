"""Conditions the hyperinflammation criteria read (clinical-criteria.md §2.1-2.6, issue 6)."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappers.timeline import build_timeline

from .conftest import EXPECTED, NOW


def condition(cid: str, text: str, verification: str = "confirmed") -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": verification}]},
            "code": {"text": text}, "recordedDate": "2024-04-30"}


def concepts(*resources: dict[str, Any]) -> set[tuple[str, str]]:
    prefetch = {"patient": {"resourceType": "Patient", "id": "p1"},
                "conditions": {"resourceType": "Bundle", "type": "searchset",
                               "entry": [{"resource": r} for r in resources]}}
    timeline = build_timeline(prefetch, now=NOW, expected=EXPECTED)
    return {(c.concept, c.reference) for c in timeline.conditions}


@pytest.mark.parametrize(("text", "concept"), [
    ("Ground-glass opacities on chest CT", "ground-glass"),
    ("Hemophagocytosis in bone marrow", "haemophagocytosis"),
    ("Acute pulmonary edema", "pulmonary-oedema"),
    ("Oliguria", "oliguria"),
    ("COVID-19 pneumonia", "covid19"),
    ("Systemic lupus erythematosus", "autoimmune"),
    ("Adult-onset Still's disease", "autoimmune"),
    ("Hepatosplenomegaly", "splenomegaly"),
])
def test_hyperinflammation_concepts_by_text(text: str, concept: str) -> None:
    assert (concept, "Condition/c1") in concepts(condition("c1", text))


def test_refuted_finding_is_not_read() -> None:
    assert concepts(condition("c1", "Splenomegaly", "refuted")) == set()


def test_unrelated_text_is_not_autoimmune() -> None:
    assert concepts(condition("c1", "Essential hypertension")) == set()


def test_an_hlh_diagnosis_is_not_the_haemophagocytosis_finding() -> None:
    # HLH-2004 criterion 5 (clinical-criteria.md §2.1) and HScore's marrow item (§2.2) need the
    # pathology finding; a diagnosis label must not score it.
    found = concepts(condition("c-hlh", "Hemophagocytic lymphohistiocytosis (HLH)"))
    assert ("haemophagocytosis", "Condition/c-hlh") not in found
