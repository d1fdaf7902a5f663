"""Prefetch template tokens: the bearer token, token values and rendering (CDS Hooks 2.0).

Spec: https://cds-hooks.hl7.org/2.0/#prefetch-tokens. Only context values that cannot
change a URL's structure are rendered; a template with an unresolvable token is never sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_SAFE = re.compile(r"[A-Za-z0-9\-.]{1,64}(/[A-Za-z0-9\-.]{1,64})?")
_USER = re.compile(
    r"(?:^|/)(Practitioner|PractitionerRole|Patient|RelatedPerson)/([A-Za-z0-9\-.]{1,64})$")
_VISIBLE = re.compile(r"[\x21-\x7e]+")


def bearer_token(request: Mapping[str, Any], warnings: list[str]) -> str | None:
    """Return the usable bearer token of ``fhirAuthorization``, noting gaps as warnings."""
    auth = request.get("fhirAuthorization")
    if auth is None:
        return None
    token, kind = (auth.get("access_token"), auth.get("token_type")) if isinstance(
        auth, Mapping) else (None, None)
    if not (isinstance(token, str) and _VISIBLE.fullmatch(token)
            and isinstance(kind, str) and kind.lower() == "bearer"):
        warnings.append("fhirAuthorization ignored: no usable Bearer access_token")
        return None
    context = request.get("context")
    patient = context.get("patientId") if isinstance(context, Mapping) else None
    if "patient" not in auth:
        warnings.append("fhirAuthorization has no patient; context.patientId is used")
    elif auth["patient"] != patient:
        warnings.append("fhirAuthorization.patient differs from context.patientId")
    if "expires_in" not in auth:
        warnings.append("fhirAuthorization has no expires_in")
    return token


def token_values(context: Mapping[str, Any]) -> dict[str, str]:
    """Return the prefetch token values a hook context offers (context fields, user ids)."""
    values = {f"context.{name}": value for name, value in context.items()
              if isinstance(value, str) and _SAFE.fullmatch(value)}
    user = context.get("userId")
    match = _USER.search(user) if isinstance(user, str) else None
    if match:
        values[f"user{match.group(1)}Id"] = match.group(2)
    return values


def render(template: str, values: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Return (rendered template, None), or (None, reason) when a token cannot be resolved."""
    for token in _TOKEN.findall(template):
        if token not in values:
            return None, f"template token {{{{{token}}}}} cannot be resolved"
    return _TOKEN.sub(lambda m: values[m.group(1)], template), None


def request_inputs(request: Mapping[str, Any], warnings: list[str]
                   ) -> tuple[str | None, dict[str, str], Mapping[str, Any]]:
    """Return a request's bearer token, its template token values and its prefetch object."""
    token = bearer_token(request, warnings)
    context = request.get("context")
    values = token_values(context if isinstance(context, Mapping) else {})
    prefetch = request.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, Mapping):
        warnings.append("prefetch is not an object; every key is treated as absent")
        prefetch = None
    return token, values, prefetch or {}
