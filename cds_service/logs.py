"""JSON-lines logging: one line per request, and every other log record as JSON too.

A request line has the request id, method, route, service id, hookInstance, status,
latency and, when authenticated, the caller's iss and jti. Nothing else from the request
is logged: no headers, no tokens, no body, no patient ids or clinical values.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, Response, g, request

log = logging.getLogger("cds_service.requests")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Extra fields a record may carry into its JSON line; anything else is dropped.
FIELDS = ("event", "request_id", "method", "route", "service_id", "hook_instance", "status",
          "latency_ms", "reason", "iss", "jti", "cards")
_HANDLER_FLAG = "_crs_cds_json"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line (exception text is never included)."""
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        return orjson.dumps(out).decode()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # stream type varies
    """A stream handler that writes to whatever ``sys.stderr`` is at the time of the record."""

    def __init__(self) -> None:
        super().__init__()

    @property  # read-only here: always the current stderr
    def stream(self) -> Any:
        """Return the current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


# Third-party loggers never logged below WARNING, whatever CDS_LOG_LEVEL says.
QUIET_LIBRARIES = ("urllib3", "requests", "werkzeug", "jwt", "sqlalchemy.engine")


def configure(level: str) -> logging.Handler:
    """Send the root logger's records as JSON lines to stderr (idempotent)."""
    wanted = logging.getLevelNamesMapping()[level.upper()]
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)), None)
    if handler is None:
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        setattr(handler, _HANDLER_FLAG, True)
        root.addHandler(handler)
    handler.setLevel(wanted)
    if root.level == logging.NOTSET or root.level > wanted:
        root.setLevel(wanted)
    for name in QUIET_LIBRARIES:  # their DEBUG/INFO records carry URLs, so patient ids
        logging.getLogger(name).setLevel(max(wanted, logging.WARNING))
    return handler


def _start() -> None:
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    rid = g.get("request_id")
    if rid is not None:
        response.headers["X-Request-Id"] = rid
    if request.blueprint == "ops" or request.method == "OPTIONS":
        return response  # probes and preflights are not access-logged
    started = g.get("started")
    latency = round((time.perf_counter() - started) * 1000, 1) if started else None
    route = request.url_rule.rule if request.url_rule is not None else None
    service_id = (request.view_args or {}).get("service_id")
    log.info("%s %s %d", request.method, route or "(no route)", response.status_code, extra={
        "event": "request", "request_id": rid, "method": request.method, "route": route,
        "service_id": service_id if isinstance(service_id, str) else None,
        "hook_instance": g.get("hook_instance"), "status": response.status_code,
        "latency_ms": latency, "iss": g.get("jwt_iss"), "jti": g.get("jwt_jti"),
        "cards": g.get("cards_issued")})
    return response


def init_app(app: Flask, level: str) -> None:
    """Configure JSON logging and the per-request line; call before other request hooks."""
    configure(level)
    app.before_request(_start)
    app.after_request(_finish)
