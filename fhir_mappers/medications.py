"""MedicationAdministrations to DrugExposures (and oxygen given as a drug).

Statuses: completed and in-progress are the ones the criteria count; on-hold, stopped and
unknown are kept with their status as sent, so the criteria can show them but never count
them; entered-in-error and not-done are excluded with a warning. A continuous infusion is
one timed by ``effectivePeriod`` (with or without an end) or with a ``dosage.rate[x]``
(clinical-criteria.md §1.1 item 6); ``period_open`` marks a period with no end. An end after
the evaluation time is dropped (the infusion was still running then), flagged
"end-after-evaluation-time". Fluid boluses carry their volume in mL as the dose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from criteria.model import DrugClass, DrugExposure, DrugSource
from fhir_mappers.codes import Match, device_class, drug_class_of, drug_ingredient
from fhir_mappers.context import UNREADABLE, Context, trimmed
from fhir_mappers.dosage import quantity, rate_of
from fhir_mappers.medref import unmatched
from fhir_mappers.oxygen import OxygenDrug
from fhir_mappers.plausible import plausible, sane_dose
from fhir_mappers.r4 import MedicationAdministration
from fhir_mappers.references import relative
from fhir_mappers.routes import route_of
from fhir_mappers.text import concept_texts
from fhir_mappers.units import convert

KEPT = frozenset({"completed", "in-progress", "on-hold", "stopped", "unknown"})
EXCLUDED = frozenset({"entered-in-error", "not-done"})
_KEEP = frozenset({"resourceType", "id", "status", "medicationCodeableConcept",
                   "medicationReference", "subject", "dosage", "request"})
_ML = {"ml": Decimal(1), "milliliter": Decimal(1), "millilitre": Decimal(1),
       "milliliters": Decimal(1), "millilitres": Decimal(1), "cc": Decimal(1),
       "l": Decimal(1000), "liter": Decimal(1000), "litre": Decimal(1000)}


@dataclass
class AdministrationResult:
    """Drug exposures and oxygen-as-a-drug facts."""

    drugs: list[DrugExposure] = field(default_factory=list)
    oxygen: list[OxygenDrug] = field(default_factory=list)


def medication_concept(raw: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """Return the medication's CodeableConcept (``#contained`` resolved) and reference display."""
    concept = raw.get("medicationCodeableConcept")
    extra: tuple[str, ...] = ()
    ref = raw.get("medicationReference")
    if isinstance(ref, Mapping):
        if isinstance(ref.get("display"), str):
            extra = (ref["display"],)
        target = ref.get("reference")
        contained = raw.get("contained")
        for item in contained if isinstance(contained, list) else ():
            if (isinstance(item, Mapping) and isinstance(target, str)
                    and target == f"#{item.get('id')}"):
                concept = item.get("code")
    return concept, extra


def medication_match(raw: Mapping[str, Any]) -> tuple[Match | None, str | None]:
    """Resolve the drug of a raw MedicationAdministration/Request, and its display."""
    concept, extra = medication_concept(raw)
    found = drug_ingredient(concept, extra)
    display = (concept.get("text") if isinstance(concept, Mapping) else None) or (
        extra[0] if extra else None)
    return found, display if isinstance(display, str) else None


def drug_texts(raw: Mapping[str, Any]) -> list[str]:
    """Return the medication's text, coding displays and reference display."""
    concept, extra = medication_concept(raw)
    return [*concept_texts(concept), *extra]


def flag_text(found: Match, ref: str, ctx: Context) -> tuple[str, ...]:
    """Return the flags of a drug match, warning when it came from text."""
    if not found.by_text:
        return ("unconfirmed-code",) if found.confidence == "R" else ()
    ctx.notes.add("matched-by-text", "drug recognised from its name, not a code", ref)
    return ("matched-by-text",)


def map_administrations(resources: Sequence[Mapping[str, Any]], ctx: Context
                        ) -> AdministrationResult:
    """Map raw MedicationAdministrations of drugs of interest."""
    out = AdministrationResult()
    for raw in resources:
        ref = f"MedicationAdministration/{raw.get('id')}"
        try:
            _administration(raw, ref, ctx, out)
        except UNREADABLE:
            ctx.notes.add("invalid-resource", "administration could not be read", ref)
    return out


