"""GET /openapi.json: the OpenAPI 3.1 description of the HTTP surface (package data)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from flask import Blueprint, Response

bp = Blueprint("openapi", __name__)


@cache
def document() -> bytes:
    """Return the packaged OpenAPI document, read once."""
    return resources.files("cds_service").joinpath("openapi.json").read_bytes()


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document (a client JWT is needed, as for discovery)."""
    return Response(document(), mimetype="application/json")
