"""Reviewer findings A2-A8: infusions, running oxygen, routes, references, fluids, spellings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from criteria.model import DrugClass, DrugExposure, OxygenModality, PatientTimeline
from fhir_mappers.timeline import build_timeline

from .builders import RXNORM, SNOMED, admin, bundle, ml
from .conftest import EXPECTED, NOW, refs, warned

O2 = {"medicationCodeableConcept": {"coding": [{"system": SNOMED, "code": "320917000"}]}}


def build(*resources: dict[str, Any], orders: list[dict[str, Any]] | None = None,
          **keys: Any) -> PatientTimeline:
    """Build a timeline from MedicationAdministrations (and other keys)."""
    prefetch = {"medadmin": bundle(*resources), **keys}
    if orders:
        prefetch["medorders"] = bundle(*orders)
    return build_timeline(prefetch, now=NOW, expected=EXPECTED)


def only(timeline: PatientTimeline) -> DrugExposure:
    (drug,) = timeline.drugs
    return drug


def period(start: str, end: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return the timing fields of an administration with an effectivePeriod."""
    timing: dict[str, Any] = {"start": start} if end is None else {"start": start, "end": end}
    return {"effectivePeriod": timing, **extra}


def timed(resource: dict[str, Any]) -> dict[str, Any]:
    """Drop the builder's effectiveDateTime when a period is given."""
    if "effectivePeriod" in resource:
        resource.pop("effectiveDateTime", None)
    return resource


# A2: an effectivePeriod (open or closed) or a rate makes a continuous infusion.
@pytest.mark.parametrize(
    ("extra", "continuous", "is_open"),
    [
        (period("2024-05-02T09:00:00Z"), True, True),
        (period("2024-05-02T09:00:00Z", "2024-05-02T11:00:00Z"), True, False),
        ({"dosage": {"rateQuantity": ml(8, "ug/min")}}, True, False),
        ({}, False, False),
    ],
)
def test_a2_continuous_and_open_period(extra: dict[str, Any], continuous: bool,
                                       is_open: bool) -> None:
    ne = only(build(timed(admin("n", rxcui="7512", status="in-progress", **extra))))
    assert (ne.is_continuous, ne.period_open) == (continuous, is_open)


# A4: oxygen still running at `now` is kept, flagged running.
@pytest.mark.parametrize(
    ("status", "end", "running", "kept_end"),
    [
        ("in-progress", None, True, None),
        ("completed", "2024-05-02T13:00:00Z", True, None),
        ("completed", "2024-05-02T11:00:00Z", False, datetime(2024, 5, 2, 11, tzinfo=UTC)),
        ("completed", None, False, None),
    ],
)
def test_a4_running_oxygen(status: str, end: str | None, running: bool,
                           kept_end: datetime | None) -> None:
    given = timed(admin("o", O2, status=status, dosage={"rateQuantity": ml(10, "L/min")},
                        **period("2024-05-01T18:00:00Z", end)))
    (o2,) = build(given).oxygen
    assert (o2.running, o2.end, o2.flow_l_min) == (running, kept_end, Decimal(10))
    assert o2.modality is OxygenModality.HIGH_FLOW_CANNULA


# A5: routes from SNOMED codes, route text, or the drug's own text.
@pytest.mark.parametrize(
    ("route", "text", "expected", "from_text"),
    [
        ({"coding": [{"system": SNOMED, "code": "47625008"}]}, "hydrocortisone", "systemic",
         False),
        ({"coding": [{"system": SNOMED, "code": "6064005"}]}, "hydrocortisone", "topical",
         False),
        ({"text": "PO"}, "prednisone 50 mg tablet", "systemic", False),
        ({"text": "Subcutaneous"}, "anakinra", "systemic", False),
        ({"text": "inhalation"}, "dexamethasone", "inhaled", False),
        ({"text": "both eyes"}, "dexamethasone", "ophthalmic", False),
        ({"text": "intranasal"}, "dexamethasone", "nasal", False),
        (None, "Hydrocortisone 1% topical cream", "topical", True),
        (None, "Dexamethasone eye drops", "ophthalmic", True),
        (None, "Methylprednisolone inhaler", "inhaled", True),
        (None, "Dexamethasone nasal spray", "nasal", True),
        (None, "Hydrocortisone ointment", "topical", True),
        (None, "Dexamethasone 10 mg", None, False),
    ],
)
def test_a5_route(route: dict[str, Any] | None, text: str, expected: str | None,
                  from_text: bool) -> None:
    dosage = {"route": route} if route else {}
    drug = only(build(admin("s", text=text, dosage=dosage)))
    assert drug.route == expected
    assert ("route-from-text" in drug.flags) is from_text


def test_a5_route_of_a_signed_order() -> None:
    order = {"resourceType": "MedicationRequest", "id": "r", "status": "active",
             "intent": "order", "authoredOn": "2024-05-02T09:00:00Z",
             "subject": {"reference": "Patient/p1"},
             "medicationCodeableConcept": {"text": "dexamethasone"},
             "dosageInstruction": [{"route": {"text": "IV"}}]}
    assert only(build(orders=[order])).route == "systemic"


# A6: medicationReference to a Medication elsewhere in the prefetch; unmatched drugs.
MEDICATION = {"resourceType": "Medication", "id": "toci-1",
              "code": {"coding": [{"system": RXNORM, "code": "612865"}]}}


@pytest.mark.parametrize("reference", ["Medication/toci-1",
                                       "https://ehr.example.org/fhir/Medication/toci-1"])
