"""Hand-built patient timelines for card tests, evaluated with the real criteria."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cards.crs_card import crs_cards
from criteria.crs import CrsResult, assess_crs
from criteria.model import (
    DrugClass,
    DrugExposure,
    DrugSource,
    Measurement,
    OxygenModality,
    OxygenSupport,
    PatientInfo,
    PatientTimeline,
)
from criteria.rules import load_rules
from criteria.steroids import steroid_for_grade
from criteria.tocilizumab import TocilizumabCheck, check_tocilizumab

NOW = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
CLINICIAN = "Practitioner/dr-1"


def ago(hours: float) -> datetime:
    """Return NOW minus some hours."""
    return NOW - timedelta(hours=hours)


def reading(kind: str, hours: float, value: str, unit: str) -> Measurement:
    """Return one measurement taken some hours before NOW."""
    return Measurement(kind, ago(hours), Decimal(value), unit, f"Observation/{kind}-{hours}")


def drug(drug_class: DrugClass, name: str, hours: float, *, continuous: bool = False,
         status: str = "completed", product: str | None = None) -> DrugExposure:
    """Return an administration started some hours before NOW."""
    return DrugExposure(drug_class, name, ago(hours), DrugSource.ADMINISTRATION,
                        "in-progress" if continuous else status,
                        f"MedicationAdministration/{name.replace(' ', '-')}-{hours}",
                        rate=Decimal("8") if continuous else None,
                        rate_unit="ug/min" if continuous else None,
                        is_continuous=continuous, product=product, period_open=continuous)


def pressor(name: str, hours: float) -> DrugExposure:
    """Return a running vasopressor infusion (an open effectivePeriod) started hours before NOW."""
    return drug(DrugClass.VASOPRESSOR, name, hours, continuous=True)


CAR_T = drug(DrugClass.CAR_T, "axicabtagene ciloleucel", 72, product="Yescarta")


@dataclass
class Patient:
    """A CAR-T patient 3 days after infusion; fields add findings."""

    temps: tuple[tuple[float, str], ...] = ((30, "38.6"), (2, "39.4"))
    sbp: tuple[tuple[float, str], ...] = ((4, "118"),)
    oxygen: OxygenSupport | None = None
    drugs: tuple[DrugExposure, ...] = ()
    weight_kg: str | None = "70"
    born: date = date(1970, 1, 1)
    extra: dict[str, tuple[Measurement, ...]] = field(default_factory=dict)

    def timeline(self) -> PatientTimeline:
        """Return the patient's timeline."""
        measurements: dict[str, tuple[Measurement, ...]] = {
            "temperature": tuple(reading("temperature", h, v, "Cel") for h, v in self.temps),
            "systolic_bp": tuple(reading("systolic_bp", h, v, "mm[Hg]") for h, v in self.sbp),
        }
        if self.weight_kg is not None:
            measurements["body_weight"] = (reading("body_weight", 48, self.weight_kg, "kg"),)
        measurements.update(self.extra)
        o2 = self.oxygen or OxygenSupport(ago(1), OxygenModality.ROOM_AIR,
                                          references=("Observation/o2-room-air",))
        return PatientTimeline(PatientInfo("Patient/p1", self.born), measurements, (o2,),
                               (CAR_T, *self.drugs))


def o2(modality: OxygenModality, flow: str | None = None) -> OxygenSupport:
    """Return an oxygen record taken one hour before NOW."""
    return OxygenSupport(ago(1), modality, Decimal(flow) if flow else None,
                         references=("Observation/o2",))


@dataclass(frozen=True)
class Evaluated:
    """A CRS result, its tocilizumab check, and the cards made from them."""

    result: CrsResult
    toci: TocilizumabCheck
    cards: list[dict[str, Any]]

    @property
    def card(self) -> dict[str, Any]:
        """Return the one card."""
        assert len(self.cards) == 1
        return self.cards[0]


def evaluate(patient: Patient, *, user_id: str = CLINICIAN,
             unavailable: Mapping[str, str] | None = None) -> Evaluated:
    """Assess CRS for a patient at NOW and build its cards, as the pipeline does."""
    rules = load_rules()
    timeline = patient.timeline()
    result = assess_crs(timeline, NOW, rules)
    onset = result.episode.onset if result.episode else None
    toci = check_tocilizumab(timeline, NOW, rules, onset)
    steroid = steroid_for_grade(result.astct.grade or 0, rules)
    cards = crs_cards(result, toci, steroid, patient_id="p1", user_id=user_id,
                      unavailable=unavailable or {}, now=NOW)
    return Evaluated(result, toci, cards)


GRADE_1 = Patient()
GRADE_2 = Patient(oxygen=o2(OxygenModality.LOW_FLOW_CANNULA, "4"))
GRADE_3 = Patient(oxygen=o2(OxygenModality.HIGH_FLOW_CANNULA, "8"),
                  drugs=(pressor("norepinephrine", 5),))
GRADE_4 = Patient(oxygen=o2(OxygenModality.BIPAP), drugs=(pressor("norepinephrine", 5),))
GRADE_0 = Patient(temps=((30, "37.1"), (2, "37.0")))
