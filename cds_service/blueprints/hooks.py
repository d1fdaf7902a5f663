"""POST /cds-services/{id}: evaluate one hook call (CDS Hooks 2.0 §Calling a CDS Service)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cds_service.errors import UnknownService
from cds_service.http import json_response, read_json_body
from cds_service.pipeline import evaluate
from cds_service.services import SERVICES

bp = Blueprint("hooks", __name__)


@bp.route("/cds-services/<service_id>", methods=["POST", "OPTIONS"])
def call_service(service_id: str) -> Response:
    """Validate the request, resolve its data, and answer with cards."""
    service = SERVICES.get(service_id)
    if service is None:
        raise UnknownService(f"no CDS service with id '{service_id}'")
    body = read_json_body()
    result = evaluate(service, body, settings=current_app.config["SETTINGS"],
                      rules=current_app.config["RULES"],
                      session_factory=current_app.config.get("FHIR_SESSION_FACTORY"))
    return json_response(result.response)
