"""Builder helpers for the hyperinflammation specs: labs with reference ranges, Conditions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from criteria.model import CANONICAL_UNITS, ConditionFact, Measurement, PatientTimeline
from tests.unit.criteria.builders import ADULT, DAY0, Patient, day, hours

__all__ = ["DAY0", "Hyper", "day", "hours"]


class Hyper(Patient):
    """A Patient builder that also records labs (canonical units) and coded Conditions."""

    def __init__(self, birth_date: date | None = ADULT) -> None:
        super().__init__(birth_date)
        self.conditions: list[ConditionFact] = []

    def lab(self, kind: str, at: datetime, value: str | int | float, *,
            low: str | int | float | None = None, high: str | int | float | None = None,
            flags: tuple[str, ...] = ()) -> Hyper:
        """Record a lab value in its canonical unit, with an optional reference range."""
        self.measurements[kind].append(Measurement(
            kind, at, Decimal(str(value)), CANONICAL_UNITS[kind], self._ref("Observation"),
            None if low is None else Decimal(str(low)),
            None if high is None else Decimal(str(high)), flags=flags))
        return self

    def labs(self, at: datetime, **values: str | int | float) -> Hyper:
        """Record several labs at one time (no reference ranges)."""
        for kind, value in values.items():
            self.lab(kind, at, value)
        return self

    def condition(self, concept: str, verification: str | None = "confirmed",
                  at: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> Hyper:
        """Record a coded Condition naming a concept."""
        self.conditions.append(ConditionFact(concept, self._ref("Condition"), "active",
                                             verification, onset=at))
        return self

    def build(self) -> PatientTimeline:
        """Return the timeline with the Conditions."""
        base = super().build()
        return PatientTimeline(base.patient, base.measurements, base.oxygen, base.drugs,
                               conditions=tuple(self.conditions), unavailable=base.unavailable)
