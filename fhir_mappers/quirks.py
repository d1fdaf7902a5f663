"""Fix-ups for shapes real clients send in order-sign draftOrders (cds-hooks.md §9).

Each fix-up is applied to a copy before validation and recorded as a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_mappers.notes import Notes

_STU3_DOSE = ("doseQuantity", "doseRange", "rateQuantity", "rateRatio", "rateRange")


def normalise_bundle(bundle: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Default a missing Bundle.type to 'collection' (the sandbox omits it)."""
    out = dict(bundle)
    if "type" not in out:
        out["type"] = "collection"
        notes.add("fixup-bundle-type", "draftOrders Bundle had no type; read as collection")
    return out


def normalise_order(resource: Mapping[str, Any], ref: str, notes: Notes) -> dict[str, Any]:
    """Wrap a single category object in a list; move STU3 dose[x]/rate[x] into doseAndRate."""
    out = dict(resource)
    if isinstance(out.get("category"), Mapping):
        out["category"] = [out["category"]]
        notes.add("fixup-category", "category sent as an object; wrapped in a list", ref)
    instructions = out.get("dosageInstruction")
    if isinstance(instructions, list):
        fixed = []
        for item in instructions:
            if isinstance(item, Mapping) and any(k in item for k in _STU3_DOSE):
                item = dict(item)
                moved = {k: item.pop(k) for k in _STU3_DOSE if k in item}
                item["doseAndRate"] = [moved, *item.get("doseAndRate", [])]
                notes.add("fixup-stu3-dose", "dose/rate moved into doseAndRate", ref)
            fixed.append(item)
        out["dosageInstruction"] = fixed
    return out
