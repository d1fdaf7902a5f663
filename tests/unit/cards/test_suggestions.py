"""Suggestions: tocilizumab at the weight-based dose within limits, steroid per grade, FHIR R4."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cards.crs_card import crs_cards
from cards.treatment import every
from cards.view import md
from criteria.model import DrugClass, OxygenModality
from criteria.rules import load_rules
from criteria.steroids import steroid_for_grade
from fhir_mappers.r4 import MedicationRequest
from tests.unit.cards.builders import (
    CLINICIAN,
    GRADE_1,
    GRADE_2,
    GRADE_3,
    GRADE_4,
    NOW,
    Patient,
    drug,
    evaluate,
    o2,
)

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _by_drug(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for suggestion in card.get("suggestions", []):
        resource = suggestion["actions"][0]["resource"]
        out[resource["medicationCodeableConcept"]["text"]] = resource
    return out


def _dose(resource: dict[str, Any]) -> Any:
    return resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"]


@pytest.mark.parametrize(
    ("weight", "born", "dose", "label"),
    [
        ("22", date(2018, 1, 1), 264, "Tocilizumab 264 mg IV over 60 min (12 mg/kg × 22 kg)"),
        ("110", date(1970, 1, 1), 800,
         "Tocilizumab 800 mg IV over 60 min (8 mg/kg × 110 kg, capped)"),
        ("70", date(1970, 1, 1), 560, "Tocilizumab 560 mg IV over 60 min (8 mg/kg × 70 kg)"),
    ],
)
def test_tocilizumab_dose(weight: str, born: date, dose: int, label: str) -> None:
    card = evaluate(Patient(weight_kg=weight, born=born,
                            oxygen=o2(OxygenModality.LOW_FLOW_CANNULA, "4"))).card
    labels = [s["label"] for s in card["suggestions"]]
    assert label in labels
    resource = _by_drug(card)["tocilizumab"]
    assert _dose(resource) == dose
    assert resource["medicationCodeableConcept"]["coding"] == [
        {"system": RXNORM, "code": "612865", "display": "tocilizumab"}]
    dosage = resource["dosageInstruction"][0]
    assert dosage["route"]["coding"][0]["code"] == "47625008"
    assert dosage["timing"]["repeat"] == {"duration": 60, "durationUnit": "min"}
    assert f"Dosing weight {weight} kg recorded 2024-05-01 12:00 UTC" in resource["note"][0]["text"]
    assert f"- Suggested: {label}" in card["detail"]


@pytest.mark.parametrize(
    ("patient", "reason"),
    [
        (Patient(drugs=(drug(DrugClass.TOCILIZUMAB, "tocilizumab", 2),)),
         "last dose 2 h ago; at least 8 h required"),
        (Patient(drugs=tuple(drug(DrugClass.TOCILIZUMAB, "tocilizumab", h)
                             for h in (24, 16, 8))),
         "3 doses in the last 24 h (closed window); at most 3"),
        (Patient(temps=((60, "38.6"), (2, "39.4")),
                 drugs=tuple(drug(DrugClass.TOCILIZUMAB, "tocilizumab", h)
                             for h in (50, 40, 30, 20))),
         "4 doses in this CRS episode; at most 4"),
        (Patient(weight_kg=None), "weight missing (none in the last 30 d); no dose"),
        (Patient(weight_kg="10", born=date(2023, 6, 1)),
         "no labelled tocilizumab dose under 2 years"),
    ],
)
def test_tocilizumab_absent_with_the_blocking_reason(patient: Patient, reason: str) -> None:
    evaluated = evaluate(patient)
    assert reason in evaluated.toci.blocks
    card = evaluated.card
    assert "tocilizumab" not in _by_drug(card)
    assert "- Not suggested: " in card["detail"]
    assert md(reason) in card["detail"]


@pytest.mark.parametrize(
    ("patient", "drug_text", "dose", "repeat"),
    [
        (GRADE_2, "dexamethasone", 10, {"frequency": 1, "period": 12, "periodMax": 24,
                                        "periodUnit": "h"}),
        (GRADE_3, "dexamethasone", 10, {"frequency": 1, "period": 6, "periodUnit": "h"}),
        (GRADE_4, "methylprednisolone", 500, {"frequency": 1, "period": 12, "periodUnit": "h"}),
    ],
)
def test_steroid_suggestion_per_grade(patient: Patient, drug_text: str, dose: int,
                                      repeat: dict[str, Any]) -> None:
    resource = _by_drug(evaluate(patient).card)[drug_text]
    assert _dose(resource) == dose
    dosage = resource["dosageInstruction"][0]
    assert dosage["timing"]["repeat"] == repeat
    assert dosage["route"]["text"] == "intravenous"
    assert "coding" not in resource["medicationCodeableConcept"]  # RxNorm code is [R]


def test_steroid_labels() -> None:
    assert "Dexamethasone 10 mg IV q6h" in [
        s["label"] for s in evaluate(GRADE_3).card["suggestions"]]
    assert "Methylprednisolone 500 mg IV q12h" in [
        s["label"] for s in evaluate(GRADE_4).card["suggestions"]]


def test_grade_1_conditional_steroid_is_advice_only() -> None:
    card = evaluate(GRADE_1).card
    assert "dexamethasone" not in _by_drug(card)
    assert ("- Consider dexamethasone 10 mg IV q24h if onset <72 h after infusion"
            in card["detail"])


@pytest.mark.parametrize("patient", [GRADE_1, GRADE_2, GRADE_3, GRADE_4])
def test_each_resource_revalidates_as_an_r4_medication_request(patient: Patient) -> None:
    for resource in _by_drug(evaluate(patient).card).values():
        model = MedicationRequest.model_validate(resource)
        assert model.status == "draft"
        assert model.intent == "proposal"
        assert model.subject.reference == "Patient/p1"
        assert resource["reasonCode"][0]["text"].startswith("Cytokine release syndrome, ASTCT")
        assert resource["note"][0]["text"]
        quantity = resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
        assert quantity["unit"] == quantity["code"] == "mg"


@pytest.mark.parametrize(("text", "hours", "max_hours"),
                         [("q6h", 6, None), ("q12h", 12, None), ("q12-24h, by product", 12, 24)])
def test_every_parses_intervals(text: str, hours: int, max_hours: int | None) -> None:
    interval = every(text)
    assert interval is not None
    assert (interval.hours, interval.max_hours) == (hours, max_hours)


def test_every_refuses_other_forms() -> None:
    assert every("twice daily") is None


def test_dose_is_a_plain_json_number() -> None:
    resource = _by_drug(evaluate(GRADE_3).card)["tocilizumab"]
    assert not isinstance(_dose(resource), Decimal)


def test_grade_1_tocilizumab_is_advice_only() -> None:
    # NCCN CART-6 (CC §3.2): grade 1 "Consider 1 dose of tocilizumab" -> detail, no order
    # suggestion; the same rule as the conditional grade 1 steroid (review A11a)
    evaluated = evaluate(GRADE_1)
    assert evaluated.toci.allowed
    card = evaluated.card
    assert "tocilizumab" not in _by_drug(card)
    assert "suggestions" not in card
    assert "- Consider: Tocilizumab 560 mg IV over 60 min (8 mg/kg × 70 kg)" in card["detail"]
    assert ("- No order suggestion: at grade 1 the guideline says consider 1 dose of "
            "tocilizumab; decide at the bedside.") in card["detail"]
    assert "tocilizumab" in _by_drug(evaluate(GRADE_2).card)


def _cards_with_warnings(patient: Patient, codes: tuple[str, ...]) -> dict[str, Any]:
    evaluated = evaluate(patient)
    rules = load_rules()
    steroid = steroid_for_grade(evaluated.result.astct.grade or 0, rules)
    (card,) = crs_cards(evaluated.result, evaluated.toci, steroid, patient_id="p1",
                        user_id=CLINICIAN, unavailable={}, now=NOW, record_warnings=codes)
    return card


def test_an_unreadable_tocilizumab_record_withholds_the_suggestion() -> None:
    # CC §3.1 counted doses: a record that could not be read may be a dose the 8 h / 24 h /
    # episode limits cannot count, so no order is proposed (review A6)
    card = _cards_with_warnings(GRADE_3, ("tocilizumab-unreadable",))
    assert "tocilizumab" not in _by_drug(card)
    assert "dexamethasone" in _by_drug(card)  # the steroid is unaffected
    assert ("- Not suggested: a tocilizumab record could not be read; check the MAR before "
            "ordering.") in card["detail"]
    assert "- Dose by weight, if the MAR allows another dose: Tocilizumab 560 mg" in card["detail"]


def test_other_record_warnings_leave_the_tocilizumab_suggestion() -> None:
    card = _cards_with_warnings(GRADE_3, ("unknown-unit",))
    assert "tocilizumab" in _by_drug(card)
