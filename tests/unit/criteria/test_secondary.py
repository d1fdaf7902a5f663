"""Lee 2014 and CTCAE v5 CRS grades beside ASTCT (clinical-criteria.md §1.3, §1.4)."""

from __future__ import annotations

from decimal import Decimal

from criteria.crs import assess_crs
from criteria.model import OxygenModality as O
from criteria.rules import RuleSet
from criteria.secondary import ne_equivalent
from tests.unit.criteria.builders import Patient, day, hours, minutes

NOW = day(2, 16)


def febrile() -> Patient:
    return Patient().car_t().weight(day(0), "80").temp(NOW - hours(1), "38.6").bp(NOW, 110)


def test_lee_fio2_39_is_grade_2_and_40_is_grade_3(rules: RuleSet) -> None:
    # Lee 2014 [V2]: O2 < 40 % FiO2 -> 2; >= 40 % -> 3 (§1.3)
    low = febrile().o2(NOW - hours(1), O.FACEMASK, fio2="39").build()
    assert assess_crs(low, NOW, rules).lee.grade == 2
    high = febrile().o2(NOW - hours(1), O.FACEMASK, fio2="40").build()
    assert assess_crs(high, NOW, rules).lee.grade == 3


def test_lee_estimates_fio2_for_low_flow_cannula_and_says_so(rules: RuleSet) -> None:
    # §1.4 FiO2 estimate [R]: 21 % + 4 % x L/min for nasal cannula <= 6 L/min; 5 L -> 41 %
    result = assess_crs(febrile().o2(NOW - hours(1), O.LOW_FLOW_CANNULA, "5").build(), NOW, rules)
    assert result.lee.grade == 3
    assert result.astct.grade == 2  # ASTCT never estimates FiO2
    assert result.lee.extra["fio2"] == {"value": 41.0, "estimated": True}
    assert any(a.startswith("unconfirmed threshold") for a in result.lee.assumptions)


def test_lee_grades_cpap_by_fio2_and_invasive_ventilation_as_4(rules: RuleSet) -> None:
    # §1.4 Ventilation: "ventilator" means invasive; CPAP/BiPAP graded by FiO2 (assumption)
    cpap = assess_crs(febrile().o2(NOW - hours(1), O.CPAP, fio2="30").build(), NOW, rules)
    assert (cpap.astct.grade, cpap.lee.grade) == (4, 2)
    vent = assess_crs(febrile().o2(NOW - hours(1), O.INVASIVE, fio2="30").build(), NOW, rules)
    assert vent.lee.grade == 4


def test_lee_high_dose_norepinephrine_sustained_3_h_is_grade_3(rules: RuleSet) -> None:
    # Lee 2014 Table 2 [R]: NE >= 20 ug/min monotherapy, sustained >= 3 h
    timeline = (febrile().o2(NOW, O.ROOM_AIR).rate_entry("norepinephrine", NOW - hours(3), "20")
                .rate_entry("norepinephrine", NOW - hours(1), "22").build())
    assert assess_crs(timeline, NOW, rules).lee.grade == 3
    low = (febrile().o2(NOW, O.ROOM_AIR).rate_entry("norepinephrine", NOW - hours(3), "19")
           .rate_entry("norepinephrine", NOW - hours(1), "19").build())
    assert assess_crs(low, NOW, rules).lee.grade == 2


def test_lee_high_dose_for_under_3_h_is_not_yet_high_dose(rules: RuleSet) -> None:
    timeline = (febrile().o2(NOW, O.ROOM_AIR)
                .rate_entry("norepinephrine", NOW - hours(2), "25").build())
    assert assess_crs(timeline, NOW, rules).lee.grade == 2


def test_ne_equivalent_example(rules: RuleSet) -> None:
    # §1.3 example: NE 12 ug/min + dopamine 8 ug/kg/min, no vasopressin -> NE-eq 16, not high
    value = ne_equivalent({"norepinephrine": Decimal(12), "dopamine": Decimal(8)})
    assert value == Decimal(16)
    assert value < rules.decimal("lee.ne_equivalent_combination")


def test_section_1_3_example_in_a_changeover_is_not_high_dose(rules: RuleSet) -> None:
    # §1.3 example [R]: NE 12 ug/min + dopamine 8 ug/kg/min, no vasopressin -> NE-eq 16 < 20:
    # not high-dose, so Lee stays 2 while the two overlap for less than 60 min
    timeline = (febrile().o2(NOW, O.ROOM_AIR).infusion("norepinephrine", NOW - hours(5), rate="12")
                .infusion("dopamine", NOW - minutes(30), rate="8", rate_unit="ug/(kg.min)")
                .build())
    lee = assess_crs(timeline, NOW, rules).lee
    assert lee.grade == 2
    assert lee.extra["neEquivalent"] == 16
    assert any(a.startswith("unconfirmed threshold: Lee 2014 high dose in combination")
               for a in lee.assumptions)


