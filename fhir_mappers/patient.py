"""The Patient resource to PatientInfo (birth date, sex); warnings never name the patient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from criteria.model import PatientInfo
from fhir_mappers.context import Context
from fhir_mappers.fhirtime import parse_date
from fhir_mappers.r4 import Patient

_KEEP = frozenset({"resourceType", "id", "birthDate", "gender"})


def map_patient(raw: Mapping[str, Any] | None, ctx: Context) -> PatientInfo:
    """Return PatientInfo; an unusable Patient gives an empty one with a warning."""
    if raw is None:
        return PatientInfo()
    model = ctx.validate(Patient, {k: v for k, v in raw.items() if k in _KEEP}, None)
    if model is None:
        return PatientInfo()
    reference = f"Patient/{model.id}" if model.id else None
    birth = raw.get("birthDate")
    born = parse_date(birth) if isinstance(birth, str) and len(birth) == 10 else None
    if birth is not None and born is None:
        ctx.notes.add("imprecise-birth-date", "birth date is partial; age unknown")
    return PatientInfo(reference=reference, birth_date=born, sex=model.gender)
