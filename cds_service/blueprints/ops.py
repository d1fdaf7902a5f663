"""Liveness and readiness probes: no authentication, no access log."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cds_service.db import get_db
from cds_service.http import json_response

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer 200 while the process is up."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Answer 200 when the database answers at the newest schema and rules are loaded."""
    checks = {
        "storage": get_db().at_head(),
        "rules": current_app.config.get("RULES") is not None,
    }
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not-ready",
            "checks": {k: "ok" if v else "failing" for k, v in checks.items()}}
    return json_response(body, 200 if ready else 503)
