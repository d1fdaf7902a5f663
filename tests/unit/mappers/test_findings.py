"""Findings (ground-glass, organomegaly, ...) read from Observations as ConditionFacts (issue 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from criteria.model import PatientTimeline
from fhir_mappers.findings import candidate
from fhir_mappers.memo import clear_all
from fhir_mappers.timeline import build_timeline

from .builders import LOINC, SNOMED, bundle, obs
from .conftest import EXPECTED, NOW, warned

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PRESENT = {"coding": [{"system": SNOMED, "code": "52101004", "display": "Present"}]}
ABSENT = {"coding": [{"system": SNOMED, "code": "2667000", "display": "Absent"}]}


def finding(rid: str, code: str, category: str | None = "imaging", **value: Any) -> dict[str, Any]:
    """Return a final Observation with a text code, a category and the given value[x]."""
    out: dict[str, Any] = {"resourceType": "Observation", "id": rid, "status": "final",
                           "code": {"text": code}, "subject": {"reference": "Patient/p1"},
                           "effectiveDateTime": "2024-05-02T10:00:00Z", **value}
    if category is not None:
        out["category"] = [{"coding": [{"system": CATEGORY, "code": category}]}]
    return out


def timeline(*resources: dict[str, Any]) -> PatientTimeline:
    return build_timeline({"labs": bundle(*resources)}, now=NOW, expected=EXPECTED)


def concepts(*resources: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c.concept, c.reference) for c in timeline(*resources).conditions}


@pytest.mark.parametrize(("code", "value", "concept"), [
    ("CT chest", {"valueCodeableConcept": {"text": "Bilateral ground-glass opacities"}},
     "ground-glass"),
    ("Spleen", {"valueCodeableConcept": {"coding": [{"display": "Splenomegaly"}]}},
     "splenomegaly"),
    ("Splenomegaly", {"valueBoolean": True}, "splenomegaly"),
    ("Hepatomegaly", {"valueCodeableConcept": PRESENT}, "hepatomegaly"),
    ("Haemophagocytosis on marrow aspirate", {"valueCodeableConcept": {"text": "Yes"}},
     "haemophagocytosis"),
    ("Pulmonary oedema", {"valueCodeableConcept": {"text": "positive"}}, "pulmonary-oedema"),
])
def test_finding_read_as_present(code: str, value: dict[str, Any], concept: str) -> None:
    assert concepts(finding("f1", code, **value)) == {(concept, "Observation/f1")}


@pytest.mark.parametrize(("code", "value"), [
    ("CT chest", {"valueCodeableConcept": {"text": "No ground-glass opacities"}}),
    ("CT chest", {"valueCodeableConcept": {"text": "Ground-glass opacities: absent"}}),
    ("CT chest", {"valueCodeableConcept": {"text": "Possible ground glass"}}),
    ("Ground-glass opacities", {"valueCodeableConcept": ABSENT}),
    ("Ground-glass opacities", {"valueCodeableConcept": {"text": "No"}}),
    ("Ground-glass opacities", {"valueCodeableConcept": {"text": "Negative"}}),
    ("Splenomegaly", {"valueBoolean": False}),
    ("Splenomegaly", {"valueCodeableConcept": {"coding": [*PRESENT["coding"],
                                                          *ABSENT["coding"]]}}),
    ("Splenomegaly", {}),  # no value: the code alone is not an assertion
    ("Splenomegaly", {"valueBoolean": True, "dataAbsentReason": {"text": "unknown"}}),
    ("History of splenomegaly", {"valueBoolean": True}),
    ("Spleen", {"valueString": "Splenomegaly"}),  # free text is not read
])
def test_absent_or_negated_finding_gives_nothing(code: str, value: dict[str, Any]) -> None:
    found = timeline(finding("f1", code, **value))
    assert found.conditions == ()
    assert warned(found, "matched-by-text") == []


def test_fact_carries_status_time_flags_and_warning() -> None:
    raw = finding("f1", "CT chest", status="preliminary",
                  valueCodeableConcept={"text": "Hepatosplenomegaly"})
    found = timeline(raw)
    assert [(c.concept, c.verification_status) for c in found.conditions] == [
        ("hepatomegaly", "provisional"), ("splenomegaly", "provisional")]
    fact = found.conditions[0]
    assert fact.recorded == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert fact.clinical_status is None
    assert fact.onset is None
    assert fact.flags == ("from-observation", "matched-by-text")
    assert [w.reference for w in warned(found, "matched-by-text")] == ["Observation/f1"]


@pytest.mark.parametrize(("status", "verification"), [
    ("final", "confirmed"), ("amended", "confirmed"), ("corrected", "confirmed"),
    ("unknown", "unconfirmed")])
def test_verification_from_observation_status(status: str, verification: str) -> None:
    raw = finding("f1", "Splenomegaly", status=status, valueBoolean=True)
    assert [c.verification_status for c in timeline(raw).conditions] == [verification]


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_excluded_status_gives_nothing(status: str) -> None:
    found = timeline(finding("f1", "Splenomegaly", status=status, valueBoolean=True))
    assert found.conditions == ()
    assert any(w.reference == "Observation/f1" for w in found.warnings)


def test_time_window_applies() -> None:
    old = finding("f1", "Splenomegaly", valueBoolean=True,
                  effectiveDateTime="2023-01-01T10:00:00Z")
    later = finding("f2", "Splenomegaly", valueBoolean=True,
                    effectiveDateTime="2024-05-03T10:00:00Z")
    found = timeline(old, later)
    assert found.conditions == ()
    assert [w.reference for w in warned(found, "after-evaluation-time")] == ["Observation/f2"]
    assert warned(found, "matched-by-text") == []


def test_issued_time_is_flagged() -> None:
    raw = finding("f1", "Splenomegaly", valueBoolean=True, issued="2024-05-02T11:00:00Z")
    del raw["effectiveDateTime"]
    (fact,) = timeline(raw).conditions
    assert "time-from-issued" in fact.flags
    assert fact.recorded == datetime(2024, 5, 2, 11, 0, tzinfo=UTC)


def test_diagnoses_stay_conditions() -> None:
    raw = finding("f1", "Assessment", valueCodeableConcept={"text": "COVID-19 pneumonia"})
    assert concepts(raw) == set()


def test_only_uncoded_or_imaging_exam_survey_observations_are_read() -> None:
    coded_lab = finding("f1", "Spleen", category="laboratory",
                        valueCodeableConcept={"text": "Splenomegaly"})
    coded_lab["code"]["coding"] = [{"system": LOINC, "code": "00000-0"}]
    coded_exam = {**coded_lab, "id": "f2",
                  "category": [{"coding": [{"system": CATEGORY, "code": "exam"}]}]}
    uncoded_lab = finding("f3", "Spleen", category="laboratory",
                          valueCodeableConcept={"text": "Splenomegaly"})
    uncategorised = finding("f4", "Spleen", category=None,
                            valueCodeableConcept={"text": "Splenomegaly"})
    assert not candidate(coded_lab)
    assert concepts(coded_lab, coded_exam, uncoded_lab, uncategorised) == {
        ("splenomegaly", "Observation/f2"), ("splenomegaly", "Observation/f3"),
        ("splenomegaly", "Observation/f4")}


def test_observation_of_interest_is_never_read_as_a_finding() -> None:
    raw = obs("o1", "1988-5", 50, "mg/L",
              valueCodeableConcept={"text": "Splenomegaly"},
              category=[{"coding": [{"system": CATEGORY, "code": "exam"}]}])
    found = timeline(raw)
    assert found.conditions == ()
    assert [m.reference for m in found.series("crp")] == ["Observation/o1"]


@pytest.mark.parametrize("junk", [
    {"valueCodeableConcept": "Splenomegaly"}, {"valueCodeableConcept": {"text": 5}},
    {"valueBoolean": "true"}, {"code": ["Splenomegaly"], "valueBoolean": True},
    {"category": "imaging", "code": {"coding": [{"system": LOINC, "code": "x"}]},
     "valueCodeableConcept": {"text": "Splenomegaly"}}])
def test_junk_never_raises(junk: dict[str, Any]) -> None:
    raw = {**finding("f1", "Splenomegaly"), **junk}
    assert timeline(raw).conditions == ()


def test_junk_category_of_an_unread_observation_stays_quiet() -> None:
    raw = finding("f1", "Spleen", valueCodeableConcept={"text": "Splenomegaly"})
    raw["code"]["coding"] = [{"system": LOINC, "code": "00000-0"}]
    raw["category"] = [{"coding": [{"code": ["exam"], "system": {"x": 1}}]}, 7]
    found = timeline(raw)
    assert found.conditions == ()
    assert found.warnings == ()


def test_memo_gives_the_same_facts() -> None:
    raw = finding("f1", "CT chest", valueCodeableConcept={"text": "Ground glass"})
    clear_all()
    cold = timeline(raw)
    warm = timeline(raw)
    assert cold.conditions == warm.conditions
    assert cold.warnings == warm.warnings
    assert len(cold.conditions) == 1
