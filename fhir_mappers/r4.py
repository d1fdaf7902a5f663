"""The one import point for FHIR R4 models: fhir.resources' R4B package (R4-compatible).

The root ``fhir.resources`` package is R5, which rejects R4 data; ruff bans it (TID251).
"""

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.servicerequest import ServiceRequest

__all__ = [
    "Bundle",
    "BundleEntry",
    "CodeableConcept",
    "Condition",
    "MedicationAdministration",
    "MedicationRequest",
    "Observation",
    "ObservationReferenceRange",
    "Patient",
    "Quantity",
    "ServiceRequest",
    "get_fhir_model_class",
]
