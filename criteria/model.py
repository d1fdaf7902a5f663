"""Domain model: what the criteria read about one patient.

Frozen dataclasses, times timezone-aware in UTC, values as Decimal in canonical units
(see ``CANONICAL_UNITS``). Built by ``fhir_mappers``; read by the criteria and cards.
Nothing here knows about FHIR, HTTP or Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

# Canonical unit (UCUM) of each measurement kind. Mappers convert into these; a value that
# cannot be converted is set aside with a warning, never guessed.
CANONICAL_UNITS: Mapping[str, str] = {
    # vital signs
    "temperature": "Cel",
    "heart_rate": "/min",
    "systolic_bp": "mm[Hg]",
    "diastolic_bp": "mm[Hg]",
    "mean_arterial_pressure": "mm[Hg]",
    "respiratory_rate": "/min",
    "spo2": "%",
    "fio2": "%",
    "oxygen_flow": "L/min",
    "body_weight": "kg",
    "body_height": "cm",
    # laboratory
    "crp": "mg/L",
    "ferritin": "ng/mL",
    "il6": "pg/mL",
    "fibrinogen": "mg/dL",
    "triglycerides": "mg/dL",
    "ldh": "U/L",
    "creatinine": "mg/dL",
    "platelets": "10*9/L",
    "haemoglobin": "g/dL",
    "wbc": "10*9/L",
    "neutrophils": "10*9/L",
    "neutrophils_pct": "%",
    "lymphocytes": "10*9/L",
    "lymphocytes_pct": "%",
    "ast": "U/L",
    "alt": "U/L",
    "bilirubin": "mg/dL",
    "d_dimer_feu": "ng/mL",
    "d_dimer_ddu": "ng/mL",
    "albumin": "g/dL",
    "sil2r": "U/mL",
    "troponin_i": "ng/mL",
    "potassium": "mmol/L",
    "sodium": "mmol/L",
    "chloride": "mmol/L",
    "bicarbonate": "mmol/L",
    "bun": "mg/dL",
    "anion_gap": "mmol/L",
    "procalcitonin": "ng/mL",
}


class OxygenModality(StrEnum):
    """How oxygen is delivered; the ASTCT tier of each lives in criteria data, not here."""

    ROOM_AIR = "room-air"
    LOW_FLOW_CANNULA = "low-flow-nasal-cannula"  # nasal cannula, flow <= 6 L/min
    NASAL_CANNULA_UNKNOWN_FLOW = "nasal-cannula-flow-unknown"  # standard cannula, no flow
    BLOW_BY = "blow-by"
    HIGH_FLOW_CANNULA = "high-flow-nasal-cannula"  # flow > 6 L/min, or an HFNC device
    FACEMASK = "facemask"
    NON_REBREATHER = "non-rebreather"
    VENTURI = "venturi"
    SUPPLEMENTAL_UNKNOWN_DEVICE = "supplemental-device-unknown"  # flow <= 6 or FiO2 > 21 %
    CPAP = "cpap"
    BIPAP = "bipap"
    INVASIVE = "invasive-ventilation"


@dataclass(frozen=True)
class Measurement:
    """One observed value (vital sign or laboratory result) in its canonical unit."""

    kind: str  # key of CANONICAL_UNITS
    time: datetime
    value: Decimal
    unit: str
    reference: str  # "Observation/<id>" (or "Observation/<id>#component-n")
    ref_low: Decimal | None = None  # reference range, same unit as value
    ref_high: Decimal | None = None
    status: str = "final"
    flags: tuple[str, ...] = ()  # e.g. "matched-by-text", "hs-assay", "estimated"
    # (value, UCUM unit) exactly as the resource gave them, set only when the mapper converted
    # the value into a different unit (e.g. (Decimal("4.0"), "mmol/L") for triglycerides
    # stored as 354.28 mg/dL); None when the value arrived in the canonical unit. Criteria
    # compare in this unit when the source prints a cut-off in it (clinical-criteria.md §0).
    observed: tuple[Decimal, str] | None = None


@dataclass(frozen=True)
class OxygenSupport:
    """One time-stamped record of oxygen support, classified into one modality."""

    time: datetime
    modality: OxygenModality
    flow_l_min: Decimal | None = None
    fio2_pct: Decimal | None = None
    references: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # e.g. "flow-missing", "device-missing", "flow-over-device"
    end: datetime | None = None  # known end (e.g. a MedicationAdministration period)
    running: bool = False  # charted as still running (an open period, in progress) at `now`


class DrugClass(StrEnum):
    """Drug families the criteria care about."""

    CAR_T = "car-t"
    BISPECIFIC = "bispecific"
    TOCILIZUMAB = "tocilizumab"
    SILTUXIMAB = "siltuximab"
    ANAKINRA = "anakinra"
    CORTICOSTEROID = "corticosteroid"
    JAK_INHIBITOR = "jak-inhibitor"
    VASOPRESSOR = "vasopressor"  # counted in n for ASTCT
    VASOPRESSIN_CLASS = "vasopressin-class"  # vasopressin, terlipressin: never counted in n
    INOTROPE = "inotrope"  # dobutamine, milrinone: shown, not counted
    OTHER_PRESSOR = "other-pressor"  # midodrine, ephedrine, isoproterenol: shown only
    ANTIPYRETIC = "antipyretic"
    OXYGEN = "oxygen"
    FLUID_BOLUS = "fluid-bolus"


class DrugSource(StrEnum):
    """Where a drug exposure was read from."""

    ADMINISTRATION = "administration"  # MedicationAdministration
    ORDER = "order"  # MedicationRequest already signed (active / on-hold)
    DRAFT = "draft"  # an order in order-sign draftOrders


@dataclass(frozen=True)
class DrugExposure:
    """One administration or order of a drug of interest."""

    drug_class: DrugClass
    ingredient: str  # lower-case generic name, e.g. "norepinephrine", "tocilizumab"
    start: datetime
    source: DrugSource
    status: str  # FHIR status as sent (completed, in-progress, draft, active, ...)
    reference: str  # "MedicationAdministration/<id>" etc.
    end: datetime | None = None
    dose: Decimal | None = None
    dose_unit: str | None = None
    rate: Decimal | None = None
    rate_unit: str | None = None
    is_continuous: bool = False  # effectivePeriod or a rate: a continuous infusion
    request_reference: str | None = None  # MedicationAdministration.request
    product: str | None = None  # brand or product display, when known
    flags: tuple[str, ...] = ()  # e.g. "matched-by-text"
    period_open: bool = False  # timed by an effectivePeriod with a start and no end
    route: str | None = None  # "systemic", "topical", "inhaled", "ophthalmic", ... when known


@dataclass(frozen=True)
class ConditionFact:
    """A coded Condition the criteria read (infection, sJIA, splenomegaly, ...)."""

    concept: str  # e.g. "infection", "sjia", "splenomegaly", "hepatomegaly", "covid19"
    reference: str
    clinical_status: str | None = None
    verification_status: str | None = None
    onset: datetime | None = None
    recorded: datetime | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientInfo:
    """Demographics of the patient."""

    reference: str | None = None  # "Patient/<id>"; never logged
    birth_date: date | None = None
    sex: str | None = None


@dataclass(frozen=True)
class MappingWarning:
    """A resource (or part of one) set aside or read with a caveat. Never holds values."""

    code: str  # short machine code, e.g. "unknown-unit", "entered-in-error"
    message: str  # plain text without clinical values or identifiers
    reference: str | None = None  # "Observation/<id>" when known


@dataclass(frozen=True)
class PatientTimeline:
    """Everything known about one patient at evaluation time."""

    patient: PatientInfo
    measurements: Mapping[str, tuple[Measurement, ...]] = field(default_factory=dict)
    oxygen: tuple[OxygenSupport, ...] = ()
    drugs: tuple[DrugExposure, ...] = ()
    draft_orders: tuple[DrugExposure, ...] = ()
    conditions: tuple[ConditionFact, ...] = ()
    warnings: tuple[MappingWarning, ...] = ()
    unavailable: tuple[str, ...] = ()  # data sets that could not be had (e.g. "medadmin")
    # Laboratory ServiceRequests in order-sign draftOrders: (measurement kind, reference).
    draft_lab_orders: tuple[tuple[str, str], ...] = ()

    def series(self, kind: str) -> tuple[Measurement, ...]:
        """Return the measurements of one kind, oldest first."""
        return self.measurements.get(kind, ())

    def drugs_of(self, *classes: DrugClass) -> tuple[DrugExposure, ...]:
        """Return drug exposures (not drafts) of the given classes, oldest first."""
        wanted = set(classes)
        return tuple(d for d in self.drugs if d.drug_class in wanted)

    def age_years(self, at: datetime) -> int | None:
        """Return the age in whole years at a time, or None without a birth date."""
        born = self.patient.birth_date
        if born is None:
            return None
        day = at.date()
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def sorted_by_time(items: Iterable[Measurement]) -> tuple[Measurement, ...]:
    """Return measurements sorted oldest first (stable for equal times)."""
    return tuple(sorted(items, key=lambda m: m.time))
