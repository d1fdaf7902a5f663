"""Walk the resolved prefetch: shape checks, Bundle entries, OperationOutcomes, duplicates.

De-duplication (same type and id in two keys, or twice in one Bundle) does not depend on key
order: an entered-in-error copy wins (the resource was withdrawn), then the higher
``meta.versionId``, then the later ``meta.lastUpdated``, then a fixed order of the contents.
Copies that differ are reported as "duplicate-conflict". Medication resources (``_include``d
or returned in any key) are kept to resolve ``medicationReference``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.fhirtime import TimeProblem, parse_datetime
from fhir_mappers.notes import Notes
from fhir_mappers.text import codings

CONSUMED = frozenset(
    {"Observation", "MedicationAdministration", "MedicationRequest", "Condition"}
)
KEPT = CONSUMED | {"Medication"}


def _canonical(resource: Mapping[str, Any]) -> str:
    try:
        return json.dumps(resource, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""


def withdrawn(resource: Mapping[str, Any]) -> bool:
    """Return True for an entered-in-error resource (status, or a Condition's verification)."""
    if resource.get("status") == "entered-in-error":
        return True
    verification = codings(resource.get("verificationStatus"))
    return any(code == "entered-in-error" for _, code in verification)


def _rank(resource: Mapping[str, Any]) -> tuple[bool, int, float, str]:
    """Order copies of one resource: withdrawn, version, last update, then contents."""
    meta = resource.get("meta")
    meta = meta if isinstance(meta, Mapping) else {}
    version = meta.get("versionId")
    number = int(version) if isinstance(version, str) and version.isdigit() and len(
        version) < 19 else -1
    try:
        updated = parse_datetime(meta.get("lastUpdated"), None).timestamp()
    except (TimeProblem, OverflowError, ValueError):
        updated = float("-inf")
    return withdrawn(resource), number, updated, _canonical(resource)


@dataclass
class Collected:
    """Raw resources of interest, grouped by type, each counted once."""

    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    patient: dict[str, Any] | None = None
    unavailable: list[str] = field(default_factory=list)
    medications: dict[str, dict[str, Any]] = field(default_factory=dict)
    _copies: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    _urls: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, resource: dict[str, Any], notes: Notes, full_url: Any = None) -> None:
        """Keep a copy of a resource; copies of one type and id are settled by ``finish``."""
        rtype = str(resource["resourceType"])
        rid = resource.get("id")
        if not isinstance(rid, str) or not rid:
            notes.add("missing-id", f"{rtype} without an id set aside", None)
            return
        self._copies.setdefault((rtype, rid), []).append(resource)
        if isinstance(full_url, str) and full_url:
            self._urls[full_url] = (rtype, rid)

    @staticmethod
    def _settle(rtype: str, rid: str, copies: list[dict[str, Any]],
                notes: Notes) -> dict[str, Any]:
        """Pick the winning copy of a duplicated resource (a lone copy needs no ranking)."""
        ranked = [(_rank(c), c) for c in copies]
        if len({rank[3] for rank, _ in ranked}) > 1:
            notes.add("duplicate-conflict", "copies of one resource differ; one was chosen",
                      f"{rtype}/{rid}")
        return max(ranked, key=lambda pair: pair[0])[1]

    def finish(self, notes: Notes) -> Collected:
        """Pick one copy of each resource (order-independent) and index Medications."""
        for (rtype, rid), copies in self._copies.items():
            best = copies[0] if len(copies) == 1 else self._settle(rtype, rid, copies, notes)
            self.by_type.setdefault(rtype, []).append(best)
            if rtype == "Medication":
                self.medications[f"Medication/{rid}"] = best
        for url, (rtype, rid) in self._urls.items():
            if rtype == "Medication":
                self.medications[url] = self.medications[f"Medication/{rid}"]
        return self


def is_failure(outcome: Mapping[str, Any]) -> bool:
    """Return True if an OperationOutcome has an error or fatal issue."""
    issues = outcome.get("issue")
    return isinstance(issues, list) and any(
        isinstance(i, Mapping) and i.get("severity") in ("error", "fatal") for i in issues
    )


def collect(prefetch: Mapping[str, Any], expected: Mapping[str, tuple[str, bool]] | None,
            notes: Notes) -> Collected:
    """Check each key's shape and gather the resources the mappers consume."""
    out = Collected()
    for key, value in prefetch.items():
        if value is None:
            continue  # CDS Hooks 2.0: null means no data
        want = expected.get(key) if expected is not None else None
        strict = expected is None or want is not None
        if not isinstance(value, Mapping):
            if strict:
                raise PrefetchShapeError(key, "not a JSON object")
            notes.add("prefetch-not-object", "unrequested prefetch key is not an object")
            continue
        found = value.get("resourceType")
        rtype = found if isinstance(found, str) else None
        if rtype == "OperationOutcome":
            if is_failure(value):
                out.unavailable.append(key)
                notes.add("prefetch-failed", f"prefetch key {key} holds an error outcome")
            continue
        if want is not None:
            _check_shape(key, rtype, want)
        if rtype == "Bundle":
            _walk_bundle(key, value, out, notes, strict)
        elif rtype == "Patient" and (want is None or want[0] == "Patient"):
            out.patient = dict(value)
        elif rtype in KEPT:
            out.add(dict(value), notes)
        elif strict and want is None and rtype is None:
            raise PrefetchShapeError(key, "not a FHIR resource (no resourceType)")
    return out.finish(notes)


def _check_shape(key: str, rtype: str | None, want: tuple[str, bool]) -> None:
    wanted_type, is_search = want
    if is_search and rtype != "Bundle":
        raise PrefetchShapeError(key, f"expected a searchset Bundle of {wanted_type}")
    if not is_search and rtype != wanted_type:
        raise PrefetchShapeError(key, f"expected a {wanted_type} resource")


def _walk_bundle(key: str, bundle: Mapping[str, Any], out: Collected, notes: Notes,
                 strict: bool) -> None:
    entries = bundle.get("entry")
    if entries is None:
        return  # no entries: no data (CDS Hooks 2.0.1)
    if not isinstance(entries, list):
        if strict:
            raise PrefetchShapeError(key, "Bundle.entry is not a list")
        notes.add("malformed-bundle", f"prefetch key {key} has a malformed entry list")
        return
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            notes.add("malformed-entry", f"an entry of prefetch key {key} has no resource")
            continue
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str):
            notes.add("invalid-resource", f"an entry of prefetch key {key} has no resourceType")
            continue
        if rtype == "OperationOutcome":
            if is_failure(resource):
                notes.add("operation-outcome", f"prefetch key {key} carries an error outcome")
            continue
        if rtype in KEPT:
            out.add(dict(resource), notes, entry.get("fullUrl"))
        # other types (an _include'd Patient, Encounter, ...) are skipped quietly
