"""The hyperinflammation card: indicator, summary, detail, lab suggestions, JSON rules."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cards.hyperinflammation import EXTENSION, hyperinflammation_cards
from cards.json_rules import find_empty_values
from criteria.crs import assess_crs
from criteria.hyperinflammation import HyperinflammationResult, assess_hyperinflammation
from criteria.rules import RuleSet, load_rules
from tests.unit.criteria.hyper_builders import DAY0, Hyper, day, hours

NOW = day(11, 12)
RULES = load_rules()


def result(p: Hyper, rules: RuleSet = RULES, now: Any = NOW) -> HyperinflammationResult:
    t = p.build()
    return assess_hyperinflammation(t, now, rules, assess_crs(t, now, rules))


def cards(p: Hyper, user: str = "Practitioner/dr-1", rules: RuleSet = RULES,
          now: Any = NOW) -> list[dict[str, Any]]:
    return hyperinflammation_cards(result(p, rules, now), patient_id="p1", user_id=user,
                                   unavailable={}, now=now)


def hlh_case() -> Hyper:
    """No IEC therapy: HScore 192 + HLH-2004 met (fever, cytopenias, fibrinogen, ferritin,
    splenomegaly)."""
    return (Hyper().temp(day(11, 10), "39.8").condition("splenomegaly")
            .labs(day(11, 6), haemoglobin="8.0", wbc="2.0", platelets=50, neutrophils="0.5",
                  ferritin=4200, triglycerides="274.6", fibrinogen=180, ast=25)
            .lab("ferritin", day(10, 6), 3000))


def iechs_case() -> Hyper:
    p = Hyper().car_t()
    p.lab("ferritin", DAY0 - hours(20), 400, high=300)
    p.lab("platelets", DAY0 - hours(20), 180, low=150)
    p.temp(day(2, 8), "38.9")
    for d in (9, 10, 11):
        p.temp(day(d, 6), "37.1")
    p.lab("ferritin", day(10, 9), 9800, high=300).lab("ferritin", day(11, 9), 12400, high=300)
    return p.lab("platelets", day(11, 9), 40, low=150)


def test_no_card_without_a_finding() -> None:
    assert cards(Hyper().temp(day(11, 10), "37.0").lab("ferritin", day(11, 6), 200)) == []


def test_hscore_card_is_a_warning_naming_the_score() -> None:
    (card,) = cards(hlh_case())
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("HLH-like syndrome likely: HScore ≥")
    assert "(≥" in card["summary"]
    assert "ferritin 4,200" in card["summary"]
    assert len(card["summary"]) <= 139
    assert find_empty_values(card) == []
    assert "Would decide" in card["detail"]
    assert "Treat the cause" in card["detail"]
    assert "anakinra" in card["detail"]
    assert "JAK inhibitors" in card["detail"]
    assert "IL-6 blockade" in card["detail"]
    assert "Ferritin and CRP trend" in card["detail"]


def test_extension_carries_every_assessment() -> None:
    (card,) = cards(hlh_case())
    names = [a["criteria"] for a in card["extension"][EXTENSION]]
    assert names == ["hscore-2014", "hlh-2004", "iec-hs-2023", "carhlh-2018", "covid-css-2021",
                     "mas-sjia-2016", "easix", "m-easix"]
    hscore = card["extension"][EXTENSION][0]
    assert hscore["scoreRange"][0] == hscore["score"]
    assert "probability" in hscore


def test_lab_suggestions_are_service_requests_one_per_lab() -> None:
    # HLH-2004 possible (4 met) and HScore 137-... undecided: the missing labs are suggested
    p = Hyper().temp(day(11, 10), "38.6").labs(
        day(11, 6), haemoglobin="8.0", platelets=50, ferritin=12000, fibrinogen=120)
    (card,) = cards(p)
    assert card["selectionBehavior"] == "any"
    labels = [s["label"] for s in card["suggestions"]]
    assert len(labels) == len(set(labels))
    assert "Order Triglycerides" in labels
    assert any("IL-2" in label for label in labels)
    for s in card["suggestions"]:
        (action,) = s["actions"]
        assert action["type"] == "create"
        model = ServiceRequest.model_validate(action["resource"])
        assert (model.status, model.intent) == ("draft", "proposal")
    uuids = [card["uuid"], *(s["uuid"] for s in card["suggestions"])]
    assert len(set(uuids)) == len(uuids)


def test_patient_user_gets_no_orders() -> None:
    (card,) = cards(hlh_case(), user="Patient/p1")
    assert "suggestions" not in card
    assert "selectionBehavior" not in card


def test_override_reasons_and_links() -> None:
    (card,) = cards(hlh_case())
    assert all(r["system"].startswith("urn:crs-cds:codesystem:") and r["code"] and r["display"]
               for r in card["overrideReasons"])
    assert card["source"]["label"]
    assert card["source"]["url"].startswith("https://")
    assert all(link["type"] == "absolute" for link in card["links"])


def test_iechs_card_leads_and_hlh_possible_is_information_only() -> None:
    (card,) = cards(iechs_case())
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("IEC-HS likely, grade ≥1")
    assert "ferritin 12,400" in card["summary"]
    assert "rising" in card["summary"]
    detail = card["detail"]
    assert detail.index("IEC-HS (unconfirmed)") < detail.index("**HLH-2004")
    assert "information only" in detail
    assert "not validated after IEC therapy" in detail


def test_iechs_grade_4_is_critical() -> None:
    p = iechs_case().infusion("norepinephrine", day(11, 10), rate="8")
    (card,) = cards(p)
    assert card["indicator"] == "critical"


def test_hlh_possible_in_the_iec_window_alone_gives_no_card() -> None:
    # §2.1 example 3: day 6 after CAR-T, 3 met + 4 unknown: info in the detail only, no warning
    p = (Hyper().car_t().temp(day(6, 10), "38.6")
         .labs(day(6, 6), neutrophils="0.4", platelets=45, ferritin=3100, triglycerides=150,
               fibrinogen=300))
    r = result(p, now=day(6, 12))
    assert r.get("hlh-2004").met is None
    assert "hlh-2004" not in r.strengths


def test_hlh_possible_outside_the_iec_window_is_info() -> None:
    p = (Hyper().temp(day(11, 10), "38.6")
         .labs(day(11, 6), neutrophils="0.4", platelets=45, ferritin=3100, fibrinogen=120))
    (card,) = cards(p)
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Possible HLH: HLH-2004 4 of 8 met")


def test_carhlh_is_display_only_unless_enabled() -> None:
    p = (Hyper().car_t().lab("ferritin", day(3, 6), 15000).lab("ast", day(4, 6), 300, high=40)
         .condition("pulmonary-oedema"))
    assert cards(p, now=day(4, 12)) == []
    site = load_rules({"carhlh.display_only": False})
    (card,) = cards(p, rules=site, now=day(4, 12))
    assert card["indicator"] == "critical"
    assert "unconfirmed" in card["summary"]


@pytest.mark.parametrize("name", ["hlh_case", "iechs_case"])
def test_summary_fits_and_has_no_empty_values(name: str) -> None:
    (card,) = cards(globals()[name]())
    assert len(card["summary"]) <= 139
    assert find_empty_values(card) == []
