"""The one code path from a CDS Hooks request body to its response.

Used by the HTTP endpoint and by ``crs-cds evaluate``: validate -> resolve prefetch ->
map to a PatientTimeline -> criteria -> cards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
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
from criteria.model import MappingWarning, PatientTimeline
from criteria.order_checks import of_interest
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


def _format(warnings: Sequence[MappingWarning]) -> list[str]:
    return [f"{w.code}: {w.message}" + (f" ({w.reference})" if w.reference else "")
            for w in warnings]


def _nothing_to_check(service: ServiceDefinition, body: Mapping[str, Any], now: datetime,
                      options: MapperOptions) -> list[str] | None:
    """For order-sign, return the draft warnings when no draft order is of interest."""
    if service.hook != "order-sign":
        return None
    drafts = build_timeline({}, now=now, draft_orders=body["context"]["draftOrders"],
                            options=options)
    return None if of_interest(drafts) else _format(drafts.warnings)


def _response(cards: list[dict[str, Any]], unavailable: Mapping[str, str],
              warnings: list[str]) -> dict[str, Any]:
    response: dict[str, Any] = {"cards": cards}
    notes: dict[str, Any] = {}
    if unavailable:
        notes["crs-cds.unavailable"] = dict(unavailable)
    if warnings:
        notes["crs-cds.warnings"] = warnings
    if notes:
        response["extension"] = notes
    return response


def evaluate(service: ServiceDefinition, body: Any, *, settings: Settings, rules: RuleSet,
             now: datetime | None = None,
             session_factory: SessionFactory | None = None) -> Evaluation:
    """Evaluate one request; raise a CdsError subclass for a 4xx outcome."""
    warnings = validate_request(body, service)
    now = now or datetime.now(UTC)
    options = MapperOptions()
    quiet = _nothing_to_check(service, body, now, options)
    if quiet is not None:  # no order of interest: answer at once, fetch nothing
        warnings.extend(quiet)
        return Evaluation(_response([], {}, warnings), [], warnings)
    resolved = resolve_prefetch(service, body, fhir_access(settings),
                                window_start=now - options.max_lookback,
                                session_factory=session_factory)
    warnings.extend(resolved.warnings)
    timeline = _timeline(service, body, resolved, now, options)
    warnings.extend(_format(timeline.warnings))
    unavailable = {key: resolved.unavailable.get(key, MAPPER_UNAVAILABLE)
                   for key in timeline.unavailable}
    cards, assessments = run_service(service, body, timeline, now, rules, unavailable)
    return Evaluation(_response(cards, unavailable, warnings), assessments, warnings)
