"""CDS Hooks JSON rules: no null, "", [] or {} anywhere in what we emit.

Spec: CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/#cds-service-response); project checklist
reference/cds-hooks.md §1. The only allowed empties are ``{"cards": []}`` and
``{"services": []}`` at the top level of a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Top-level members that may be an empty array (no advice, no services).
ALLOWED_EMPTY_TOP_LEVEL = frozenset({"cards", "services"})


def _is_empty(value: Any) -> bool:
    """Return True for null, "", [] and {}."""
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def find_empty_values(payload: Any) -> list[str]:
    """Return JSON paths of every null, "", [] or {} (except top-level cards/services [])."""
    found: list[str] = []

    def walk(value: Any, path: str, top: bool) -> None:
        if isinstance(value, Mapping):
            if not value:
                found.append(path)
            for key, child in value.items():
                child_path = f"{path}.{key}"
                if top and key in ALLOWED_EMPTY_TOP_LEVEL and child == []:
                    continue
                walk(child, child_path, False)
        elif isinstance(value, list | tuple):
            if not value:
                found.append(path)
            for index, child in enumerate(value):
                walk(child, f"{path}[{index}]", False)
        elif _is_empty(value):
            found.append(path)

    walk(payload, "$", True)
    return found


def strip_empty(payload: Any) -> Any:
    """Return a copy without null/empty members, dropping containers that become empty."""
    if isinstance(payload, Mapping):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            cleaned = strip_empty(value)
            if not _is_empty(cleaned):
                out[key] = cleaned
        return out
    if isinstance(payload, list | tuple):
        items = [strip_empty(v) for v in payload]
        return [v for v in items if not _is_empty(v)]
    return payload
