"""Card detail: evidence, episode, caveats, gaps, secondary grades and management with sources."""

from __future__ import annotations

import re

import pytest

from cards.view import md
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

CAVEAT = ("ASTCT counts fever, hypotension and hypoxia only when they are not attributable to "
          "another cause (e.g. sepsis, bleeding, cardiac).")
MASKED = Patient(temps=((30, "38.9"), (2, "37.0")),
                 drugs=(drug(DrugClass.TOCILIZUMAB, "tocilizumab", 29),
                        pressor("norepinephrine", 5)))


def test_evidence_table_lists_finding_value_and_time() -> None:
    detail = evaluate(GRADE_3).card["detail"]
    assert "| Finding | Value | Time |\n|---|---|---|" in detail
    # Parentheses inside cells are markdown-escaped (review A11e); they render as "(" and ")"
    assert r"| Temperature | 39.4 °C \(24 h maximum; fever\) | 2024-05-03 10:00 UTC |" in detail
    pattern = r"\| norepinephrine \| 8 µg/min \\\(continuous infusion.*\| 2024-05-03 07:00 UTC"
    assert re.search(pattern, detail)
    assert "| O2 support | high-flow O2 | 2024-05-03 11:00 UTC |" in detail
    assert "| O2 flow | 8 L/min | 2024-05-03 11:00 UTC |" in detail


def test_episode_view() -> None:
    detail = evaluate(GRADE_3).card["detail"]
    assert "- Onset: 2024-05-02 06:00 UTC" in detail
    assert "- Peak grade 3, current grade 3, trend rising" in detail
    assert ("- Day +3 since the last CAR-T/bispecific dose (axicabtagene ciloleucel "
            r"\(Yescarta\), 2024-04-30 12:00 UTC)") in detail


@pytest.mark.parametrize("patient", [GRADE_1, GRADE_2, GRADE_3, GRADE_4, MASKED])
def test_every_card_states_caveat_and_infection_work_up(patient: Patient) -> None:
    detail = evaluate(patient).card["detail"]
    assert CAVEAT in detail
    assert "Infection both triggers and mimics CRS: do an infection work-up" in detail
    assert "**Infection work-up:** Sepsis work-up (blood cultures) and empirical antibiotics" \
        in detail


def test_masked_fever_wording() -> None:
    detail = evaluate(MASKED).card["detail"]
    assert "Fever masked by tocilizumab at 2024-05-02 07:00 UTC" in detail


@pytest.mark.parametrize(
    ("patient", "grade", "expected", "absent"),
    [
        (GRADE_1, 1, ["Consider 1 dose of tocilizumab 8 mg/kg. *(NCCN CART-6)*",
                      "G-CSF if neutropenic (not GM-CSF)"], "intensive care"),
        (GRADE_2, 2, ["Dexamethasone 10 mg IV q12-24h, by product", "Fluid boluses"],
         "intensive care"),
        (GRADE_3, 3, ["**Escalation:** Transfer to intensive care",
                      "Dexamethasone 10 mg IV q6h; rapid taper", "NCCN CART-7 / ASCO"], None),
        (GRADE_4, 4, ["**Escalation:** Intensive care",
                      "Methylprednisolone 500 mg IV q12h x 3 d"], None),
    ],
)
def test_management_for_the_grade_with_sources(patient: Patient, grade: int,
                                               expected: list[str], absent: str | None) -> None:
    detail = evaluate(patient).card["detail"]
    section = detail.split(f"**Management for grade {grade}**", 1)[1]
    section = section.split("**Tocilizumab now**")[0]
    for text in expected:
        assert text in section
    if absent:
        assert absent not in section
    for line in section.strip().splitlines():
        assert line.endswith(")*"), line  # every point names its source
    refractory = detail.split("**If refractory**", 1)[1]
    assert "Siltuximab 11 mg/kg IV over 1 h" in refractory
    assert "Anakinra 100-200 mg SC or IV q6-12h" in refractory
    assert "unconfirmed" in refractory


