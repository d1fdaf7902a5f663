"""order-sign entry point: dispatch per product family, assessments, fast path (issue 7).

Also holds the small builders the other test_order_* specs import (drafts, labs, conditions).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from criteria.model import (
    ConditionFact,
    DrugClass,
    DrugExposure,
    DrugSource,
    Measurement,
    PatientTimeline,
)
from criteria.order_checks import assess_orders, of_interest
from criteria.rules import RuleSet
from tests.unit.criteria.builders import Patient, day

NOW = day(0, 12)
LAB_UNITS = {"crp": "mg/L", "ferritin": "ng/mL", "ldh": "U/L", "creatinine": "mg/dL",
             "platelets": "10*9/L", "temperature": "Cel", "body_weight": "kg"}
CLASSES = {"car-t": DrugClass.CAR_T, "bispecific": DrugClass.BISPECIFIC,
           "tocilizumab": DrugClass.TOCILIZUMAB, "corticosteroid": DrugClass.CORTICOSTEROID}


def draft(family: str, ingredient: str, *, ref: str = "MedicationRequest/d1",
          dose: str | None = None, unit: str | None = "mg", at: datetime = NOW,
          product: str | None = None) -> DrugExposure:
    """Return a draft order as fhir_mappers gives it."""
    return DrugExposure(CLASSES[family], ingredient, at, DrugSource.DRAFT, "draft", ref,
                        dose=None if dose is None else Decimal(dose),
                        dose_unit=unit if dose else None, product=product)


def with_data(timeline: PatientTimeline, *, labs: dict[str, list[tuple[datetime, str]]]
              | None = None, drafts: tuple[DrugExposure, ...] = (),
              conditions: tuple[ConditionFact, ...] = (),
              lab_orders: tuple[tuple[str, str], ...] = ()) -> PatientTimeline:
    """Return the timeline with labs, drafts, conditions and draft lab orders added."""
    series = dict(timeline.measurements)
    for kind, values in (labs or {}).items():
        found = [Measurement(kind, t, Decimal(v), LAB_UNITS[kind], f"Observation/{kind}-{i}")
                 for i, (t, v) in enumerate(values)]
        series[kind] = tuple(sorted([*series.get(kind, ()), *found], key=lambda m: m.time))
    return dataclasses.replace(timeline, measurements=series, draft_orders=drafts,
                               conditions=conditions, draft_lab_orders=lab_orders)


def ready(patient: Patient | None = None) -> Patient:
    """Return a patient with a recent weight and normal temperature."""
    return (patient or Patient()).weight(NOW.replace(hour=6), "70").temp(NOW.replace(hour=8),
                                                                           "36.8")


def baseline(at: datetime | None = None) -> dict[str, list[tuple[datetime, str]]]:
    """Return CRP, ferritin, LDH, creatinine and platelets drawn at one time (07:00 default)."""
    at = at or NOW.replace(hour=7)
    return {"crp": [(at, "40")], "ferritin": [(at, "300")], "ldh": [(at, "450")],
            "creatinine": [(at, "0.9")], "platelets": [(at, "150")]}


def test_no_draft_of_interest_gives_no_checks(rules: RuleSet) -> None:
    timeline = with_data(ready().build(), drafts=(draft("corticosteroid", "dexamethasone"),))
    assert of_interest(timeline) == ()
    assert assess_orders(timeline, NOW, rules) == []


def test_one_check_per_family_with_its_criteria_name(rules: RuleSet) -> None:
    drafts = (draft("car-t", "tisagenlecleucel", ref="MedicationRequest/a"),
              draft("bispecific", "teclistamab", ref="MedicationRequest/b"),
              draft("tocilizumab", "tocilizumab", ref="MedicationRequest/c", dose="560"))
    timeline = with_data(ready().build(), drafts=drafts, labs=baseline())
    checks = assess_orders(timeline, NOW, rules)
    assert [c.criteria for c in checks] == ["cart-preinfusion", "bispecific-preinfusion",
                                           "tocilizumab-order"]
    cart = {r.check for r in checks[0].results}
    assert cart == {"infection-inflammation", "baseline-labs", "weight", "tocilizumab-readiness",
                    "easix", "prior-crs"}
    assert {r.check for r in checks[1].results} == cart | {"premedication", "step-up"}
    assert {r.check for r in checks[2].results} == {"dose", "limits"}


def test_assessments_have_the_crs_form_and_name_the_order(rules: RuleSet) -> None:
    timeline = with_data(ready().build(), drafts=(draft("car-t", "axicabtagene ciloleucel"),))
    check = assess_orders(timeline, NOW, rules)[0]
    for a in check.assessments():
        out = a.to_json()
        assert out["criteria"] == "cart-preinfusion"
        assert out["evaluatedAt"] == "2025-03-03T12:00:00Z"
        assert out["order"] == "MedicationRequest/d1"
        assert out["check"]
        assert out["status"]
        assert out["finding"]
        assert "met" in out
    labs = next(a for a in check.assessments() if a.extra["check"] == "baseline-labs")
    assert labs.met is False
    assert labs.extra["toOrder"] == ["crp", "ferritin"]


def test_worst_status_sets_the_order_level(rules: RuleSet) -> None:
    timeline = with_data(ready().temp(NOW.replace(hour=9), "38.0").build(),
                         drafts=(draft("car-t", "tisagenlecleucel"),), labs=baseline())
    assert assess_orders(timeline, NOW, rules)[0].worst == "critical"
