"""One error hierarchy for the HTTP edge; each error knows its status and short code."""

from __future__ import annotations


class CdsError(Exception):
    """Base error: rendered as ``{"error": code, "detail": detail}`` with ``status``."""

    status = 500
    code = "internal-error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class InvalidHookRequest(CdsError):
    """The body breaks a rule of the CDS Hooks request (400)."""

    status = 400
    code = "invalid-request"


class Unauthorized(CdsError):
    """Missing or invalid client JWT (401, empty body)."""

    status = 401
    code = "unauthorized"


class UnknownService(CdsError):
    """No service with that id (404)."""

    status = 404
    code = "unknown-service"


class UnsupportedMediaType(CdsError):
    """The body is not sent as application/json (415)."""

    status = 415
    code = "unsupported-media-type"


class PayloadTooLarge(CdsError):
    """The body is over the configured size limit (413)."""

    status = 413
    code = "payload-too-large"


class PrefetchUnavailable(CdsError):
    """Required prefetch data cannot be had (412, CDS Hooks 2.0 §Prefetch)."""

    status = 412
    code = "prefetch-unavailable"

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"required prefetch key '{key}' is unavailable: {reason}")
        self.key = key
        self.reason = reason


class FhirServerError(CdsError):
    """The FHIR server failed or timed out (502/504); used inside the data-access layer."""

    status = 502
    code = "fhir-server-error"
