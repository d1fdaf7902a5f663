"""The one code path from a CDS Hooks request body to its response.

Used by the HTTP endpoint and by ``crs-cds evaluate``: validate -> resolve prefetch ->
map to a PatientTimeline -> criteria -> cards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from cds_service.errors import InvalidHookRequest
from cds_service.fhir_client import FhirAccessSettings
from cds_service.outcomes import run_service
from cds_service.prefetch import ResolvedPrefetch, resolve_prefetch
from cds_service.services import ServiceDefinition
from cds_service.settings import Settings
from cds_service.validation import validate_request
from criteria.model import PatientTimeline
from criteria.rules import RuleSet
from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.timeline import MapperOptions, build_timeline

SessionFactory = Callable[[], requests.Session]
MAPPER_UNAVAILABLE = "the prefetch held an error OperationOutcome in place of data"


@dataclass(frozen=True)
class Evaluation:
    """The response, every assessment computed (with or without a card) and the warnings."""

    response: dict[str, Any]
    assessments: list[dict[str, Any]]
    warnings: list[str]


def fhir_access(settings: Settings) -> FhirAccessSettings:
    """Return the data-access settings derived from the service settings."""
    return FhirAccessSettings(
        connect_timeout=settings.fhir_connect_timeout,
        read_timeout=settings.fhir_read_timeout,
        total_budget=settings.fhir_total_budget,
        retries=settings.fhir_retries,
        max_pages=settings.fhir_max_pages,
        allow_open_server=settings.allow_open_fhir_server,
        allowed_http_hosts=settings.allowed_http_fhir_hosts,
        allowed_hosts=settings.fhir_host_allowlist,
    )


def _timeline(service: ServiceDefinition, body: Mapping[str, Any], resolved: ResolvedPrefetch,
              now: datetime, options: MapperOptions) -> PatientTimeline:
    expected = {k.name: (k.resource_type, k.is_search) for k in service.prefetch}
    draft = body["context"].get("draftOrders") if service.hook == "order-sign" else None
    try:
        timeline = build_timeline(resolved.data, now=now, expected=expected,
                                  draft_orders=draft, options=options)
    except PrefetchShapeError as exc:
        raise InvalidHookRequest(f"prefetch.{exc.key}: {exc.detail}",
                                 code="invalid-prefetch") from None
    # Bare key names: the criteria test membership ("medadmin" in timeline.unavailable).
    keys = sorted(set(timeline.unavailable) | set(resolved.unavailable))
    return dataclasses.replace(timeline, unavailable=tuple(keys))


def evaluate(service: ServiceDefinition, body: Any, *, settings: Settings, rules: RuleSet,
             now: datetime | None = None,
             session_factory: SessionFactory | None = None) -> Evaluation:
    """Evaluate one request; raise a CdsError subclass for a 4xx outcome."""
    warnings = validate_request(body, service)
    now = now or datetime.now(UTC)
    options = MapperOptions()
    resolved = resolve_prefetch(service, body, fhir_access(settings),
                                window_start=now - options.max_lookback,
                                session_factory=session_factory)
    warnings.extend(resolved.warnings)
    timeline = _timeline(service, body, resolved, now, options)
    warnings.extend(f"{w.code}: {w.message}" + (f" ({w.reference})" if w.reference else "")
                    for w in timeline.warnings)
    unavailable = {key: resolved.unavailable.get(key, MAPPER_UNAVAILABLE)
                   for key in timeline.unavailable}
    cards, assessments = run_service(service, body, timeline, now, rules, unavailable)
    response: dict[str, Any] = {"cards": cards}
    notes: dict[str, Any] = {}
    if unavailable:
        notes["crs-cds.unavailable"] = unavailable
    if warnings:
        notes["crs-cds.warnings"] = warnings
    if notes:
        response["extension"] = notes
    return Evaluation(response=response, assessments=assessments, warnings=warnings)
