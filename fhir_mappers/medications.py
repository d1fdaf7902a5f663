"""MedicationAdministrations to DrugExposures (and oxygen given as a drug).

Statuses: completed and in-progress are the ones the criteria count; on-hold, stopped and
unknown are kept with their status as sent, so the criteria can show them but never count
them; entered-in-error and not-done are excluded with a warning. A continuous infusion is
one with ``effectivePeriod`` or a ``dosage.rate[x]``. An end after the evaluation time is
dropped (the infusion was still running then), flagged "end-after-evaluation-time".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from criteria.model import DrugClass, DrugExposure, DrugSource
from fhir_mappers.codes import Match, device_class, drug_class_of, drug_ingredient
from fhir_mappers.context import Context, trimmed
from fhir_mappers.dosage import quantity, rate_of
from fhir_mappers.oxygen import OxygenDrug
from fhir_mappers.r4 import MedicationAdministration
from fhir_mappers.units import convert

KEPT = frozenset({"completed", "in-progress", "on-hold", "stopped", "unknown"})
EXCLUDED = frozenset({"entered-in-error", "not-done"})
_KEEP = frozenset({"resourceType", "id", "status", "medicationCodeableConcept",
                   "medicationReference", "subject", "dosage", "request"})


@dataclass
class AdministrationResult:
    """Drug exposures and oxygen-as-a-drug facts."""

    drugs: list[DrugExposure] = field(default_factory=list)
    oxygen: list[OxygenDrug] = field(default_factory=list)


def medication_match(raw: Mapping[str, Any]) -> tuple[Match | None, str | None]:
    """Resolve the drug of a raw MedicationAdministration/Request, and its display."""
    concept = raw.get("medicationCodeableConcept")
    extra: tuple[str, ...] = ()
    ref = raw.get("medicationReference")
    if isinstance(ref, Mapping):
        if isinstance(ref.get("display"), str):
            extra = (ref["display"],)
        target = ref.get("reference")
        for item in raw.get("contained") or ():
            if (isinstance(item, Mapping) and isinstance(target, str)
                    and target == f"#{item.get('id')}"):
                concept = item.get("code")
    found = drug_ingredient(concept, extra)
    display = (concept.get("text") if isinstance(concept, Mapping) else None) or (
        extra[0] if extra else None)
    return found, display if isinstance(display, str) else None


def flag_text(found: Match, ref: str, ctx: Context) -> tuple[str, ...]:
    """Return the flags of a drug match, warning when it came from text."""
    if not found.by_text:
        return ("unconfirmed-code",) if found.confidence == "R" else ()
    ctx.notes.add("matched-by-text", "drug recognised from its name, not a code", ref)
    return ("matched-by-text",)


def map_administrations(resources: list[dict[str, Any]], ctx: Context) -> AdministrationResult:
    """Map raw MedicationAdministrations of drugs of interest."""
    out = AdministrationResult()
    for raw in resources:
        found, display = medication_match(raw)
        if found is None:
            continue  # no criterion reads this drug
        ref = f"MedicationAdministration/{raw['id']}"
        status = raw.get("status")
        if status in EXCLUDED:
            ctx.notes.add(str(status), f"administration status {status} excluded", ref)
            continue
        if status not in KEPT:
            ctx.notes.add("invalid-status", "administration status missing or not valid", ref)
            continue
        when = ctx.when(raw, "effective", ref)
        if when is None or not ctx.in_window(when.start, when.end, ref, "administrations"):
            continue
        model = ctx.validate(MedicationAdministration, trimmed(raw, _KEEP, when, "effective"),
                             ref)
        if model is None:
            continue
        flags = flag_text(found, ref, ctx)
        end = when.end
        if end is not None and end > ctx.now:
            end, flags = None, (*flags, "end-after-evaluation-time")
        dose, dose_unit = quantity(model.dosage.dose if model.dosage else None)
        rate, rate_unit = (rate_of(model.dosage.rateQuantity, model.dosage.rateRatio)
                           if model.dosage else (None, None))
        drug = DrugExposure(
            drug_class=DrugClass(drug_class_of(found.target)), ingredient=found.target,
            start=when.start, source=DrugSource.ADMINISTRATION, status=str(status),
            reference=ref, end=end, dose=dose, dose_unit=dose_unit, rate=rate,
            rate_unit=rate_unit, is_continuous=when.end is not None or rate is not None,
            request_reference=model.request.reference if model.request else None,
            product=display, flags=flags,
        )
        out.drugs.append(drug)
        if drug.drug_class is DrugClass.OXYGEN:
            out.oxygen.append(_oxygen(raw, drug, ctx))
    return out


def _oxygen(raw: Mapping[str, Any], drug: DrugExposure, ctx: Context) -> OxygenDrug:
    """Read the flow (L/min) and, if named, the device of oxygen given as a drug."""
    flow = None
    if drug.rate is not None and drug.rate_unit is not None:
        flow = convert("oxygen_flow", drug.rate, drug.rate_unit)
        if flow is None:
            ctx.notes.add("unknown-unit", "oxygen rate unit not convertible to L/min",
                          drug.reference)
    device = None
    for item in raw.get("device") or ():
        if isinstance(item, Mapping) and isinstance(item.get("display"), str):
            hit = device_class(None, item["display"])
            device = hit.target if hit else device
    flags = tuple(f for f in drug.flags if f == "matched-by-text")
    return OxygenDrug(drug.start, drug.end, flow, device, drug.reference, flags)
