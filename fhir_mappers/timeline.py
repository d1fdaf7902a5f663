"""Entry point: the resolved prefetch (FHIR R4 JSON) to a PatientTimeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from criteria.model import DrugExposure, Measurement, PatientTimeline, sorted_by_time
from fhir_mappers.context import UNREADABLE, Context
from fhir_mappers.guarded import conditions, draft_entries, drafts, signed_orders
from fhir_mappers.medications import map_administrations, medication_match
from fhir_mappers.medref import inline, tocilizumab_unreadable
from fhir_mappers.notes import Notes
from fhir_mappers.observations import map_observations
from fhir_mappers.options import MapperOptions
from fhir_mappers.orders import draft_lab_orders
from fhir_mappers.oxygen import build_oxygen
from fhir_mappers.patient import map_patient
from fhir_mappers.prefetch import collect

__all__ = ["MapperOptions", "build_timeline"]


def build_timeline(prefetch: Mapping[str, Any], *, now: datetime,
                   expected: Mapping[str, tuple[str, bool]] | None = None,
                   draft_orders: Mapping[str, Any] | None = None,
                   options: MapperOptions | None = None) -> PatientTimeline:
    """Map the prefetch (and draft orders) to a timeline; raise only PrefetchShapeError."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ctx = Context(now=now, options=options or MapperOptions(), notes=Notes())
    found = collect(prefetch, expected, ctx.notes)
    admins = [inline(r, found.medications) for r in found.by_type.get("MedicationAdministration",
                                                                         [])]
    requests = [inline(r, found.medications) for r in found.by_type.get("MedicationRequest", [])]
    observed = map_observations(found.by_type.get("Observation", []), ctx)
    given = map_administrations(admins, ctx)
    orders = signed_orders(requests, ctx)
    draft = drafts(draft_orders, ctx) if draft_orders is not None else []
    series: dict[str, list[Measurement]] = {}
    for item in observed.measurements:
        series.setdefault(item.kind, []).append(item)
    measurements = {kind: sorted_by_time(items) for kind, items in series.items()}
    oxygen = build_oxygen(
        observed.devices, measurements.get("oxygen_flow", ()), measurements.get("fio2", ()),
        given.oxygen, ctx.options.pairing_tolerance, ctx.options.low_flow_max_l_min,
    )
    drugs = [*given.drugs, *orders]
    _unreadable_tocilizumab(admins, requests, draft_orders, [*drugs, *draft], ctx)
    return PatientTimeline(
        patient=_patient(found.patient, ctx),
        measurements=measurements,
        oxygen=oxygen,
        drugs=tuple(sorted(drugs, key=lambda d: d.start)),
        draft_orders=tuple(sorted(draft, key=lambda d: d.start)),
        draft_lab_orders=draft_lab_orders(draft_orders) if draft_orders is not None else (),
        conditions=tuple(sorted([*conditions(found.by_type.get("Condition", []), ctx),
                                 *observed.findings],
                                key=lambda c: c.onset or c.recorded or now)),
        warnings=ctx.notes.warnings(),
        unavailable=tuple(found.unavailable),
    )


def _patient(raw: Mapping[str, Any] | None, ctx: Context) -> Any:
    try:
        return map_patient(raw, ctx)
    except UNREADABLE:
        ctx.notes.add("invalid-resource", "patient could not be read")
        return map_patient(None, ctx)


def _match(raw: Mapping[str, Any]) -> Any:
    try:
        return medication_match(raw)[0]
    except UNREADABLE:
        return None


def _unreadable_tocilizumab(admins: list[Mapping[str, Any]], requests: list[Mapping[str, Any]],
                            draft_orders: Any, kept: list[DrugExposure], ctx: Context) -> None:
    """Warn about tocilizumab records set aside, so no dose is suggested without them."""
    items = [(f"MedicationAdministration/{r.get('id')}", r, _match(r)) for r in admins]
    items += [(f"MedicationRequest/{r.get('id')}", r, _match(r)) for r in requests]
    items += [(ref, r, _match(r)) for ref, r in draft_entries(draft_orders)]
    tocilizumab_unreadable(items, {d.reference for d in kept}, ctx.notes)