def _administration(raw: Mapping[str, Any], ref: str, ctx: Context,
                    out: AdministrationResult) -> None:
    """Map one MedicationAdministration into ``out`` (all or nothing)."""
    found, display = medication_match(raw)
    if found is None:
        unmatched(medication_concept(raw)[0], raw, ref, ctx.notes)
        return  # no criterion reads this drug
    status = raw.get("status")
    if not isinstance(status, str):
        ctx.notes.add("invalid-status", "administration status missing or not valid", ref)
        return
    if status in EXCLUDED:
        ctx.notes.add(status, f"administration status {status} excluded", ref)
        return
    if status not in KEPT:
        ctx.notes.add("invalid-status", "administration status missing or not valid", ref)
        return
    when = ctx.when(raw, "effective", ref)
    if when is None or not ctx.in_window(when.start, when.end, ref, "administrations"):
        return
    model = ctx.validate(MedicationAdministration, trimmed(raw, _KEEP, when, "effective"), ref)
    if model is None:
        return
    dosage = model.dosage
    dose, dose_unit = quantity(dosage.dose if dosage else None)
    rate, rate_unit = rate_of(dosage.rateQuantity, dosage.rateRatio) if dosage else (None, None)
    if not (sane_dose(dose) and sane_dose(rate)):
        ctx.notes.add("invalid-resource", "a dose or rate is not a plausible number", ref)
        return
    drug_class = DrugClass(drug_class_of(found.target))
    if drug_class is DrugClass.FLUID_BOLUS:
        dose, dose_unit = _millilitres(dose, dose_unit, ref, ctx)
    flags = flag_text(found, ref, ctx)
    raw_dosage = raw.get("dosage")
    route, route_flags = route_of(
        raw_dosage.get("route") if isinstance(raw_dosage, Mapping) else None, drug_texts(raw))
    is_period = when.source.endswith("Period")
    end, running = when.end, False
    if end is not None and end > ctx.now:
        end, running, flags = None, True, (*flags, "end-after-evaluation-time")
    drug = DrugExposure(
        drug_class=drug_class, ingredient=found.target, start=when.start,
        source=DrugSource.ADMINISTRATION, status=status, reference=ref, end=end, dose=dose,
        dose_unit=dose_unit, rate=rate, rate_unit=rate_unit,
        is_continuous=is_period or rate is not None,
        request_reference=relative(model.request.reference) if model.request else None,
        product=display, flags=(*flags, *route_flags),
        period_open=is_period and when.end is None, route=route,
    )
    oxygen = None
    if drug.drug_class is DrugClass.OXYGEN:
        running = running or (status == "in-progress" and drug.period_open)
        oxygen = _oxygen(raw, drug, running, ctx)
    out.drugs.append(drug)
    if oxygen is not None:
        out.oxygen.append(oxygen)


def _millilitres(dose: Decimal | None, unit: str | None, ref: str,
                 ctx: Context) -> tuple[Decimal | None, str | None]:
    """Return a fluid volume in mL, or (None, None) with a warning for another unit."""
    if dose is None:
        return None, None
    factor = _ML.get((unit or "").strip().lower())
    if factor is None:
        ctx.notes.add("unknown-unit", "fluid volume unit not convertible to mL", ref)
        return None, None
    return dose * factor, "mL"


def _oxygen(raw: Mapping[str, Any], drug: DrugExposure, running: bool,
            ctx: Context) -> OxygenDrug:
    """Read the flow (L/min) and, if named, the device of oxygen given as a drug."""
    flow = None
    if drug.rate is not None and drug.rate_unit is not None:
        flow = convert("oxygen_flow", drug.rate, drug.rate_unit)
        if flow is None:
            ctx.notes.add("unknown-unit", "oxygen rate unit not convertible to L/min",
                          drug.reference)
        elif not plausible("oxygen_flow", flow):
            ctx.notes.add("implausible-value", "oxygen flow outside its plausible range",
                          drug.reference)
            flow = None
    device = None
    devices = raw.get("device")
    for item in devices if isinstance(devices, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("display"), str):
            hit = device_class(None, item["display"])
            device = hit.target if hit else device
    flags = tuple(f for f in drug.flags if f == "matched-by-text")
    return OxygenDrug(drug.start, drug.end, flow, device, drug.reference, flags, running)
