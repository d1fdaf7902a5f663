"""HTTP plumbing shared by every blueprint: JSON bodies, CORS, errors, security headers."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import orjson
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from cds_service.errors import CdsError, InvalidHookRequest, PayloadTooLarge, UnsupportedMediaType
from cds_service.limits import BodyLimits, check_body, depth_error
from cds_service.settings import Settings

log = logging.getLogger(__name__)

CORS_ALLOW_HEADERS = "Authorization, Content-Type"
CORS_ALLOW_METHODS = "GET, POST, OPTIONS"
# JSON only, never framed, never cached, no referrer (docs/reliability.md, "Security headers").
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


def json_response(payload: Any, status: int = 200) -> Response:
    """Return a JSON response serialised with orjson."""
    return Response(orjson.dumps(payload), status=status, mimetype="application/json")


def error_response(code: str, detail: str, status: int) -> Response:
    """Return the project's error body: {"error": code, "detail": detail}."""
    return json_response({"error": code, "detail": detail}, status)


def body_limits(settings: Settings) -> BodyLimits:
    """Return the structural body limits of the settings."""
    return BodyLimits(max_depth=settings.max_json_depth, max_string=settings.max_string_length,
                      max_resources=settings.max_prefetch_resources)


def read_json_body() -> Any:
    """Return the parsed JSON body; raise 415, 413 or 400 (in that order of checks).

    After parsing, the structural limits (depth, string length, prefetch resources) are
    checked once, so that nothing downstream sees a pathological body.
    """
    settings: Settings = current_app.config["SETTINGS"]
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        raise PayloadTooLarge(f"the body is over the limit of {settings.max_body_bytes} bytes")
    data = request.stream.read(settings.max_body_bytes + 1)
    if len(data) > settings.max_body_bytes:
        raise PayloadTooLarge(f"the body is over the limit of {settings.max_body_bytes} bytes")
    if not data:
        raise InvalidHookRequest("the request body is empty", code="invalid-body")
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if exc.msg == "depth limit exceeded":  # orjson's own bound (1024) is past ours
            raise depth_error(settings.max_json_depth) from None
        raise InvalidHookRequest(f"the body is not valid JSON ({exc.msg})",
                                 code="malformed-json") from None
    check_body(body, body_limits(settings))
    return body


def _allowed_origin(settings: Settings) -> str | None:
    origin = request.headers.get("Origin")
    if "*" in settings.cors_origins:
        return "*"
    if origin and origin in settings.cors_origins:
        return origin
    return None


def add_cors_headers(response: Response) -> Response:
    """Put CORS and security headers on every response, errors included (cds-hooks.md §10)."""
    settings: Settings = current_app.config["SETTINGS"]
    origin = _allowed_origin(settings)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        if origin != "*":
            response.headers.add("Vary", "Origin")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
            response.headers["Access-Control-Max-Age"] = "600"
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if settings.base_url.startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def handle_cds_error(exc: CdsError) -> Response:
    """Render a CdsError; 401 has no body (cds-hooks.md §5)."""
    if exc.status == 401:
        resp = Response(status=401)
        resp.headers["WWW-Authenticate"] = "Bearer"
        return resp
    return error_response(exc.code, exc.detail, exc.status)


def handle_http_exception(exc: HTTPException) -> Response:
    """Render werkzeug's 404/405/413/... as JSON, keeping headers such as Allow."""
    status = exc.code or 500
    codes = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}
    resp = error_response(codes.get(status, "http-error"), exc.description or exc.name, status)
    for key, val in exc.get_headers():
        if key == "Allow":
            resp.headers[key] = val
    return resp


def handle_unexpected(exc: Exception) -> Response:
    """Never show a traceback: log the type and code location only, answer a bare 500."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    # The message is not logged: it may carry clinical values from the request.
    log.error("unhandled %s at %s", type(exc).__name__, where)
    return error_response("internal-error", "an unexpected error occurred", 500)


def install(app: Flask) -> None:
    """Wire the handlers and response hooks into an app."""
    app.register_error_handler(CdsError, handle_cds_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(add_cors_headers)
