"""POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback)."""

from __future__ import annotations

from flask import Blueprint, Response

from cds_service.errors import CdsError, UnknownService
from cds_service.http import read_json_body
from cds_service.services import SERVICES

bp = Blueprint("feedback", __name__)


class FeedbackNotStored(CdsError):
    """Feedback cannot be stored durably yet, so it is not acknowledged (501)."""

    status = 501
    code = "feedback-not-implemented"


@bp.route("/cds-services/<service_id>/feedback", methods=["POST", "OPTIONS"])
def post_feedback(service_id: str) -> Response:
    """Refuse feedback honestly until durable storage exists: never a 200 that loses it."""
    if service_id not in SERVICES:
        raise UnknownService(f"no CDS service with id '{service_id}'")
    read_json_body()
    raise FeedbackNotStored("feedback storage is not available in this version; not stored")
