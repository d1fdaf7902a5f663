"""References are compared as "Type/id", whatever form the EHR sends (FHIR R4 §2.3.0)."""

from __future__ import annotations

import pytest

from fhir_mappers.references import relative
from fhir_mappers.timeline import build_timeline

from .builders import admin, bundle
from .conftest import EXPECTED, NOW


@pytest.mark.parametrize(("reference", "expected"), [
    ("MedicationRequest/so1", "MedicationRequest/so1"),
    ("https://ehr.example.org/fhir/MedicationRequest/so1", "MedicationRequest/so1"),
    ("https://ehr.example.org/fhir/MedicationRequest/so1/_history/2", "MedicationRequest/so1"),
    ("urn:uuid:2f6c1a0e-1a4e-4d9e-9a51-0d1f0c7f7a11", None),
    ("#med1", None),
    ("MedicationRequest/so1/extra", None),
    (42, None),
])
def test_relative_reference(reference: object, expected: str | None) -> None:
    assert relative(reference) == expected


def test_an_administration_names_its_order_in_relative_form() -> None:
    # clinical-criteria.md §3.1 "Counted doses": an order is not counted again once an
    # administration references it, so an absolute reference must still match.
    given = admin("a1", rxcui="612865", when=NOW.isoformat(),
                  request={"reference": "https://ehr.example.org/fhir/MedicationRequest/so1"})
    timeline = build_timeline({"medadmin": bundle(given)}, now=NOW, expected=EXPECTED)
    (dose,) = timeline.drugs
    assert dose.request_reference == "MedicationRequest/so1"
