"""Card summary: grade and deciding findings, ≤139 code points (reference/cds-hooks.md §5)."""

from __future__ import annotations

import itertools
import unicodedata
from decimal import Decimal

import pytest

from cards.summary import MAX_SUMMARY, build_summary
from cards.view import CardFacts
from criteria.model import DrugClass, OxygenModality
from tests.unit.cards.builders import (
    GRADE_1,
    GRADE_2,
    GRADE_3,
    GRADE_4,
    Patient,
    drug,
    evaluate,
    o2,
    pressor,
)


@pytest.mark.parametrize(
    ("patient", "summary"),
    [
        (GRADE_1, "CRS grade 1 (ASTCT): 39.4 °C; day +3"),
        (GRADE_2, "CRS grade 2 (ASTCT): 39.4 °C, 4 L/min nasal cannula O2; day +3"),
        (GRADE_3, "CRS grade 3 (ASTCT): 39.4 °C, norepinephrine, 8 L/min high-flow O2; day +3"),
        (GRADE_4, "CRS grade 4 (ASTCT): 39.4 °C, norepinephrine, BiPAP; day +3"),
    ],
)
def test_summary_names_grade_and_deciding_findings(patient: Patient, summary: str) -> None:
    assert evaluate(patient).card["summary"] == summary


def test_lower_bound_grade_reads_at_least() -> None:
    card = evaluate(Patient(oxygen=o2(OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW))).card
    assert card["summary"] == ("CRS grade ≥2 (ASTCT): 39.4 °C, nasal cannula O2, flow unknown; "
                               "day +3")


def test_masked_fever_names_the_drug() -> None:
    masked = Patient(temps=((30, "38.9"), (2, "37.0")),
                     drugs=(drug(DrugClass.TOCILIZUMAB, "tocilizumab", 29),
                            pressor("norepinephrine", 5)))
    summary = evaluate(masked).card["summary"]
    assert summary == "CRS grade 3 (ASTCT): fever masked by tocilizumab, norepinephrine; day +3"


def test_two_pressors_and_vasopressin_are_listed() -> None:
    patient = Patient(drugs=(pressor("norepinephrine", 5), pressor("epinephrine", 3),
                             drug(DrugClass.VASOPRESSIN_CLASS, "vasopressin", 3,
                                  continuous=True)))
    summary = evaluate(patient).card["summary"]
    assert summary == ("CRS grade 4 (ASTCT): 39.4 °C, norepinephrine + epinephrine + vasopressin; "
                       "day +3")


LONG = "x" * 60
PRESSOR_SETS = [(), ("norepinephrine",),
                ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "angiotensin ii"),
                (LONG, LONG, LONG)]


@pytest.mark.parametrize(
    ("pressors", "vasopressin", "masked", "lower_bound", "modality"),
    list(itertools.product(PRESSOR_SETS, [(), ("vasopressin", "terlipressin")], [False, True],
                           [False, True], [None, *OxygenModality])),
)
def test_summary_always_fits(pressors: tuple[str, ...], vasopressin: tuple[str, ...],
                             masked: bool, lower_bound: bool,
                             modality: OxygenModality | None) -> None:
    masking = drug(DrugClass.CORTICOSTEROID, "methylprednisolone sodium succinate " + LONG, 20)
    facts = CardFacts(
        grade=4, lower_bound=lower_bound,
        fever_c=None if masked else Decimal("41.15"), masked_by=masking if masked else None,
        pressors=pressors, vasopressin=vasopressin, changeover=bool(pressors),
        oxygen=o2(modality, "59.75") if modality else None, hypotension=not pressors,
        day_post_index=1234)
    summary = build_summary(facts)
    assert len(summary) <= MAX_SUMMARY
    assert summary == unicodedata.normalize("NFC", summary)
    assert summary.startswith("CRS grade ≥4 (ASTCT)" if lower_bound else "CRS grade 4 (ASTCT)")


def test_hypotension_without_pressor_is_named() -> None:
    patient = Patient(sbp=((3, "84"), (2.5, "82")))
    assert evaluate(patient).card["summary"] == "CRS grade 2 (ASTCT): 39.4 °C, hypotension; day +3"


@pytest.mark.parametrize(("flow", "phrase"), [
    ("6.001", "6.001 L/min high-flow O2"), ("6.0", "6 L/min nasal cannula O2"),
    ("6.50", "6.5 L/min high-flow O2"), ("2", "2 L/min nasal cannula O2")])
def test_flow_is_printed_as_recorded_never_rounded_across_6(flow: str, phrase: str) -> None:
    # CC §1.1 item 4: 6.0 L/min is grade 2, above 6.0 is 3; the summary must never show a
    # grade 3 flow as "6 L/min" (review A11c)
    modality = (OxygenModality.HIGH_FLOW_CANNULA if Decimal(flow) > 6
                else OxygenModality.LOW_FLOW_CANNULA)
    summary = evaluate(Patient(oxygen=o2(modality, flow))).card["summary"]
    assert phrase in summary
