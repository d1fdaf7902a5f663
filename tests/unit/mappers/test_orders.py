"""Signed orders (medorders) and order-sign draftOrders with sandbox quirks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from criteria.model import DrugClass, DrugSource, PatientTimeline
from fhir_mappers.timeline import build_timeline

from .conftest import EXPECTED, NOW, refs, warned


def test_signed_orders_active_and_on_hold(timeline_of: Callable[..., PatientTimeline]) -> None:
    tl = timeline_of(medorders="medorders.json")
    orders = {d.reference: d for d in tl.drugs}
    assert set(orders) == {"MedicationRequest/mr-toci-active", "MedicationRequest/mr-norepi"}
    toci = orders["MedicationRequest/mr-toci-active"]
    assert (toci.source, toci.drug_class, toci.dose) == (DrugSource.ORDER, DrugClass.TOCILIZUMAB,
                                                         Decimal(690))
    assert toci.start == datetime(2024, 5, 2, 11, tzinfo=UTC)
    assert orders["MedicationRequest/mr-norepi"].rate_unit == "ug/kg/min"
    assert refs(tl, "status-not-used") == {"MedicationRequest/mr-toci-completed"}
    assert refs(tl, "no-effective-time") == {"MedicationRequest/mr-no-authored"}


def test_sandbox_draft_orders_are_normalised(fhir: Callable[[str], Any]) -> None:
    tl = build_timeline({}, now=NOW, draft_orders=fhir("draft_orders_sandbox.json"))
    drafts = {d.reference: d for d in tl.draft_orders}
    assert set(drafts) == {"MedicationRequest/request-123", "ServiceRequest/sr-kymriah"}
    toci = drafts["MedicationRequest/request-123"]
    assert (toci.source, toci.status, toci.dose, toci.dose_unit) == (
        DrugSource.DRAFT, "draft", Decimal(640), "mg")
    assert toci.start == NOW
    assert "time-is-evaluation-time" in toci.flags
    kymriah = drafts["ServiceRequest/sr-kymriah"]
    assert (kymriah.drug_class, kymriah.ingredient) == (DrugClass.CAR_T, "tisagenlecleucel")
    assert "matched-by-text" in kymriah.flags
    assert {w.code for w in tl.warnings} >= {
        "fixup-bundle-type", "fixup-category", "fixup-stu3-dose", "matched-by-text"}
    assert refs(tl, "fixup-category") == {"MedicationRequest/request-123"}
    assert tl.drugs == ()  # drafts never become exposures


def test_draft_order_input_is_not_mutated(fhir: Callable[[str], Any]) -> None:
    bundle = fhir("draft_orders_sandbox.json")
    before = repr(bundle)
    build_timeline({}, now=NOW, draft_orders=bundle)
    assert repr(bundle) == before


def test_cancelled_draft_and_invalid_draft(fhir: Callable[[str], Any]) -> None:
    bundle = fhir("draft_orders_sandbox.json")
    bundle["entry"][0]["resource"]["status"] = "cancelled"
    del bundle["entry"][1]["resource"]["intent"]
    tl = build_timeline({}, now=NOW, draft_orders=bundle)
    assert tl.draft_orders == ()
    assert refs(tl, "cancelled") == {"MedicationRequest/request-123"}
    assert refs(tl, "invalid-resource") == {"ServiceRequest/sr-kymriah"}


def test_draft_orders_not_a_bundle_is_a_warning() -> None:
    tl = build_timeline({}, now=NOW, expected=EXPECTED, draft_orders={"resourceType": "Patient"})
    assert tl.draft_orders == ()
    assert len(warned(tl, "malformed-draft-orders")) == 1
