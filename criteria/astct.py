"""ASTCT 2019 CRS grade at one time: fever, hypotension tier and hypoxia tier."""

# Source: Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638,
#   doi:10.1016/j.bbmt.2018.12.758 [V against PMC8021214 Table 1, PMC9327779 Table 2, NCCN CART-6]
# Table: ASTCT CRS consensus grading + footnotes; clinical-criteria.md §1.1 items 1-3
# Confidence: V (fever >=38.0 °C, grade = max(hypotension tier, hypoxia tier), >= 1 with fever)
# Codes: LOINC 8310-5 (+8331-1, 8332-9, 8328-7, 8333-7, 8329-5, 75539-7, 60836-4, 8334-5),
#   8480-6, 8478-0, 3151-8, 107117-4 (mapped by fhir_mappers, §4.1)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from criteria.common import in_window
from criteria.hypotension import HypotensionEvent, HypotensionFinding, assess_hypotension
from criteria.model import Measurement, OxygenSupport, PatientTimeline
from criteria.oxygen import OxygenFinding, assess_oxygen
from criteria.rules import RuleSet
from criteria.vasopressors import Infusion, PressorFinding, assess_pressors, infusions


@dataclass(frozen=True)
class CrsFindings:
    """The deciding facts at one time, structured for the card summary."""

    max_temperature: Measurement | None  # 24 h maximum, febrile or not
    temperatures: int  # readings in the temperature window
    fever_min: Decimal  # threshold in Cel
    pressors: PressorFinding
    hypotension: HypotensionFinding
    oxygen: OxygenFinding
    hypotension_tier: int
    hypoxia_tier: int  # 0 when no recent record (then a lower bound)

    @property
    def fever(self) -> Measurement | None:
        """Return the 24 h maximum temperature when it is a fever."""
        return self.max_temperature if self.febrile else None

    @property
    def febrile(self) -> bool:
        """Return whether the 24 h maximum meets the fever threshold."""
        top = self.max_temperature
        return top is not None and top.value >= self.fever_min

    @property
    def counted_pressors(self) -> tuple[Infusion, ...]:
        """Return running vasopressors counted in n."""
        return self.pressors.counted

    @property
    def vasopressin_class(self) -> tuple[Infusion, ...]:
        """Return running vasopressin-class infusions (never counted in n)."""
        return self.pressors.vasopressin_class

    @property
    def changeover(self) -> bool:
        """Return whether two counted pressors overlap for less than the concurrency span."""
        return self.pressors.changeover

    @property
    def oxygen_record(self) -> OxygenSupport | None:
        """Return the oxygen record in use."""
        return self.oxygen.record

    @property
    def oxygen_tier(self) -> int | None:
        """Return the hypoxia tier (None when unknown)."""
        return self.oxygen.tier

    @property
    def hypotension_events(self) -> tuple[HypotensionEvent, ...]:
        """Return confirmed hypotension in the window."""
        return self.hypotension.events


def findings_at(timeline: PatientTimeline, at: datetime, rules: RuleSet,
                treatment_start: datetime | None) -> CrsFindings:
    """Return the ASTCT findings at one time (temperature, pressors, BP, oxygen)."""
    temps = in_window(timeline.series("temperature"),
                      at - rules.duration("astct.temperature_window"), at)
    top = max(temps, key=lambda m: (m.value, m.time)) if temps else None
    chains = infusions(timeline, at, rules)  # once, for the pressor tier and BP confirmation
    pressors = assess_pressors(timeline, at, rules, chains)
    hypotension = assess_hypotension(timeline, at - rules.duration("hypotension.window"), at,
                                     rules, chains)
    oxygen = assess_oxygen(timeline, at, rules, treatment_start)
    bp_tier = pressors.tier
    if hypotension.confirmed and not (pressors.counted or pressors.vasopressin_class):
        bp_tier = max(bp_tier, 2)
    return CrsFindings(top, len(temps), rules.decimal("astct.fever_min"), pressors,
                       hypotension, oxygen, bp_tier, oxygen.tier or 0)


def grade_of(findings: CrsFindings, masked: bool) -> int | None:
    """Return the ASTCT grade: None when no temperature and no masking can decide."""
    worst = max(findings.hypotension_tier, findings.hypoxia_tier)
    if findings.febrile:
        return max(1, worst)
    if masked:
        return worst  # 0 = no active CRS
    if findings.temperatures == 0:
        return None
    return 0
