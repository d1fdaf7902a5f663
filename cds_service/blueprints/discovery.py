"""GET /cds-services: the discovery document (CDS Hooks 2.0 §Discovery)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from cds_service.http import json_response
from cds_service.services import SERVICES, ServiceDefinition

bp = Blueprint("discovery", __name__)


def describe(service: ServiceDefinition) -> dict[str, Any]:
    """Return one service's discovery entry."""
    required = [k.name for k in service.prefetch if k.required]
    optional = [k.name for k in service.prefetch if not k.required]
    return {
        "hook": service.hook,
        "id": service.id,
        "title": service.title,
        "description": service.description,
        "prefetch": {k.name: k.template for k in service.prefetch},
        "usageRequirements": (
            f"Required prefetch: {', '.join(required)}. Optional: {', '.join(optional)}; "
            "without them the service answers with what it can still assess and says what "
            "was unavailable. Missing keys are fetched from fhirServer with the bearer token."
        ),
    }


@bp.get("/cds-services")
def discovery() -> Response:
    """List the services."""
    return json_response({"services": [describe(s) for s in SERVICES.values()]})
