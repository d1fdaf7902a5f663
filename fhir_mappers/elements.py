"""Memoised element checks of Observations: code lookup and R4B element validation.

A valid element is kept by its exact JSON bytes (``fhir_mappers.memo``): the same bytes
validate and resolve the same way, so each distinct element is checked once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_mappers.codes import Match, observation_kind
from fhir_mappers.context import Context
from fhir_mappers.memo import ELEMENTS, MISSING, tagged


class Invalid(Exception):
    """An element failed validation; the Observation is set aside."""


def kind_of(code: Any) -> Match | None:
    """Return what an Observation (or component) code resolves to (``observation_kind``)."""
    key = tagged("kind", code)
    found = ELEMENTS.get(key)
    if found is MISSING:
        found = observation_kind(code)
        ELEMENTS.put(key, found)
    return found  # type: ignore[no-any-return]


def of_interest(raw: Mapping[str, Any]) -> Match | None:
    """Return the code match, or a panel placeholder if only components are of interest."""
    found = kind_of(raw.get("code"))
    if found is not None:
        return found
    components = raw.get("component")
    for comp in components if isinstance(components, list) else ():
        if isinstance(comp, Mapping) and kind_of(comp.get("code")) is not None:
            return Match("bp_panel", False)
    return None


def element(model: Any, data: Any, ref: str, ctx: Context, where: str) -> Any:
    """Validate one element with its R4B model; raise Invalid (after a warning) on failure.

    A valid element is kept by its exact JSON bytes: the same bytes validate the same way.
    """
    key = tagged(model.__name__, data) if isinstance(data, Mapping) else None
    found = ELEMENTS.get(key)
    if found is not MISSING:
        return found
    found = ctx.validate(model, data, ref, at=where) if isinstance(data, Mapping) else None
    if found is None:
        if not isinstance(data, Mapping):
            ctx.notes.add("invalid-resource", f"failed FHIR R4 validation at {where}", ref)
        raise Invalid
    ELEMENTS.put(key, found)
    return found
