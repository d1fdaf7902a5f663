"""Walk the resolved prefetch: shape checks, Bundle entries, OperationOutcomes, duplicates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.notes import Notes

CONSUMED = frozenset(
    {"Observation", "MedicationAdministration", "MedicationRequest", "Condition"}
)


@dataclass
class Collected:
    """Raw resources of interest, grouped by type, each counted once."""

    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    patient: dict[str, Any] | None = None
    unavailable: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, resource: dict[str, Any], notes: Notes) -> None:
        """Keep a resource unless the same type and id was kept already."""
        rtype = resource["resourceType"]
        rid = resource.get("id")
        if not isinstance(rid, str) or not rid:
            notes.add("missing-id", f"{rtype} without an id set aside", None)
            return
        if (rtype, rid) in self._seen:
            return  # the same resource in two keys (or twice in one): counted once
        self._seen.add((rtype, rid))
        self.by_type.setdefault(rtype, []).append(resource)


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
        rtype = value.get("resourceType")
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
        elif rtype in CONSUMED:
            out.add(dict(value), notes)
        elif strict and want is None and not isinstance(rtype, str):
            raise PrefetchShapeError(key, "not a FHIR resource (no resourceType)")
    return out


def _check_shape(key: str, rtype: Any, want: tuple[str, bool]) -> None:
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
        if rtype == "OperationOutcome":
            if is_failure(resource):
                notes.add("operation-outcome", f"prefetch key {key} carries an error outcome")
            continue
        if rtype in CONSUMED:
            out.add(dict(resource), notes)
        # other types (an _include'd Patient, Encounter, ...) are skipped quietly
