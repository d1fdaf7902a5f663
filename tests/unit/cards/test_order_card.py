"""Order-sign cards: indicator, summary, JSON rules, suggestions (cds-hooks.md §1, §5, §8)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cards.json_rules import find_empty_values
from cards.order_card import order_cards
from cards.order_detail import build_summary
from criteria.model import DrugSource
from criteria.order_checks import assess_orders
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.builders import Patient, hours
from tests.unit.criteria.test_order_checks import NOW, baseline, draft, ready, with_data

RULES = load_rules()
TOCI_RAW: dict[str, Any] = {
    "resourceType": "MedicationRequest", "id": "t1", "status": "draft", "intent": "order",
    "medicationCodeableConcept": {"text": "Tofidence 400 mg/20 mL"},
    "subject": {"reference": "Patient/p1"}, "authoredOn": "2025-03-03",
    "note": [{"text": "PRN CRS"}],
    "dosageInstruction": [{"text": "900 mg IV over 60 min",
                           "route": {"text": "intravenous"},
                           "doseAndRate": [{"doseQuantity": {"value": 900, "unit": "mg"}}]}]}


def cards_for(timeline: Any, user: str = "Practitioner/1", rules: RuleSet = RULES,
              drafts: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    checks = assess_orders(timeline, NOW, rules)
    return order_cards(checks, drafts if drafts is not None else
                       {"MedicationRequest/t1": copy.deepcopy(TOCI_RAW)},
                       patient_id="p1", user_id=user, unavailable={}, rules=rules)


def cart(patient: Any = None, **kw: Any) -> Any:
    return with_data((patient or ready()).build(), drafts=(
        draft("car-t", "tisagenlecleucel", product="Kymriah"),), **kw)


def toci_order(dose: str = "900", patient: Any = None) -> Any:
    order = draft("tocilizumab", "tocilizumab", ref="MedicationRequest/t1", dose=dose,
                  product="Tofidence 400 mg/20 mL")
    return with_data((patient or ready(Patient().car_t(NOW - hours(48)))).build(),
                     drafts=(order,))


def assert_card_rules(card: dict[str, Any]) -> None:
    assert find_empty_values(card) == []
    assert len(card["summary"]) <= 139
    uuid.UUID(card["uuid"], version=4)
    assert ("suggestions" in card) == ("selectionBehavior" in card)
    assert card["source"]["label"]
    assert card["source"]["url"].startswith("https://")
    assert all(r["system"].startswith("urn:crs-cds:codesystem:") and r["code"] and r["display"]
               for r in card["overrideReasons"])
    assert all(link["url"].startswith("https://") and link["type"] == "absolute"
               for link in card["links"])
    assert "<" not in card["detail"].replace("\\<", "")
    assessments = card["extension"]["crs-cds.assessments"]
    assert assessments
    assert all(a["criteria"] in ("cart-preinfusion", "bispecific-preinfusion",
                                                 "tocilizumab-order") for a in assessments)


def test_no_card_when_every_check_passes() -> None:
    # Two signed tocilizumab orders on record meet the local readiness rule (default 2).
    patient = ready()
    for ref in ("MedicationRequest/r1", "MedicationRequest/r2"):
        patient.tocilizumab(NOW - hours(1), status="active", source=DrugSource.ORDER,
                            reference=ref)
    timeline = with_data(patient.build(), labs=baseline(), drafts=(
        draft("car-t", "tisagenlecleucel"),))
    assert cards_for(timeline, drafts={}) == []
    assert all(c.worst in ("pass", "note") for c in assess_orders(timeline, NOW, RULES))


def test_info_summary_when_a_site_asks_for_it() -> None:
    timeline = with_data(ready().build(), labs=baseline(), drafts=(
        draft("car-t", "tisagenlecleucel"),))
    rules = load_rules({"order.tocilizumab_on_hand": 0, "order.info_when_clear": True})
    assert cards_for(timeline, rules=load_rules({"order.tocilizumab_on_hand": 0})) == []
    card = cards_for(timeline, rules=rules)[0]
    assert card["indicator"] == "info"
    assert card["summary"] == "Tisagenlecleucel infusion: pre-infusion checks passed"
    assert "suggestions" not in card
    assert_card_rules(card)


def test_failed_checks_give_a_warning_with_lab_suggestions() -> None:
    card = cards_for(cart(ready()))[0]
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Before Kymriah infusion: no CRP, ferritin in 3 d")
    assert card["selectionBehavior"] == "any"
    codes = []
    for s in card["suggestions"]:
        (action,) = s["actions"]
        assert action["type"] == "create"
        assert action["description"]
        ServiceRequest.model_validate(action["resource"])
        codes.append(action["resource"]["code"]["coding"][0]["code"])
    assert codes == ["1988-5", "2276-4"]
    assert_card_rules(card)


def test_fever_or_infection_is_critical() -> None:
    card = cards_for(cart(ready().temp(NOW - hours(2), "38.4"), labs=baseline()))[0]
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Delay Kymriah infusion: fever 38.4 °C in 48 h")
    assert "do not infuse with active infection" in card["detail"]


def test_readiness_is_worded_as_local_policy_never_a_federal_requirement() -> None:
    card = cards_for(cart(labs=baseline()))[0]
    assert card["indicator"] == "info"
    assert "not a federal requirement" in card["detail"]
    assert "removed the CAR-T REMS in June 2025" in card["detail"]
    lowered = card["detail"].lower()
    for claim in ("rems requires", "required by the fda", "fda requires", "rems requirement",
                  "is a federal requirement"):
        assert claim not in lowered


def test_unconfirmed_items_are_flagged_on_the_card() -> None:
    order = draft("bispecific", "teclistamab", product="Tecvayli")
    card = cards_for(with_data(ready().build(), labs=baseline(), drafts=(order,)))[0]
    assert "no steroid premedication" in card["summary"]
    assert "unconfirmed threshold: label pretreatment" in card["detail"]
    assert "Tecvayli" in card["links"][0]["label"]
    assert_card_rules(card)


def test_patient_user_gets_no_order_suggestions() -> None:
    card = cards_for(cart(), user="Patient/p1")[0]
    assert "suggestions" not in card
    assert "selectionBehavior" not in card
    assert "clinicians only" in card["detail"]


def test_dose_over_cap_updates_the_whole_draft_or_removes_it() -> None:
    card = cards_for(toci_order("900"))[0]
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Tocilizumab order: 900 mg exceeds 800 mg cap")
    assert card["selectionBehavior"] == "at-most-one"
    update, delete = card["suggestions"]
    (action,) = update["actions"]
    assert action["type"] == "update"
    resource = action["resource"]
    MedicationRequest.model_validate(resource)
    dose = resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert dose == {"value": 560, "unit": "mg", "system": "http://unitsofmeasure.org",
                    "code": "mg"}
    assert resource["dosageInstruction"][0]["text"] == "560 mg IV over 60 min"
    expected = copy.deepcopy(TOCI_RAW)
    del expected["dosageInstruction"]
    assert {k: v for k, v in resource.items() if k != "dosageInstruction"} == expected
    assert resource["dosageInstruction"][0]["route"] == {"text": "intravenous"}
    assert delete["actions"] == [{"type": "delete", "description":
                                  "Remove the draft order MedicationRequest/t1",
                                  "resourceId": "MedicationRequest/t1"}]
    assert update["uuid"] != delete["uuid"] != card["uuid"]
    assert_card_rules(card)


def test_matching_dose_gives_no_card_and_leaves_the_draft_alone() -> None:
    drafts = {"MedicationRequest/t1": copy.deepcopy(TOCI_RAW)}
    assert cards_for(toci_order("560"), drafts=drafts) == []
    assert drafts["MedicationRequest/t1"] == TOCI_RAW


def test_blocked_by_the_8_h_rule_offers_removal_only() -> None:
    patient = ready(Patient().car_t(NOW - hours(48)).tocilizumab(NOW - hours(5)))
    card = cards_for(toci_order("560", patient))[0]
    assert card["indicator"] == "warning"
    assert "at least 8 h required" in card["summary"]
    assert [a["type"] for s in card["suggestions"] for a in s["actions"]] == ["delete"]
    assert card["selectionBehavior"] == "any"


@pytest.mark.parametrize("product", ["x" * 200, "Kymriah"])
def test_summary_fits_with_many_findings(product: str) -> None:
    patient = Patient().temp(NOW - hours(1), "39.1")
    timeline = with_data(patient.build(), drafts=(
        draft("bispecific", "teclistamab", product=product),))
    checks = assess_orders(timeline, NOW, RULES)
    summary = build_summary(checks[0])
    assert len(summary) <= 139
    assert summary.startswith("Delay ")
