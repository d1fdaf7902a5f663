"""Bispecific orders: premedication, step-up, prior CRS label actions (CC §3.7 [R]; issue 7)."""

from __future__ import annotations

import pytest

from criteria.bispecific import PastEpisode, premedication, prior_crs, step_up
from criteria.model import DrugClass, DrugSource
from criteria.order_checks import assess_orders
from criteria.rules import RuleSet
from tests.unit.criteria.builders import Patient, day, hours
from tests.unit.criteria.test_order_checks import NOW, draft, ready, with_data

TEC = draft("bispecific", "teclistamab", ref="MedicationRequest/tec")


def test_missing_steroid_premedication_gives_the_label_regimen_unconfirmed(
        rules: RuleSet) -> None:
    result = premedication(with_data(Patient().build(), drafts=(TEC,)), TEC, NOW, rules)
    assert (result.status, result.met) == ("fail", False)
    assert "dexamethasone 16 mg + diphenhydramine 50 mg" in result.finding
    assert any(a.startswith("unconfirmed threshold") for a in result.assumptions)


def test_steroid_in_this_signing_counts(rules: RuleSet) -> None:
    dex = draft("corticosteroid", "dexamethasone", ref="MedicationRequest/dex", dose="16")
    result = premedication(with_data(Patient().build(), drafts=(TEC, dex)), TEC, NOW, rules)
    assert result.status == "pass"
    assert "dexamethasone" in result.finding


def test_steroid_given_within_24_h_counts_and_older_does_not(rules: RuleSet) -> None:
    def given(ago: float) -> str:
        patient = Patient().drug(DrugClass.CORTICOSTEROID, "dexamethasone", NOW - hours(ago))
        return premedication(with_data(patient.build(), drafts=(TEC,)), TEC, NOW, rules).status

    assert given(24) == "pass"
    assert given(24.5) == "fail"


def test_unsigned_steroid_order_does_not_count(rules: RuleSet) -> None:
    patient = Patient().drug(DrugClass.CORTICOSTEROID, "dexamethasone", NOW - hours(2),
                             status="completed", source=DrugSource.ORDER)
    assert premedication(with_data(patient.build(), drafts=(TEC,)), TEC, NOW,
                         rules).status == "fail"


def test_no_pretreatment_in_the_reference_is_a_note(rules: RuleSet) -> None:
    linvo = draft("bispecific", "linvoseltamab")
    result = premedication(with_data(Patient().build(), drafts=(linvo,)), linvo, NOW, rules)
    assert result.status == "note"
    assert "check the label" in result.finding


@pytest.mark.parametrize("ingredient", ["teclistamab", "talquetamab", "elranatamab",
                                        "epcoritamab", "glofitamab", "mosunetuzumab",
                                        "tarlatamab", "blinatumomab"])
def test_every_bispecific_in_the_table_has_a_regimen(rules: RuleSet, ingredient: str) -> None:
    order = draft("bispecific", ingredient)
    result = premedication(with_data(Patient().build(), drafts=(order,)), order, NOW, rules)
    assert result.status == "fail"
    assert result.extra["label"]


def test_step_up_first_dose_and_later_dose(rules: RuleSet) -> None:
    first = step_up(Patient().build(), TEC, NOW, rules)
    assert first.extra["courseDose"] == 1
    assert "step-up" in first.finding
    later = step_up(Patient().bispecific(NOW - hours(72)).bispecific(NOW - hours(48)).build(),
                    TEC, NOW, rules)
    assert later.extra["courseDose"] == 3
    assert later.status == "note"


@pytest.mark.parametrize(("peaks", "status", "text"), [
    ((1,), "note", None),
    ((2,), "fail", "monitor more closely or admit"),
    ((3, 3), "fail", "recurrent grade 3"),
    ((4,), "fail", "discontinue after grade 4"),
])
def test_prior_crs_label_actions(rules: RuleSet, peaks: tuple[int, ...], status: str,
                                 text: str | None) -> None:
    history = tuple(PastEpisode(day(n), p, f"Observation/{n}") for n, p in enumerate(peaks))
    result = prior_crs(Patient().build(), NOW, rules, history, bispecific=True)
    assert result.status == status
    if text:
        assert text in result.finding
        assert any(a.startswith("unconfirmed threshold") for a in result.assumptions)


def test_prior_crs_is_only_reported_for_car_t(rules: RuleSet) -> None:
    history = (PastEpisode(day(0), 4, "Observation/1"),)
    toci = Patient().tocilizumab(NOW - hours(100)).build()
    result = prior_crs(toci, NOW, rules, history, bispecific=False)
    assert result.status == "note"
    assert "tocilizumab given 1x" in result.finding
    assert "peak grade 4" in result.finding


def test_prior_crs_found_from_the_record(rules: RuleSet) -> None:
    # Teclistamab dose on day 0; fever 38.6 °C on day 1 (grade 1), resolved; new dose day 7.
    patient = ready(Patient().bispecific(day(-7)).temp(day(-6), "38.6").temp(day(-5), "37"))
    timeline = with_data(patient.build(), drafts=(TEC,))
    check = assess_orders(timeline, NOW, rules)[0]
    prior = next(r for r in check.results if r.check == "prior-crs")
    assert prior.status == "note"
    assert prior.extra["episodes"][0]["peakGrade"] == 1
