"""Hand-written builder of PatientTimelines for criteria specs (no FHIR involved)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

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

# Day 0: the CAR-T infusion, 08:00 UTC.
DAY0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
ADULT = date(1970, 5, 1)

PRESSOR_CLASS = {
    "norepinephrine": DrugClass.VASOPRESSOR, "epinephrine": DrugClass.VASOPRESSOR,
    "phenylephrine": DrugClass.VASOPRESSOR, "dopamine": DrugClass.VASOPRESSOR,
    "angiotensin ii": DrugClass.VASOPRESSOR, "vasopressin": DrugClass.VASOPRESSIN_CLASS,
    "terlipressin": DrugClass.VASOPRESSIN_CLASS, "dobutamine": DrugClass.INOTROPE,
    "milrinone": DrugClass.INOTROPE,
}
UNITS = {"temperature": "Cel", "systolic_bp": "mm[Hg]", "diastolic_bp": "mm[Hg]",
         "mean_arterial_pressure": "mm[Hg]", "body_weight": "kg", "spo2": "%"}


def day(n: int, hh: int = 8, mm: int = 0) -> datetime:
    """Return day +n after the infusion at hh:mm UTC."""
    return DAY0.replace(hour=hh, minute=mm) + timedelta(days=n)


def hours(n: float) -> timedelta:
    """Return n hours."""
    return timedelta(hours=n)


def minutes(n: float) -> timedelta:
    """Return n minutes."""
    return timedelta(minutes=n)


class Patient:
    """Build one patient's timeline step by step; every method returns the builder."""

    def __init__(self, birth_date: date | None = ADULT) -> None:
        self._ids = count(1)
        self.birth_date = birth_date
        self.measurements: dict[str, list[Measurement]] = defaultdict(list)
        self.oxygen: list[OxygenSupport] = []
        self.drugs: list[DrugExposure] = []
        self.unavailable: tuple[str, ...] = ()

    def _ref(self, kind: str) -> str:
        return f"{kind}/{next(self._ids)}"

    def measure(self, kind: str, at: datetime, value: str | int | float) -> Patient:
        """Record one measurement in its canonical unit."""
        self.measurements[kind].append(Measurement(kind, at, Decimal(str(value)), UNITS[kind],
                                                   self._ref("Observation")))
        return self

    def temp(self, at: datetime, celsius: str | float) -> Patient:
        """Record a body temperature (°C)."""
        return self.measure("temperature", at, celsius)

    def bp(self, at: datetime, sbp: int, dbp: int | None = None) -> Patient:
        """Record a blood pressure (systolic, optionally diastolic)."""
        self.measure("systolic_bp", at, sbp)
        return self.measure("diastolic_bp", at, dbp) if dbp is not None else self

    def map(self, at: datetime, value: int) -> Patient:
        """Record a measured mean arterial pressure."""
        return self.measure("mean_arterial_pressure", at, value)

    def weight(self, at: datetime, kg: str | float) -> Patient:
        """Record a body weight (kg)."""
        return self.measure("body_weight", at, kg)

    def o2(self, at: datetime, modality: OxygenModality, flow: str | float | None = None,
           fio2: str | float | None = None, flags: tuple[str, ...] = ()) -> Patient:
        """Record oxygen support as fhir_mappers would classify it."""
        self.oxygen.append(OxygenSupport(
            at, modality, None if flow is None else Decimal(str(flow)),
            None if fio2 is None else Decimal(str(fio2)), (self._ref("Observation"),), flags))
        return self

    def drug(self, drug_class: DrugClass, ingredient: str, at: datetime, *,
             status: str = "completed", source: DrugSource = DrugSource.ADMINISTRATION,
             end: datetime | None = None, dose: str | None = None, dose_unit: str | None = None,
             rate: str | None = None, rate_unit: str | None = None, continuous: bool = False,
             request: str | None = None, reference: str | None = None,
             period_open: bool = False) -> Patient:
        """Record one drug administration or order."""
        kind = "MedicationRequest" if source is DrugSource.ORDER else "MedicationAdministration"
        self.drugs.append(DrugExposure(
            drug_class, ingredient, at, source, status, reference or self._ref(kind), end,
            None if dose is None else Decimal(dose), dose_unit,
            None if rate is None else Decimal(rate), rate_unit, continuous, request,
            period_open=period_open))
        return self

    def car_t(self, at: datetime = DAY0, product: str = "axicabtagene ciloleucel") -> Patient:
        """Record a CAR-T infusion."""
        return self.drug(DrugClass.CAR_T, product, at)

    def bispecific(self, at: datetime, ingredient: str = "teclistamab") -> Patient:
        """Record a bispecific T-cell engager dose."""
        return self.drug(DrugClass.BISPECIFIC, ingredient, at)

    def infusion(self, ingredient: str, start: datetime, end: datetime | None = None,
                 rate: str | None = None, rate_unit: str = "ug/min") -> Patient:
        """Record a continuous infusion: running (an open effectivePeriod) unless it has an end."""
        return self.drug(PRESSOR_CLASS.get(ingredient, DrugClass.OTHER_PRESSOR), ingredient,
                         start, status="in-progress" if end is None else "completed", end=end,
                         rate=rate, rate_unit=rate_unit if rate else None, continuous=True,
                         period_open=end is None)

    def rate_entry(self, ingredient: str, at: datetime, rate: str = "10",
                   rate_unit: str = "ug/min") -> Patient:
        """Record one charted rate of an infusion (a point in time, status completed)."""
        return self.drug(PRESSOR_CLASS.get(ingredient, DrugClass.OTHER_PRESSOR), ingredient, at,
                         rate=rate, rate_unit=rate_unit, continuous=True)

    def bolus(self, ingredient: str, at: datetime) -> Patient:
        """Record a push dose (not an infusion)."""
        return self.drug(PRESSOR_CLASS.get(ingredient, DrugClass.OTHER_PRESSOR), ingredient, at,
                         dose="100", dose_unit="ug")

    def fluids(self, at: datetime, ml: str | None, over: timedelta | None = None) -> Patient:
        """Record an IV fluid bolus (over 30 min unless told)."""
        span = minutes(30) if over is None else over
        return self.drug(DrugClass.FLUID_BOLUS, "sodium chloride 0.9%", at, end=at + span,
                         dose=ml, dose_unit="mL" if ml else None)

    def acetaminophen(self, at: datetime) -> Patient:
        """Record acetaminophen given."""
        return self.drug(DrugClass.ANTIPYRETIC, "acetaminophen", at, dose="1000", dose_unit="mg")

    def tocilizumab(self, at: datetime, *, status: str = "completed",
                    source: DrugSource = DrugSource.ADMINISTRATION, request: str | None = None,
                    reference: str | None = None) -> Patient:
        """Record a tocilizumab administration (or, with source ORDER, a signed order)."""
        return self.drug(DrugClass.TOCILIZUMAB, "tocilizumab", at, status=status, source=source,
                         request=request, reference=reference)

    def build(self) -> PatientTimeline:
        """Return the timeline."""
        series = {k: tuple(sorted(v, key=lambda m: m.time)) for k, v in self.measurements.items()}
        return PatientTimeline(
            PatientInfo("Patient/p1", self.birth_date), series,
            tuple(sorted(self.oxygen, key=lambda r: r.time)),
            tuple(sorted(self.drugs, key=lambda d: d.start)), unavailable=self.unavailable)
