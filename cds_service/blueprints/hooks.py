"""POST /cds-services/{id}: evaluate one hook call (CDS Hooks 2.0 §Calling a CDS Service)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g
from sqlalchemy.exc import SQLAlchemyError

from cds_service.db import get_db
from cds_service.db.audit import AuditLog, IssueContext
from cds_service.errors import UnknownService
from cds_service.http import json_response, read_json_body
from cds_service.pipeline import evaluate
from cds_service.services import SERVICES

bp = Blueprint("hooks", __name__)
log = logging.getLogger(__name__)


@bp.route("/cds-services/<service_id>", methods=["POST", "OPTIONS"])
def call_service(service_id: str) -> Response:
    """Validate the request, resolve its data, and answer with cards."""
    service = SERVICES.get(service_id)
    if service is None:
        raise UnknownService(f"no CDS service with id '{service_id}'")
    body = read_json_body()
    if isinstance(body, dict) and isinstance(body.get("hookInstance"), str):
        g.hook_instance = body["hookInstance"][:128]
    clock = current_app.config.get("CLOCK")  # tests and replays fix the time; default now
    result = evaluate(service, body, settings=current_app.config["SETTINGS"],
                      rules=current_app.config["RULES"], now=clock() if clock else None,
                      session_factory=current_app.config.get("FHIR_SESSION_FACTORY"))
    record_cards(service_id, body, result.response.get("cards") or [])
    return json_response(result.response)


def record_cards(service_id: str, body: dict[str, Any], cards: list[dict[str, Any]]) -> None:
    """Write the issued cards to the audit table (docs/audit.md).

    A failed write is logged and the cards are still sent: withholding clinical advice
    because the audit store is down would be worse than a gap in the audit.
    """
    g.cards_issued = len(cards)
    if not cards:
        return
    ctx = IssueContext(
        service_id=service_id, hook_instance=str(body["hookInstance"]),
        patient_id=str(body["context"]["patientId"]),
        rules_version=str(getattr(current_app.config["RULES"], "version", None) or "unknown"),
        client_iss=g.get("jwt_iss"), request_id=g.get("request_id") or "-",
        issued_at=datetime.now(UTC))
    try:
        AuditLog(get_db(), current_app.extensions["crs_cds_hasher"]).record(cards, ctx)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        log.error("audit write failed (%s): %d card(s) sent unrecorded",
                  type(exc).__name__, len(cards), extra={"event": "audit-failed"})