def test_secondary_grades_are_shown() -> None:
    detail = evaluate(GRADE_3).card["detail"]
    assert "- Lee 2014 (modified CTCAE): grade " in detail
    assert "- CTCAE v5.0 (unconfirmed): grade " in detail


def test_lower_bound_shows_the_raise_hint() -> None:
    detail = evaluate(Patient(oxygen=o2(OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW))).card["detail"]
    assert detail.startswith("**CRS grade ≥2 (ASTCT 2019).**")
    assert "- Grade is a lower bound (lowest the data support): ≥2; 3 if flow >6 L/min" in detail
    assert "- Flag: flow missing; grade 3 if >6 L/min" in detail


def test_unavailable_data_and_assumptions_are_named() -> None:
    detail = evaluate(GRADE_3, unavailable={"labs": "prefetch OperationOutcome"}).card["detail"]
    assert "- Unavailable: labs (prefetch OperationOutcome)" in detail
    assert "- assumption: CRS screening window after a CAR-T infusion" in detail
    assert "- unconfirmed: ASTCT excludes oxygen given for comfort" in detail


def test_markdown_has_no_raw_html() -> None:
    for patient in (GRADE_1, GRADE_3, MASKED):
        detail = evaluate(patient).card["detail"]
        assert not re.search(r"<[A-Za-z/!?]", detail)


def test_md_escapes_tags_and_pipes() -> None:
    assert md("a <b>|c") == r"a \<b>\|c"
    assert md("SBP <90") == "SBP <90"


def test_secondary_lower_bound_grades_read_at_least_with_what_would_raise_them() -> None:
    # CC §0 conventions: a lower-bound grade reads "≥N" with what would raise it (review A11b)
    detail = evaluate(GRADE_3).card["detail"]
    assert ("- Lee 2014 (modified CTCAE): grade ≥2; higher with organ toxicity "
            r"\(not assessed\); 3 if FiO2 ≥40 %") in detail
    assert "- CTCAE v5.0 (unconfirmed): grade 3; unconfirmed" in detail  # "3 if" cannot raise 3


def test_md_escapes_link_image_and_emphasis_syntax() -> None:
    # EHR-supplied text cannot inject links or images into the card (review A11e)
    assert md("[x](https://evil.example)") == r"\[x\]\(https://evil.example\)"
    assert md("![i](https://evil.example/p.png)") == r"\!\[i\]\(https://evil.example/p.png\)"
    assert md("*b* _i_ `c`") == r"\*b\* \_i\_ \`c\`"
    assert md(r"\[x]") == r"\\\[x\]"  # an escape in the input cannot cancel ours


def test_a_drug_product_name_with_a_link_is_escaped_in_the_detail() -> None:
    product = "Yescarta](https://evil.example) ![x](https://evil.example/x.png"
    masked = Patient(temps=((30, "38.9"), (2, "37.0")),
                     drugs=(drug(DrugClass.TOCILIZUMAB, "tocilizumab", 29, product=product),
                            pressor("norepinephrine", 5)))
    detail = evaluate(masked).card["detail"]
    assert "](https://evil" not in detail
    assert "![x]" not in detail


def test_oxygen_flow_is_shown_as_recorded() -> None:
    # CC §1.1 item 4: 6.0 L/min is grade 2, anything above is 3; 6.001 must never read "6"
    detail = evaluate(Patient(oxygen=o2(OxygenModality.HIGH_FLOW_CANNULA, "6.001"))).card["detail"]
    assert "| O2 flow | 6.001 L/min | 2024-05-03 11:00 UTC |" in detail


@pytest.mark.parametrize("value", ["1e30", "1e-30"])
def test_huge_or_tiny_recorded_values_never_break_the_card(value: str) -> None:
    # Review B1: a unit error or typo must not raise while formatting
    patient = Patient(temps=((30, "38.6"), (2, "39.0"), (1, value)),
                      oxygen=o2(OxygenModality.LOW_FLOW_CANNULA, value))
    card = evaluate(patient).card
    assert "e+30" in card["detail"] or "e-30" in card["detail"]
    assert len(card["summary"]) <= 139
