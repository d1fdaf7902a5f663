"""Who is screened for CRS: a CAR-T infusion or bispecific dose inside its look-back window."""

# Source: ASTCT grading is defined for CRS after immune effector cell and T-cell engaging
#   therapies (Lee DW et al., BBMT 2019;25:625-638, doi:10.1016/j.bbmt.2018.12.758).
# Table: clinical-criteria.md §0 Defaults (CRS screening, Index dose, Treatment start)
# Confidence: assumption (windows 30 d / 14 d, configurable; see docs/criteria-crs.md)
# Codes: CAR-T and bispecific products per clinical-criteria.md §4.4 (classified by fhir_mappers)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from criteria.common import given, say_duration
from criteria.model import DrugClass, DrugExposure, PatientTimeline
from criteria.rules import RuleSet


@dataclass(frozen=True)
class Screening:
    """Whether CRS is assessed for this patient, and why."""

    screened: bool | None  # None: medication data unavailable, cannot tell
    reason: str
    index_dose: DrugExposure | None
    treatment_start: datetime | None
    rule: str | None  # the rule constant that admitted the patient

    def to_json(self) -> dict[str, object]:
        """Return the JSON form for Assessment.extra["screening"]."""
        out: dict[str, object] = {"screened": self.screened, "reason": self.reason}
        if self.index_dose is not None:
            out["indexDose"] = self.index_dose.reference
        return out


def iec_doses(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> list[DrugExposure]:
    """Return given CAR-T infusions and bispecific doses up to now, oldest first."""
    doses = [d for d in timeline.drugs_of(DrugClass.CAR_T, DrugClass.BISPECIFIC)
             if given(d, rules) and d.start <= now]
    return sorted(doses, key=lambda d: d.start)


def treatment_start(doses: list[DrugExposure], index: DrugExposure, rules: RuleSet) -> datetime:
    """Return the CAR-T infusion, or the first bispecific dose of the index dose's course."""
    if index.drug_class is DrugClass.CAR_T:
        return index.start
    gap = rules.duration("screening.course_gap")
    course = [d.start for d in doses
              if d.drug_class is DrugClass.BISPECIFIC and d.start <= index.start]
    start = index.start
    for earlier in reversed(course):
        if start - earlier > gap:
            break
        start = earlier
    return start


def screen(timeline: PatientTimeline, now: datetime, rules: RuleSet) -> Screening:
    """Decide whether CRS is assessed at this time, naming the window that applies."""
    doses = iec_doses(timeline, now, rules)
    index = doses[-1] if doses else None
    start = treatment_start(doses, index, rules) if index else None
    windows = ((DrugClass.CAR_T, "screening.car_t_window", "CAR-T infusion"),
               (DrugClass.BISPECIFIC, "screening.bispecific_window", "bispecific dose"))
    for drug_class, key, what in windows:
        latest = [d for d in doses if d.drug_class is drug_class]
        if latest and now - latest[-1].start <= rules.duration(key):
            ago = say_duration(now - latest[-1].start)
            reason = (f"{what} ({latest[-1].ingredient}) {ago} ago, within the "
                      f"{rules.constant(key).shown()} screening window")
            return Screening(True, reason, index, start, key)
    if rules.flag("screening.everyone"):
        return Screening(True, "site setting: every patient is screened for CRS", index, start,
                         "screening.everyone")
    if "medadmin" in timeline.unavailable:
        return Screening(None, "medication administrations unavailable: CAR-T or bispecific "
                         "therapy cannot be checked", index, start, None)
    car_t = rules.constant("screening.car_t_window").shown()
    bispecific = rules.constant("screening.bispecific_window").shown()
    reason = (f"not screened for CRS: no CAR-T infusion in the last {car_t} and no bispecific "
              f"dose in the last {bispecific}; ASTCT CRS grading applies only after immune "
              "effector cell or T-cell engaging therapy")
    return Screening(False, reason, index, start, None)
