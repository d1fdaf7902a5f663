"""POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback; cds-hooks.md §6).

Every item is checked before anything is stored; one malformed item fails the request
with 400 naming its field, and a 200 ``{"stored": N}`` is sent only after the commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g

from cds_service.db import get_db
from cds_service.db.feedback import FeedbackItem, FeedbackStore
from cds_service.errors import InvalidHookRequest, UnknownService
from cds_service.http import json_response, read_json_body
from cds_service.services import SERVICES

bp = Blueprint("feedback", __name__)

OUTCOMES = ("accepted", "overridden")
MAX_ID = 128
RFC3339 = re.compile(  # used with fullmatch: "$" would let a trailing newline through
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
# Ids and codes: no control characters (C0, DEL). Free text (display, userComment): tab,
# newline and carriage return allowed. Neither: NUL (PostgreSQL text cannot hold it) or a
# lone surrogate (not encodable as UTF-8).
ID_CHARS = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]*")
TEXT_CHARS = re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]*")


class Malformed(InvalidHookRequest):
    """One feedback field is malformed; the detail names it."""

    code = "invalid-feedback"


def _text(value: Any, where: str, *, limit: int = MAX_ID, free: bool = False) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Malformed(f"{where} must be a non-empty string of at most {limit} characters")
    if (TEXT_CHARS if free else ID_CHARS).fullmatch(value) is None:
        raise Malformed(f"{where} must not contain control characters"
                        + ("" if free else " (not even tab or newline)"))
    return value


def parse_timestamp(value: Any, where: str) -> datetime:
    """Parse an RFC 3339 date-time with any offset and return it in UTC."""
    match = RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise Malformed(f"{where} must be an RFC 3339 date-time with an offset, "
                        "e.g. 2021-12-11T10:05:31Z")
    date, time, fraction, offset = match.groups()
    fraction = (fraction or "")[:7]  # Python keeps microseconds
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        # astimezone overflows for e.g. 0001-01-01T00:00:00+01:00 (before year 1 in UTC)
        return datetime.fromisoformat(f"{date}T{time}{fraction}{offset}").astimezone(UTC)
    except (ValueError, OverflowError):
        raise Malformed(f"{where} is not a valid date-time (in years 1 to 9999 in UTC)"
                        ) from None


def _accepted(item: Mapping[str, Any], where: str) -> tuple[str, ...]:
    raw = item.get("acceptedSuggestions")
    if raw is None:
        if item["outcome"] == "accepted":
            raise Malformed(f"{where}.acceptedSuggestions is required when outcome is accepted")
        return ()
    if not isinstance(raw, list) or not raw:
        raise Malformed(f"{where}.acceptedSuggestions must be a non-empty array")
    ids = []
    for j, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise Malformed(f"{where}.acceptedSuggestions[{j}] must be an object with an id")
        ids.append(_text(entry.get("id"), f"{where}.acceptedSuggestions[{j}].id"))
    return tuple(sorted(set(ids)))


def _override(item: Mapping[str, Any], where: str) -> dict[str, str | None]:
    raw = item.get("overrideReason")
    out: dict[str, str | None] = {"override_code": None, "override_system": None,
                                  "override_display": None, "override_comment": None}
    if raw is None:
        return out
    where = f"{where}.overrideReason"
    present = {k for k in ("reason", "userComment")
               if isinstance(raw, Mapping) and raw.get(k) is not None}  # null: absent
    if not isinstance(raw, Mapping) or not present:
        raise Malformed(f"{where} must be an object with reason and/or userComment (cds-fb-3)")
    reason = raw.get("reason")
    if reason is not None:
        if not isinstance(reason, Mapping):
            raise Malformed(f"{where}.reason must be a Coding")
        out["override_code"] = _text(reason.get("code"), f"{where}.reason.code", limit=256)
        out["override_system"] = _text(reason.get("system"), f"{where}.reason.system",
                                       limit=512)
        if reason.get("display") is not None:  # optional: the sandbox sends none
            out["override_display"] = _text(reason["display"], f"{where}.reason.display",
                                            limit=512, free=True)
    if raw.get("userComment") is not None:
        out["override_comment"] = _text(raw["userComment"], f"{where}.userComment",
                                        limit=4000, free=True)
    return out


def parse_item(item: Any, index: int) -> FeedbackItem:
    """Validate one Feedback object; raise Malformed naming the first bad field."""
    where = f"feedback[{index}]"
    if not isinstance(item, Mapping):
        raise Malformed(f"{where} must be an object")
    card = _text(item.get("card"), f"{where}.card")
    if item.get("outcome") not in OUTCOMES:
        raise Malformed(f"{where}.outcome must be one of {', '.join(OUTCOMES)}")
    return FeedbackItem(card=card, outcome=item["outcome"],
                        accepted=_accepted(item, where),
                        outcome_at=parse_timestamp(item.get("outcomeTimestamp"),
                                                   f"{where}.outcomeTimestamp"),
                        **_override(item, where))


def parse_feedback(body: Any) -> list[FeedbackItem]:
    """Validate a whole feedback request; all items or none."""
    raw = body.get("feedback") if isinstance(body, Mapping) else None
    if not isinstance(raw, list) or not raw:
        raise Malformed("feedback must be a non-empty array (the body is {\"feedback\": [...]})")
    return [parse_item(item, i) for i, item in enumerate(raw)]


@bp.route("/cds-services/<service_id>/feedback", methods=["POST", "OPTIONS"])
def post_feedback(service_id: str) -> Response:
    """Validate and store the feedback, then answer {"stored": N}."""
    if service_id not in SERVICES:
        raise UnknownService(f"no CDS service with id '{service_id}'")
    items = parse_feedback(read_json_body())
    FeedbackStore(get_db()).store(service_id, items, client_iss=g.get("jwt_iss"),
                                  received_at=datetime.now(UTC))
    return json_response({"stored": len(items)})
