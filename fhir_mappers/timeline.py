"""Entry point: the resolved prefetch (FHIR R4 JSON) to a PatientTimeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from criteria.model import Measurement, PatientTimeline, sorted_by_time
from fhir_mappers.conditions import map_conditions
from fhir_mappers.context import Context
from fhir_mappers.medications import map_administrations
from fhir_mappers.notes import Notes
from fhir_mappers.observations import map_observations
from fhir_mappers.options import MapperOptions
from fhir_mappers.orders import map_drafts, map_signed_orders
from fhir_mappers.oxygen import build_oxygen
from fhir_mappers.patient import map_patient
from fhir_mappers.prefetch import collect


def build_timeline(prefetch: Mapping[str, Any], *, now: datetime,
                   expected: Mapping[str, tuple[str, bool]] | None = None,
                   draft_orders: Mapping[str, Any] | None = None,
                   options: MapperOptions | None = None) -> PatientTimeline:
    """Map the prefetch (and draft orders) to a timeline; raise only PrefetchShapeError."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ctx = Context(now=now, options=options or MapperOptions(), notes=Notes())
    found = collect(prefetch, expected, ctx.notes)
    observed = map_observations(found.by_type.get("Observation", []), ctx)
    given = map_administrations(found.by_type.get("MedicationAdministration", []), ctx)
    orders = map_signed_orders(found.by_type.get("MedicationRequest", []), ctx)
    drafts = map_drafts(draft_orders, ctx) if draft_orders is not None else []
    series: dict[str, list[Measurement]] = {}
    for item in observed.measurements:
        series.setdefault(item.kind, []).append(item)
    measurements = {kind: sorted_by_time(items) for kind, items in series.items()}
    oxygen = build_oxygen(
        observed.devices, measurements.get("oxygen_flow", ()), measurements.get("fio2", ()),
        given.oxygen, ctx.options.pairing_tolerance, ctx.options.low_flow_max_l_min,
    )
    return PatientTimeline(
        patient=map_patient(found.patient, ctx),
        measurements=measurements,
        oxygen=oxygen,
        drugs=tuple(sorted([*given.drugs, *orders], key=lambda d: d.start)),
        draft_orders=tuple(sorted(drafts, key=lambda d: d.start)),
        conditions=tuple(sorted(map_conditions(found.by_type.get("Condition", []), ctx),
                                key=lambda c: c.onset or c.recorded or now)),
        warnings=ctx.notes.warnings(),
        unavailable=tuple(found.unavailable),
    )
