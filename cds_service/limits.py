"""Structural limits on a parsed JSON body: nesting depth, string length, prefetch resources.

Checked once, right after parsing (``cds_service.http.read_json_body``), in one iterative
walk so that no later code (validation, mappers, criteria) sees a pathological body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.errors import InvalidHookRequest, PayloadTooLarge


class NestingTooDeep(InvalidHookRequest):
    """The JSON body nests deeper than CDS_MAX_JSON_DEPTH (400)."""

    code = "limit-json-depth"


class StringTooLong(PayloadTooLarge):
    """A string (or object key) is longer than CDS_MAX_STRING_LENGTH (413)."""

    code = "limit-string-length"


class TooManyResources(PayloadTooLarge):
    """Prefetch and draftOrders hold more resources than CDS_MAX_PREFETCH_RESOURCES (413)."""

    code = "limit-prefetch-resources"


@dataclass(frozen=True)
class BodyLimits:
    """The three structural limits (the byte size is checked before parsing)."""

    max_depth: int = 64
    max_string: int = 100_000
    max_resources: int = 20_000


def depth_error(limit: int) -> NestingTooDeep:
    """Return the error for a body nested deeper than ``limit``."""
    return NestingTooDeep(f"the JSON body nests deeper than the limit of {limit} levels "
                          "(CDS_MAX_JSON_DEPTH)")


def _string_error(limit: int) -> StringTooLong:
    return StringTooLong(f"a string in the body is longer than the limit of {limit} characters "
                         "(CDS_MAX_STRING_LENGTH)")


def check_structure(body: Any, limits: BodyLimits) -> None:
    """Raise for a body over the depth or string-length limit (one walk, no recursion)."""
    max_depth, max_string = limits.max_depth, limits.max_string
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise depth_error(max_depth)
        if isinstance(node, dict):
            for key, value in node.items():
                if len(key) > max_string:
                    raise _string_error(max_string)
                if isinstance(value, str):
                    if len(value) > max_string:
                        raise _string_error(max_string)
                elif isinstance(value, (dict, list)):
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            for value in node:
                if isinstance(value, str):
                    if len(value) > max_string:
                        raise _string_error(max_string)
                elif isinstance(value, (dict, list)):
                    stack.append((value, depth + 1))
        elif isinstance(node, str) and len(node) > max_string:
            raise _string_error(max_string)


def _resources(value: Any) -> int:
    """Count the resources a prefetch value holds: a Bundle's entries, else one."""
    if isinstance(value, Mapping):
        entries = value.get("entry") if value.get("resourceType") == "Bundle" else None
        return len(entries) if isinstance(entries, list) else 1
    return 0


def count_resources(body: Any) -> int:
    """Return the resources in ``prefetch`` and ``context.draftOrders`` of a hook request."""
    if not isinstance(body, Mapping):
        return 0
    prefetch = body.get("prefetch")
    total = sum(_resources(v) for v in prefetch.values()) if isinstance(prefetch, Mapping) else 0
    context = body.get("context")
    if isinstance(context, Mapping):
        total += _resources(context.get("draftOrders"))
    return total


def check_body(body: Any, limits: BodyLimits) -> None:
    """Raise a 400/413 CdsError naming the limit a parsed body breaks."""
    check_structure(body, limits)
    if count_resources(body) > limits.max_resources:
        raise TooManyResources(f"prefetch and draftOrders hold more than the limit of "
                               f"{limits.max_resources} resources (CDS_MAX_PREFETCH_RESOURCES)")
