"""The CDS services this deployment offers, with their prefetch templates.

Spec: CDS Hooks 2.0 §Discovery (https://cds-hooks.hl7.org/2.0/#discovery) and
§Prefetch template (https://cds-hooks.hl7.org/2.0/#prefetch-template). STU2 tokens only.
Templates sort newest first; ``_count`` is a page size, so paging follows ``next`` links
until the evaluation windows are covered (see ``cds_service.prefetch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LOINC = "http://loinc.org"

# Oxygen support is often charted outside the vital-signs category, so it has its own key.
RESPIRATORY_CODES = ("107117-4", "3151-8", "3150-0", "2708-6", "59408-5", "19994-3")


@dataclass(frozen=True)
class PrefetchKey:
    """One prefetch key: its template, whether it is required, and what it should hold."""

    name: str
    template: str
    required: bool
    resource_type: str  # "Patient" for a read; the searched type for a searchset Bundle
    is_search: bool
    purpose: str


@dataclass(frozen=True)
class ServiceDefinition:
    """One CDS service: its id, hook and prefetch keys."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: tuple[PrefetchKey, ...]

    def key(self, name: str) -> PrefetchKey:
        """Return the prefetch key of that name."""
        for key in self.prefetch:
            if key.name == name:
                return key
        raise KeyError(name)


def _obs(query: str) -> str:
    return f"Observation?patient={{{{context.patientId}}}}&{query}&_sort=-date&_count=500"


_COMMON_KEYS = (
    PrefetchKey("patient", "Patient/{{context.patientId}}", True, "Patient", False,
                "birth date (age-based limits), sex"),
    PrefetchKey("vitals", _obs("category=vital-signs"), False, "Observation", True,
                "temperature, blood pressure, heart and respiratory rate, SpO2, weight"),
    PrefetchKey("respiratory",
                _obs("code=" + ",".join(f"{LOINC}|{c}" for c in RESPIRATORY_CODES)),
                False, "Observation", True,
                "oxygen delivery device, O2 flow and FiO2 (ASTCT hypoxia tier)"),
    PrefetchKey("labs", _obs("category=laboratory"), False, "Observation", True,
                "CRP, ferritin, IL-6, cytopenias, liver and renal tests"),
    PrefetchKey("medadmin",
                "MedicationAdministration?patient={{context.patientId}}"
                "&_sort=-effective-time&_count=200",
                False, "MedicationAdministration", True,
                "CAR-T and bispecific doses, vasopressors, tocilizumab, steroids, antipyretics"),
    PrefetchKey("medorders",
                "MedicationRequest?patient={{context.patientId}}&status=active,on-hold"
                "&_count=100",
                False, "MedicationRequest", True,
                "signed tocilizumab orders not yet charted (dose limits)"),
    PrefetchKey("findings", _obs("category=imaging,exam"), False, "Observation", True,
                "imaging and examination findings (ground-glass opacities, organomegaly)"),
    PrefetchKey("conditions",
                "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse"
                "&_count=100",
                False, "Condition", True,
                "infection, organomegaly, sJIA and other conditions the criteria read"),
)

PATIENT_VIEW = ServiceDefinition(
    id="crs-patient-view",
    hook="patient-view",
    title="Cytokine release syndrome and hyperinflammation watch",
    description=(
        "Grades cytokine release syndrome (ASTCT 2019) after CAR-T or bispecific therapy "
        "from vital signs, oxygen support and vasopressors, and shows the evidence, the "
        "episode course and guideline management. Advisory only."
    ),
    prefetch=_COMMON_KEYS,
)

ORDER_SIGN = ServiceDefinition(
    id="crs-order-sign",
    hook="order-sign",
    title="CAR-T, bispecific and tocilizumab order checks",
    description=(
        "Checks CAR-T and bispecific infusion orders (infection, baseline labs, weight, "
        "tocilizumab readiness) and tocilizumab orders (weight-based dose and repeat limits) "
        "before signing. Advisory only."
    ),
    prefetch=_COMMON_KEYS,
)

SERVICES: Mapping[str, ServiceDefinition] = {s.id: s for s in (PATIENT_VIEW, ORDER_SIGN)}

# Context fields each hook requires (HL7 CDS Hooks Library STU1 v1.0.1).
REQUIRED_CONTEXT: Mapping[str, tuple[str, ...]] = {
    "patient-view": ("userId", "patientId"),
    "order-sign": ("userId", "patientId", "draftOrders"),
}
