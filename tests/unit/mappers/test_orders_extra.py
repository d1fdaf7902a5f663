"""Order-sign drafts for issue 7: products by code and by name, medicationReference, lab orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from criteria.model import DrugClass
from fhir_mappers.dosage import dose_unit
from fhir_mappers.orders import draft_lab_orders, draft_resources
from fhir_mappers.timeline import build_timeline

from .conftest import NOW, refs

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL = "urn:oid:1.2.3.4.5.local-formulary"


def request(concept: dict[str, Any] | None = None, rid: str = "mr-1",
            **extra: Any) -> dict[str, Any]:
    out = {"resourceType": "MedicationRequest", "id": rid, "status": "draft", "intent": "order",
           "subject": {"reference": "Patient/p1"}, **extra}
    if concept is not None:
        out["medicationCodeableConcept"] = concept
    return out


def bundle(*resources: dict[str, Any], with_urls: bool = False) -> dict[str, Any]:
    entries = []
    for r in resources:
        entry: dict[str, Any] = {"resource": r}
        if with_urls:
            entry["fullUrl"] = f"urn:uuid:{r['id']}"
        entries.append(entry)
    return {"resourceType": "Bundle", "entry": entries}


def drafts(*resources: dict[str, Any]):  # noqa: ANN201
    return build_timeline({}, now=NOW, draft_orders=bundle(*resources))


@pytest.mark.parametrize(("text", "ingredient", "family"), [
    ("YESCARTA suspension", "axicabtagene ciloleucel", DrugClass.CAR_T),
    ("Tecartus infusion bag", "brexucabtagene autoleucel", DrugClass.CAR_T),
    ("Breyanzi", "lisocabtagene maraleucel", DrugClass.CAR_T),
    ("Carvykti (cilta-cel)", "ciltacabtagene autoleucel", DrugClass.CAR_T),
    ("Aucatzyl", "obecabtagene autoleucel", DrugClass.CAR_T),
    ("KYMRIAH CAR-T cells", "tisagenlecleucel", DrugClass.CAR_T),
    ("Abecma ide-cel", "idecabtagene vicleucel", DrugClass.CAR_T),
    ("teclistamab-cqyv 10 mg/mL", "teclistamab", DrugClass.BISPECIFIC),
    ("Talvey step-up", "talquetamab", DrugClass.BISPECIFIC),
    ("Elrexfio 44 mg", "elranatamab", DrugClass.BISPECIFIC),
    ("epcoritamab-bysp 48 mg", "epcoritamab", DrugClass.BISPECIFIC),
    ("Columvi 10 mg", "glofitamab", DrugClass.BISPECIFIC),
    ("Lunsumio IV", "mosunetuzumab", DrugClass.BISPECIFIC),
    ("Imdelltra", "tarlatamab", DrugClass.BISPECIFIC),
    ("Blincyto 35 mcg", "blinatumomab", DrugClass.BISPECIFIC),
    ("Lynozyfic", "linvoseltamab", DrugClass.BISPECIFIC),
    ("Tofidence 80 mg/4 mL", "tocilizumab", DrugClass.TOCILIZUMAB),
    ("Tyenne prefilled syringe", "tocilizumab", DrugClass.TOCILIZUMAB),
    ("Avtozma IV", "tocilizumab", DrugClass.TOCILIZUMAB),
    ("tocilizumab-aazg 162 mg", "tocilizumab", DrugClass.TOCILIZUMAB),
    ("RoActemra", "tocilizumab", DrugClass.TOCILIZUMAB),
])
def test_local_codes_are_matched_by_name(text: str, ingredient: str, family: DrugClass) -> None:
    concept = {"coding": [{"system": LOCAL, "code": "X-1", "display": text}], "text": text}
    tl = drafts(request(concept))
    assert [(d.ingredient, d.drug_class) for d in tl.draft_orders] == [(ingredient, family)]
    assert "matched-by-text" in tl.draft_orders[0].flags


@pytest.mark.parametrize(("code", "ingredient"), [
    ("1987402", "axicabtagene ciloleucel"), ("2619432", "teclistamab"),
    ("1597262", "blinatumomab"), ("2680287", "tocilizumab"), ("2686045", "tocilizumab"),
    ("612865", "tocilizumab")])
def test_products_by_rxnorm(code: str, ingredient: str) -> None:
    tl = drafts(request({"coding": [{"system": RXNORM, "code": code}]}))
    assert [d.ingredient for d in tl.draft_orders] == [ingredient]
    assert "matched-by-text" not in tl.draft_orders[0].flags


def test_medication_reference_to_another_draft_entry() -> None:
    med = {"resourceType": "Medication", "id": "med-yescarta",
           "code": {"coding": [{"system": RXNORM, "code": "1987407"}]}}
    by_id = request(rid="mr-a", medicationReference={"reference": "Medication/med-yescarta"})
    by_url = request(rid="mr-b", medicationReference={"reference": "urn:uuid:med-yescarta"})
    tl = build_timeline({}, now=NOW, draft_orders=bundle(med, by_id, by_url, with_urls=True))
    assert {d.reference: d.ingredient for d in tl.draft_orders} == {
        "MedicationRequest/mr-a": "axicabtagene ciloleucel",
        "MedicationRequest/mr-b": "axicabtagene ciloleucel"}


def test_medication_reference_contained_and_unresolved() -> None:
    contained = request(rid="mr-c", contained=[{"resourceType": "Medication", "id": "m",
                                                "code": {"text": "Breyanzi"}}],
                        medicationReference={"reference": "#m"})
    unresolved = request(rid="mr-u", medicationReference={"reference": "Medication/elsewhere"})
    tl = drafts(contained, unresolved)
    assert [d.reference for d in tl.draft_orders] == ["MedicationRequest/mr-c"]


def test_draft_dose_units_are_spelled_one_way() -> None:
    dosage = [{"doseAndRate": [{"doseQuantity": {"value": 8, "unit": "milligram per kilogram"}}]}]
    tl = drafts(request({"text": "Actemra"}, dosageInstruction=dosage))
    assert (tl.draft_orders[0].dose, tl.draft_orders[0].dose_unit) == (Decimal(8), "mg/kg")
    assert dose_unit("MG") == "mg"
    assert dose_unit("mcg") == "ug"
    assert dose_unit(None) is None


def test_draft_resources_are_normalised_copies(fhir: Any) -> None:
    raw = fhir("draft_orders_sandbox.json")
    before = repr(raw)
    found = draft_resources(raw)
    assert set(found) == {"MedicationRequest/request-123", "MedicationRequest/request-lisinopril"}
    toci = found["MedicationRequest/request-123"]
    assert isinstance(toci["category"], list)
    assert toci["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 640
    assert repr(raw) == before


def test_draft_lab_orders_by_loinc_and_text() -> None:
    crp = {"resourceType": "ServiceRequest", "id": "sr-crp", "status": "draft", "intent": "order",
           "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]}}
    ferritin = {**crp, "id": "sr-fer", "code": {"text": "Ferritin"}}
    cancelled = {**crp, "id": "sr-x", "status": "revoked"}
    assert draft_lab_orders(bundle(crp, ferritin, cancelled)) == (
        ("crp", "ServiceRequest/sr-crp"), ("ferritin", "ServiceRequest/sr-fer"))
    assert draft_lab_orders({"resourceType": "Patient"}) == ()


def test_unreadable_draft_is_set_aside_with_a_warning() -> None:
    broken = request({"text": "Kymriah"}, rid="mr-bad", dosageInstruction="twice")
    tl = drafts(broken, request({"text": "Tecvayli"}, rid="mr-ok"))
    assert [d.reference for d in tl.draft_orders] == ["MedicationRequest/mr-ok"]
    assert refs(tl, "invalid-resource") == {"MedicationRequest/mr-bad"}


def test_date_only_authored_on_keeps_the_draft_at_evaluation_time() -> None:
    # The sandbox sends authoredOn "2026-11-21": warned, read at the evaluation time, not dropped.
    tl = drafts(request({"text": "Actemra"}, authoredOn="2024-05-02"))
    (order,) = tl.draft_orders
    assert order.start == NOW
    assert "time-is-evaluation-time" in order.flags
    assert refs(tl, "imprecise-time") == {"MedicationRequest/mr-1"}