def test_combination_at_ne_equivalent_20_for_3_h_is_high_dose(rules: RuleSet) -> None:
    # §1.3 [R]: combination without vasopressin, NE-equivalent >= 20 sustained >= 3 h -> 3
    def lee_grade(ne: str) -> int | None:
        timeline = (febrile().o2(NOW, O.ROOM_AIR)
                    .infusion("norepinephrine", NOW - hours(4), rate=ne)
                    .infusion("epinephrine", NOW - minutes(30), rate="2").build())
        return assess_crs(timeline, NOW, rules).lee.grade
    assert lee_grade("20") == 3  # 20 alone for 3.5 h, then 22 with epinephrine
    assert lee_grade("17") == 2  # 19 now, 17 before: never 20


def test_with_vasopressin_ne_equivalent_10_for_3_h_is_high_dose(rules: RuleSet) -> None:
    # §1.3 [R]: with vasopressin, NE-equivalent >= 10 ug/min (sustained >= 3 h) is high dose
    def lee(ne: str, since: float) -> int | None:
        timeline = (febrile().o2(NOW, O.ROOM_AIR)
                    .infusion("norepinephrine", NOW - hours(since), rate=ne)
                    .infusion("vasopressin", NOW - minutes(30), rate="0.03",
                              rate_unit="[U]/min").build())
        return assess_crs(timeline, NOW, rules).lee.grade
    assert lee("10", 3) == 3
    assert lee("9.9", 3) == 2
    assert lee("10", 2.9) == 2


def test_combination_high_dose_is_unknown_without_a_rate(rules: RuleSet) -> None:
    # §0 conventions: an unknown rate leaves the grade a lower bound with what would raise it
    timeline = (febrile().o2(NOW, O.ROOM_AIR).infusion("norepinephrine", NOW - hours(4))
                .infusion("epinephrine", NOW - minutes(30), rate="2").build())
    lee = assess_crs(timeline, NOW, rules).lee
    assert lee.grade == 2
    assert "3 if high-dose vasopressor for ≥3 h" in lee.extra["raiseHint"]


def test_lee_is_a_lower_bound_without_organ_toxicity(rules: RuleSet) -> None:
    # §1.3: organ toxicity also sets the Lee grade; not assessed here
    result = assess_crs(febrile().o2(NOW, O.ROOM_AIR).build(), NOW, rules)
    assert result.lee.grade == 1
    assert "organ toxicity grades" in result.lee.missing
    assert result.lee.extra["gradeIsLowerBound"] is True


def test_ctcae_one_pressor_is_3_and_two_concurrent_are_4(rules: RuleSet) -> None:
    # CTCAE v5 [R]: one pressor -> 3; "life-threatening" read as >= 2 pressors (assumption)
    one = febrile().o2(NOW, O.ROOM_AIR).infusion("norepinephrine", NOW - hours(2)).build()
    assert assess_crs(one, NOW, rules).ctcae.grade == 3
    two = (febrile().o2(NOW, O.ROOM_AIR).infusion("norepinephrine", NOW - hours(3))
           .infusion("vasopressin", NOW - hours(2)).build())
    result = assess_crs(two, NOW, rules)
    assert (result.astct.grade, result.ctcae.grade) == (3, 4)
    assert result.ctcae.assumptions[0].startswith("unconfirmed: CTCAE v5.0")


def test_ctcae_fio2_40_is_3(rules: RuleSet) -> None:
    # CTCAE v5 [R]: hypoxia needing >= 40 % O2 -> 3
    timeline = febrile().o2(NOW - hours(1), O.VENTURI, fio2="40").build()
    result = assess_crs(timeline, NOW, rules)
    assert result.ctcae.grade == 3
    assert result.ctcae.criteria == "ctcae-5-crs"
    assert result.lee.criteria == "lee-2014-crs"


def test_secondary_systems_follow_the_fever_and_masking_gate(rules: RuleSet) -> None:
    # Issue 4: secondary grades computed beside ASTCT; afebrile, untreated -> not CRS
    timeline = (Patient().car_t().temp(NOW, "37.0").o2(NOW, O.FACEMASK, fio2="50").build())
    result = assess_crs(timeline, NOW, rules)
    assert (result.lee.met, result.lee.grade, result.ctcae.grade) == (False, 0, 0)