def test_a6_reference_to_an_included_medication(reference: str) -> None:
    given = admin("mr", {"medicationReference": {"reference": reference}})
    toci = only(build(given, MEDICATION))
    assert (toci.drug_class, toci.flags) == (DrugClass.TOCILIZUMAB, ())


def test_a6_reference_to_a_medication_in_another_key() -> None:
    given = admin("mr", {"medicationReference": {"reference": "Medication/toci-1"}})
    tl = build(given, medorders=bundle(MEDICATION))
    assert only(tl).ingredient == "tocilizumab"


def test_a6_unmatched_medication_warns_with_codes_only() -> None:
    heparin = admin("h", {"medicationCodeableConcept": {
        "coding": [{"system": RXNORM, "code": "5224"}], "text": "Heparin 5000 units"}})
    dangling = admin("d", {"medicationReference": {"reference": "Medication/nowhere"}})
    named = admin("t", text="Heparin flush")
    tl = build(heparin, dangling, named)
    assert tl.drugs == ()
    found = {w.reference: w.message for w in warned(tl, "unmatched-medication")}
    assert set(found) == {f"MedicationAdministration/{x}" for x in "hdt"}
    assert f"{RXNORM}|5224" in found["MedicationAdministration/h"]
    assert all("eparin" not in message for message in found.values())


@pytest.mark.parametrize(
    "change",
    [{"effectiveDateTime": "2024-05-02T10:00:00"}, {"effectiveDateTime": "2024-05-02"},
     {"status": "bogus"}, {"dosage": {"dose": {"value": "lots"}}},
     {"effectiveDateTime": "2024-05-03T10:00:00Z"}, {"status": ["completed"]}],
)
def test_a6_tocilizumab_set_aside_is_reported(change: dict[str, Any]) -> None:
    tl = build({**admin("tz", rxcui="612865"), **change},
               {**admin("tx", text="Actemra 560 mg"), **change})
    assert tl.drugs == ()
    assert refs(tl, "tocilizumab-unreadable") == {"MedicationAdministration/tz",
                                                   "MedicationAdministration/tx"}


@pytest.mark.parametrize("status", ["entered-in-error", "not-done"])
def test_a6_withdrawn_tocilizumab_is_not_unreadable(status: str) -> None:
    tl = build(admin("tz", rxcui="612865", status=status))
    assert warned(tl, "tocilizumab-unreadable") == []


# A7: IV crystalloids and albumin are fluid boluses with a volume in mL.
@pytest.mark.parametrize(
    ("text", "volume", "unit", "expected"),
    [
        ("Sodium chloride 0.9% bolus", 500, "mL", "500"),
        ("Normal saline", "0.5", "L", "500.0"),
        ("Lactated Ringer's 1000 mL", 1000, "mL", "1000"),
        ("Hartmann's solution", 250, "mL", "250"),
        ("Plasma-Lyte A", 500, "ml", "500"),
        ("Albumin 5%", 250, "mL", "250"),
        ("Albumin (human) 25%", 100, "mL", "100"),
    ],
)
def test_a7_fluid_bolus(text: str, volume: Any, unit: str, expected: str) -> None:
    given = timed(admin("f", text=text, dosage={"dose": ml(volume, unit)},
                        **period("2024-05-02T09:00:00Z", "2024-05-02T09:30:00Z")))
    fluid = only(build(given))
    assert fluid.drug_class is DrugClass.FLUID_BOLUS
    assert (fluid.dose, fluid.dose_unit) == (Decimal(expected), "mL")
    assert fluid.end is not None
    assert (fluid.end - fluid.start).total_seconds() == 1800
    assert "matched-by-text" in fluid.flags


def test_a7_a_diluent_never_names_the_drug() -> None:
    drip = admin("n", text="Norepinephrine 4 mg in 0.9% sodium chloride 250 mL")
    assert only(build(drip)).ingredient == "norepinephrine"


def test_a7_fluid_volume_in_another_unit_is_unknown() -> None:
    fluid = only(build(admin("f", text="normal saline", dosage={"dose": ml(5, "mg")})))
    assert fluid.dose is None
    assert "MedicationAdministration/f" in refs(build(admin(
        "f", text="normal saline", dosage={"dose": ml(5, "mg")})), "unknown-unit")


# A8: each pressor spelling maps to its own ingredient.
@pytest.mark.parametrize(
    ("text", "ingredient"),
    [
        ("Nor-Epinephrine drip", "norepinephrine"), ("nor-epinephrine", "norepinephrine"),
        ("NOREPINEPHRINE", "norepinephrine"), ("noradrenaline", "norepinephrine"),
        ("nor-adrenaline 8 mg/50 mL", "norepinephrine"), ("Nor Adrenaline", "norepinephrine"),
        ("Levophed", "norepinephrine"), ("epinephrine infusion", "epinephrine"),
        ("Adrenaline 1 mg", "epinephrine"), ("Phenylephrine", "phenylephrine"),
        ("Neo-Synephrine", "phenylephrine"), ("dopamine 400 mg", "dopamine"),
        ("Vasopressin 20 units", "vasopressin"), ("dobutamine", "dobutamine"),
    ],
)
def test_a8_pressor_spellings(text: str, ingredient: str) -> None:
    drug = only(build(admin("p", text=text, status="in-progress")))
    assert drug.ingredient == ingredient


def test_a6_tocilizumab_named_in_a_junk_shape_is_reported() -> None:
    junk = admin("j", {"medicationCodeableConcept": [{"text": "Actemra 560 mg"}]})
    other = admin("h", {"medicationCodeableConcept": {"text": "Heparin"}},
                  note=[{"text": "given before tocilizumab"}])
    tl = build(junk, other)
    assert refs(tl, "tocilizumab-unreadable") == {"MedicationAdministration/j"}
