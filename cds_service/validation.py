"""Validate a CDS Hooks 2.0 request body: strict where the spec is, lenient elsewhere.

Hard failures (400) come from the JSON Schema in ``schemas/hook-request.json``; softer
problems that real clients send are returned as warnings (cds-hooks.md §3, §9).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from cds_service.errors import InvalidHookRequest
from cds_service.services import ServiceDefinition

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@cache
def request_validator() -> Draft202012Validator:
    """Return the validator for hook requests (schema read once from package data)."""
    text = resources.files("cds_service").joinpath("schemas/hook-request.json").read_text()
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "body"


def _describe(error: ValidationError) -> str:
    """Return a short message naming the failing field (no values echoed back)."""
    where = _where(error)
    if error.validator == "required":
        wanted: list[str] = list(error.validator_value)  # type: ignore[arg-type]  # list for "required"
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((m for m in wanted if m not in instance), "?")
        field = f"{where}.{missing}" if where != "body" else missing
        return f"{field} is required"
    if error.validator == "dependentRequired":
        return "fhirServer is required when fhirAuthorization is present (cds-r-1)"
    if error.validator == "type":
        return f"{where} must be of type {error.validator_value}"
    if error.validator == "const":
        return f"{where} must be {error.validator_value!r}"
    if error.validator == "minLength":
        return f"{where} must not be empty"
    return f"{where} is invalid ({error.validator})"


def validate_request(body: Any, service: ServiceDefinition) -> list[str]:
    """Raise InvalidHookRequest for a §3 400 case; return warnings for the rest."""
    if not isinstance(body, dict):
        raise InvalidHookRequest("the request body must be a JSON object", code="invalid-body")
    error = best_match(request_validator().iter_errors(body))
    if error is not None:
        raise InvalidHookRequest(_describe(error))
    if body["hook"] != service.hook:
        raise InvalidHookRequest(
            f"the request's hook is not registered for service '{service.id}'"
            f" (expected '{service.hook}')",
            code="hook-mismatch",
        )
    return _warnings(body)


def _warnings(body: Mapping[str, Any]) -> list[str]:
    warnings: list[str] = []
    if not _UUID.match(body["hookInstance"]):
        warnings.append("hookInstance is not a UUID; accepted")
    # fhirAuthorization gaps are noted where the token is read (cds_service.prefetch).
    draft = body["context"].get("draftOrders")
    if isinstance(draft, dict) and not draft.get("entry"):
        warnings.append("draftOrders has no entries")
    return warnings
