"""Resolve prefetch keys from the request or from ``fhirServer`` (reference/cds-hooks.md §4).

Spec: CDS Hooks 2.0 §Prefetch, https://cds-hooks.hl7.org/2.0/#prefetch-template.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urljoin

import requests

from cds_service.errors import FhirServerError, PrefetchUnavailable
from cds_service.fhir_client import FhirAccessSettings, FhirClient, access_problem
from cds_service.prefetch_templates import bearer_token, render, request_inputs, token_values
from cds_service.services import PrefetchKey, ServiceDefinition

__all__ = ["OUTCOME", "SERVER_OUTCOME", "ResolvedPrefetch", "bearer_token", "render",
           "resolve_prefetch", "token_values"]

log = logging.getLogger(__name__)

WORKERS = 4
MARGIN = 0.1  # seconds the caller may wait past the deadline for workers to report
OUTCOME = "prefetch held an OperationOutcome"
SERVER_OUTCOME = "FHIR server returned an OperationOutcome"

_TIMES = {
    "Observation": ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod"),
}


@dataclass(frozen=True)
class ResolvedPrefetch:
    """Prefetch data per key, with what could not be had and request-level notes."""

    data: dict[str, Any]
    unavailable: dict[str, str]
    warnings: tuple[str, ...]
    fetched: tuple[str, ...]


@dataclass
class _Result:
    value: dict[str, Any] | None = None
    reason: str | None = None  # why the key is unavailable, or partially so when value is set
    fetched: bool = False
    failed: bool = False  # no data at all could be had


def _failure(reason: str) -> _Result:
    return _Result(reason=reason, failed=True)


def _time(resource: Mapping[str, Any]) -> datetime | None:
    for field in _TIMES.get(str(resource.get("resourceType")), ()):
        value = resource.get(field)
        value = value.get("start") if isinstance(value, Mapping) else value
        if not isinstance(value, str):
            continue
        try:
            when = datetime.fromisoformat(value if len(value) > 7 else (value + "-01-01")[:10])
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _is_error_outcome(resource: Mapping[str, Any]) -> bool:
    issues = resource.get("issue")
    return isinstance(issues, list) and any(
        isinstance(i, Mapping) and i.get("severity") in ("error", "fatal") for i in issues)


class _Malformed(Exception):
    """A Bundle whose entry or link is not a list (the key is then unavailable)."""


def _listed(bundle: Mapping[str, Any], field: str) -> list[Any]:
    found = bundle.get(field)
    if found is not None and not isinstance(found, list):
        raise _Malformed(f"Bundle.{field} is not a list")
    return found or []


def _entries(bundle: Mapping[str, Any], key: str) -> list[dict[str, Any]] | None:
    """Return the data entries of a Bundle page, or None if it carries an error outcome."""
    kept = []
    for entry in _listed(bundle, "entry"):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            continue
        if resource.get("resourceType") == "OperationOutcome":
            if _is_error_outcome(resource):
                return None
            log.info("prefetch key %s: Bundle carries an informational OperationOutcome", key)
            continue
        kept.append(entry)
    return kept


def _link(bundle: Mapping[str, Any], relation: str = "next") -> str | None:
    for link in _listed(bundle, "link"):
        if isinstance(link, Mapping) and link.get("relation") == relation:
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def _covered(entries: list[dict[str, Any]], since: datetime) -> bool:
    times = [t for e in entries
             if not (isinstance(e.get("search"), Mapping) and e["search"].get("mode") == "include")
             and (t := _time(e["resource"])) is not None]
    return bool(times) and min(times) < since


def _page(key: PrefetchKey, first: dict[str, Any] | None, url: str | None,
          client: FhirClient | None, problem: str | None, since: datetime,
          max_pages: int) -> _Result:
    """Read a searchset page by page, merging entries into one Bundle without links."""
    result, bundle, entries, pages = _Result(), first, [], 0
    head: dict[str, Any] | None = None
    seen: set[str | None] = set()
    while True:
        if bundle is None:
            if client is None or url is None:
                raise ValueError("a page fetch needs a client and a URL")
            try:
                bundle = client.get_json(url)
            except FhirServerError as exc:
                if pages == 0:
                    return _failure(exc.detail)
                result.reason = f"page {pages + 1} failed ({exc.detail}); older data not read"
                break
            finally:
                result.fetched = True
        if bundle.get("resourceType") == "OperationOutcome":
            return _failure(SERVER_OUTCOME)
        if bundle.get("resourceType") != "Bundle":
            return _failure(f"FHIR server answered a search with a {bundle.get('resourceType')}")
        try:
            page_entries, link = _entries(bundle, key.name), _link(bundle)
            seen.add(url or (_link(bundle, "self") if pages == 0 else None))
        except _Malformed as exc:
            if pages == 0:
                return _failure(f"{'prefetch' if first is not None else 'FHIR server'} {exc}")
            result.reason = f"page {pages + 1} is malformed ({exc}); older data not read"
            break
        if page_entries is None:
            if pages == 0:
                return _failure(OUTCOME if first is not None else SERVER_OUTCOME)
            result.reason = f"page {pages + 1} held an OperationOutcome; older data not read"
            break
        pages += 1
        head = head or bundle
        entries += page_entries
        if link is None or _covered(page_entries, since):
            break
        nxt = urljoin(url or (client.base_url if client else ""), link)
        if client is None:
            result.reason = f"more pages exist but {problem}; older data not read"
            break
        if pages >= max_pages:
            result.reason = f"page bound reached ({max_pages} pages); older data not read"
            break
        if not client.same_origin(nxt):
            result.reason = "next page link points to another server; older data not read"
            break
        if nxt in seen:
            log.warning("prefetch key %s: next link repeats a page already read", key.name)
            break
        seen.add(nxt)
        bundle, url = None, nxt
    if entries and head is not None:
        result.value = {k: v for k, v in head.items() if k != "link"} | {"entry": entries}
    return result


def _read(key: PrefetchKey, value: Mapping[str, Any], source: str) -> _Result:
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        return _failure(OUTCOME if source == "prefetch" else SERVER_OUTCOME)
    if kind != key.resource_type:
        return _failure(f"{source} held a {kind}, not a {key.resource_type}")
    return _Result(value=dict(value))


def _job(key: PrefetchKey, first: dict[str, Any] | None, path: str | None,
         make_client: Callable[[], FhirClient], since: datetime, max_pages: int) -> _Result:
    """Fetch a key (from ``path``) or the later pages of a prefetched Bundle (``first``)."""
    started = time.monotonic()
    with make_client() as client:
        url = client.url_for(path) if path is not None else None
        if key.is_search or url is None:
            result = _page(key, first, url, client, None, since, max_pages)
        else:
            try:
                result = _read(key, client.get_json(url), "FHIR server")
            except FhirServerError as exc:
                result = _failure(exc.detail)
            result.fetched = True
    log.info("prefetch key %s: FHIR server work took %d ms", key.name,
             (time.monotonic() - started) * 1000)
    return result


def resolve_prefetch(service: ServiceDefinition, request: Mapping[str, Any],
                     settings: FhirAccessSettings, *, window_start: datetime,
                     session_factory: Callable[[], requests.Session] | None = None,
                     ) -> ResolvedPrefetch:
    """Resolve every prefetch key of a service; raise PrefetchUnavailable for a required one."""
    deadline = time.monotonic() + settings.total_budget
    since = window_start if window_start.tzinfo else window_start.replace(tzinfo=UTC)
    warnings: list[str] = []
    token, values, prefetch = request_inputs(request, warnings)
    server = request.get("fhirServer")
    problem = access_problem(server, token is not None, settings)
    make_client = partial(FhirClient, str(server), token, settings, deadline=deadline,
                          session_factory=session_factory)
    results: dict[str, _Result] = {}
    jobs: dict[str, Callable[[], _Result]] = {}
    for key in service.prefetch:
        if key.name in prefetch:
            value = prefetch[key.name]
            if problem is None and _needs_more(key, value, since):
                jobs[key.name] = partial(_job, key, value, None, make_client, since,
                                         settings.max_pages)
            else:
                results[key.name] = _given(key, value, problem, since, settings.max_pages)
            continue
        url, why = render(key.template, values)
        if url is None or problem is not None:
            results[key.name] = _failure(why or str(problem))
        else:
            jobs[key.name] = partial(_job, key, None, url, make_client, since, settings.max_pages)
    _raise_for_required(service, results)
    if jobs:
        results.update(_run(jobs, deadline))
        _raise_for_required(service, results)
    return ResolvedPrefetch(
        data={k.name: results[k.name].value for k in service.prefetch
              if not results[k.name].failed},
        unavailable={k.name: str(results[k.name].reason) for k in service.prefetch
                     if results[k.name].reason},
        warnings=tuple(warnings),
        fetched=tuple(k.name for k in service.prefetch if results[k.name].fetched),
    )


def _needs_more(key: PrefetchKey, value: Any, since: datetime) -> bool:
    """Tell whether a prefetched searchset has a next page the window still needs."""
    if not (key.is_search and isinstance(value, dict) and value.get("resourceType") == "Bundle"):
        return False
    try:
        entries, link = _entries(value, key.name), _link(value)
        return entries is not None and link is not None and not _covered(entries, since)
    except _Malformed:
        return False  # _given reports the key unavailable


def _given(key: PrefetchKey, value: Any, problem: str | None, since: datetime,
           max_pages: int) -> _Result:
    """Interpret a key the client prefetched, without contacting the FHIR server."""
    if value is None:
        return _Result()
    if not isinstance(value, dict):
        return _failure("prefetch value is not a FHIR resource")
    kind = value.get("resourceType")
    if not key.is_search or kind == "OperationOutcome":
        return _read(key, value, "prefetch")
    if kind != "Bundle":
        return _failure(f"prefetch held a {kind}, not a search Bundle")
    return _page(key, value, None, None, problem, since, max_pages)


def _raise_for_required(service: ServiceDefinition, results: Mapping[str, _Result]) -> None:
    for key in service.prefetch:
        result = results.get(key.name)
        if key.required and result is not None and result.failed:
            log.warning("required prefetch key %s unavailable", key.name)
            raise PrefetchUnavailable(key.name, str(result.reason))


def _run(jobs: Mapping[str, Callable[[], _Result]], deadline: float) -> dict[str, _Result]:
    """Run fetch jobs on a small pool; a job still running at the deadline counts as timed out."""
    pool = ThreadPoolExecutor(max_workers=min(WORKERS, len(jobs)),
                              thread_name_prefix="prefetch")
    try:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + MARGIN)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return {name: future.result() if future.done() and not future.cancelled()
            else _failure("FHIR server timed out") for name, future in futures.items()}
