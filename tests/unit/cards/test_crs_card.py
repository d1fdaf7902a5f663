"""CRS card shape: indicator, no card at grade 0, uuids, JSON rules, links, override reasons."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest

from cards.crs_card import ASSESSMENT_EXTENSION, crs_cards, indicator, may_order
from cards.json_rules import find_empty_values
from criteria.crs import assess_crs
from criteria.model import DrugClass, OxygenModality
from criteria.rules import load_rules
from tests.unit.cards.builders import (
    GRADE_0,
    GRADE_1,
    GRADE_2,
    GRADE_3,
    GRADE_4,
    NOW,
    Patient,
    drug,
    evaluate,
    o2,
    pressor,
)

ALL = [GRADE_1, GRADE_2, GRADE_3, GRADE_4,
       Patient(oxygen=o2(OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW)),
       Patient(temps=((30, "38.9"), (2, "37.0")),
               drugs=(drug(DrugClass.TOCILIZUMAB, "tocilizumab", 29),
                      pressor("norepinephrine", 5))),
       Patient(weight_kg=None, oxygen=o2(OxygenModality.CPAP))]


@pytest.mark.parametrize(("grade", "expected"),
                         [(1, "info"), (2, "warning"), (3, "critical"), (4, "critical")])
def test_indicator_per_grade(grade: int, expected: str) -> None:
    assert indicator(grade) == expected


@pytest.mark.parametrize(("patient", "expected"), [(GRADE_1, "info"), (GRADE_2, "warning"),
                                                   (GRADE_3, "critical"), (GRADE_4, "critical")])
def test_card_indicator_follows_astct_grade(patient: Patient, expected: str) -> None:
    assert evaluate(patient).card["indicator"] == expected


def test_grade_0_gives_no_card() -> None:
    evaluated = evaluate(GRADE_0)
    assert evaluated.result.astct.grade == 0
    assert evaluated.cards == []


def test_not_screened_gives_no_card() -> None:
    timeline = replace(Patient().timeline(), drugs=())  # febrile, but no CAR-T on record
    result = assess_crs(timeline, NOW, load_rules())
    assert crs_cards(result, None, None, patient_id="p1", user_id="Practitioner/x",
                     unavailable={}, now=NOW) == []


@pytest.mark.parametrize("patient", ALL)
def test_every_card_obeys_the_json_rules(patient: Patient) -> None:
    card = evaluate(patient).card
    assert find_empty_values({"cards": [card]}) == []
    json.dumps(card, allow_nan=False)  # plain JSON types only


def _uuids(card: dict[str, Any]) -> list[str]:
    return [card["uuid"], *(s["uuid"] for s in card.get("suggestions", []))]


def test_every_card_and_suggestion_has_a_distinct_lowercase_uuid4() -> None:
    seen = [u for _ in range(2) for p in ALL for u in _uuids(evaluate(p).card)]
    assert len(seen) == len(set(seen))
    for value in seen:
        assert uuid.UUID(value).version == 4
        assert value == value.lower() == str(uuid.UUID(value))


@pytest.mark.parametrize("patient", ALL)
def test_selection_behavior_iff_suggestions(patient: Patient) -> None:
    for user in ("Practitioner/dr-1", "Patient/p1"):
        card = evaluate(patient, user_id=user).card
        if "suggestions" in card:
            assert card["suggestions"]
            assert card["selectionBehavior"] == "any"
        else:
            assert "selectionBehavior" not in card


@pytest.mark.parametrize("user", ["Patient/p1", "RelatedPerson/rp-7"])
def test_no_order_suggestions_for_patients_or_proxies(user: str) -> None:
    evaluated = evaluate(GRADE_3, user_id=user)
    card = evaluated.card
    assert "suggestions" not in card
    assert "selectionBehavior" not in card
    assert "Order suggestions are offered to clinicians only." in card["detail"]
    assert evaluate(GRADE_3, user_id="PractitionerRole/r1").card["suggestions"]


@pytest.mark.parametrize("user", [
    "https://ehr.example.org/fhir/Patient/p1", "https://ehr.example.org/fhir/RelatedPerson/rp-7",
    "http://ehr.example.org/fhir/Patient/p1/", " Patient/p1"])
def test_no_order_suggestions_for_absolute_patient_or_proxy_user_urls(user: str) -> None:
    # cds-hooks.md §8: a userId may be an absolute URL; patients and proxies get no orders
    # (review A11d)
    assert not may_order(user)
    card = evaluate(GRADE_3, user_id=user).card
    assert "suggestions" not in card


@pytest.mark.parametrize("user", [
    "Practitioner/dr-1", "https://ehr.example.org/fhir/Practitioner/dr-1",
    "https://ehr.example.org/fhir/PractitionerRole/r1", "https://ehr.example.org/Patient-portal/x"])
def test_clinician_users_may_order(user: str) -> None:
    assert may_order(user)


def test_source_link_and_override_reasons() -> None:
    card = evaluate(GRADE_2).card
    assert card["source"]["label"].startswith("ASTCT")
    assert card["source"]["url"] == "https://doi.org/10.1016/j.bbmt.2018.12.758"
    assert card["source"]["topic"]["system"]
    assert card["source"]["topic"]["code"]
    assert card["links"] == [{"label": "ASTCT consensus grading for CRS and ICANS (doi)",
                              "url": "https://doi.org/10.1016/j.bbmt.2018.12.758",
                              "type": "absolute"}]
    assert "p1" not in json.dumps(card["links"])
    codes = [r["code"] for r in card["overrideReasons"]]
    assert {"already-treated", "not-crs", "patient-declines"} <= set(codes)
    for reason in card["overrideReasons"]:
        assert set(reason) == {"system", "code", "display"}
        assert all(reason.values())


def test_extension_carries_the_astct_assessment_without_nulls() -> None:
    evaluated = evaluate(GRADE_3)
    extension = evaluated.card["extension"]
    assert list(extension) == [ASSESSMENT_EXTENSION]
    assessment = extension[ASSESSMENT_EXTENSION]
    assert assessment["criteria"] == "astct-2019-crs"
    assert assessment["grade"] == 3
    assert assessment["met"] is True
    assert find_empty_values(assessment) == []
    assert evaluated.result.astct.to_json()["evaluatedAt"] == assessment["evaluatedAt"]


def test_action_types_are_lowercase_create_with_object_resources() -> None:
    for suggestion in evaluate(GRADE_4).card["suggestions"]:
        assert suggestion["label"]
        for action in suggestion["actions"]:
            assert action["type"] == "create"
            assert action["description"]
            assert isinstance(action["resource"], dict)


def test_without_checks_there_are_no_suggestions() -> None:
    result = evaluate(GRADE_3).result
    cards = crs_cards(result, None, None, patient_id="p1", user_id="Practitioner/x",
                      unavailable={}, now=NOW)
    assert len(cards) == 1
    assert "suggestions" not in cards[0]
    assert "selectionBehavior" not in cards[0]
    assert "- Not evaluated for this card." in cards[0]["detail"]
    assert find_empty_values(cards[0]) == []
