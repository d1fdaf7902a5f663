"""Logs of a full authenticated request: JSON lines, and nothing secret or clinical in them."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from cds_service.logs import JsonFormatter
from tests.conftest import SignedJwt, grade3_request, load_json

SERVICE = "/cds-services/crs-patient-view"
PATIENT_ID = "pat-zq-93817"
NAME = ("Quartermain", "Zebulon")


def request_body() -> dict[str, Any]:
    """The grade-3 request with a distinctive patient id and name."""
    body = json.loads(json.dumps(grade3_request()).replace("p-crs-1", PATIENT_ID))
    body["prefetch"]["patient"]["name"] = [{"family": NAME[0], "given": [NAME[1]]}]
    return body


def clinical_values(body: dict[str, Any]) -> set[str]:
    """Every measured value of the request (as text), and the birth date."""
    text = json.dumps(body["prefetch"])
    values = set(re.findall(r'"value": (\d+\.\d+|\d{2,})', text))
    values.add(body["prefetch"]["patient"]["birthDate"])
    return values


def test_a_full_request_logs_one_json_line_and_no_secret(
        auth_client: FlaskClient, signed_jwt: SignedJwt, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    body = request_body()
    token = signed_jwt.token(SERVICE)
    resp = auth_client.post(SERVICE, json=body, headers={"Authorization": f"Bearer {token}",
                                                         "X-Request-Id": "req-123"})
    assert resp.status_code == 200
    assert resp.headers["X-Request-Id"] == "req-123"
    fb = auth_client.post(SERVICE + "/feedback", json=load_json("cds/sandbox-feedback.json"),
                          headers=signed_jwt.headers(SERVICE + "/feedback"))
    assert fb.status_code == 200
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    lines += capsys.readouterr().err.splitlines()
    everything = "\n".join(lines)

    request_lines = [json.loads(x) for x in lines
                     if x.startswith("{") and '"event":"request"' in x]
    service_line = next(x for x in request_lines if x["route"] == "/cds-services/<service_id>")
    assert service_line["request_id"] == "req-123"
    assert service_line["service_id"] == "crs-patient-view"
    assert service_line["hook_instance"] == body["hookInstance"]
    assert service_line["status"] == resp.status_code
    assert isinstance(service_line["latency_ms"], float)
    assert service_line["iss"] == "https://ehr.test"

    for part in token.split("."):
        assert part not in everything
    assert "Bearer" not in everything
    assert PATIENT_ID not in everything
    for name in NAME:
        assert name not in everything
    for value in clinical_values(body):  # as a number of its own, not inside a uuid or time
        pattern = rf"(?<![\w.:-]){re.escape(value)}(?![\w:]|\.\d)"
        assert re.search(pattern, everything) is None, value
