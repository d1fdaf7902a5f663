"""End to end: the real app answers patient-view while the FHIR server misbehaves.

Each case leaves keys out of the request's prefetch so that the app must fetch them from a
scripted stub on 127.0.0.1. The answer is a 412 for the required ``patient`` key and a 200
naming the optional key in ``extension["crs-cds.unavailable"]`` otherwise; it comes within
the deadline (``CDS_FHIR_TOTAL_BUDGET`` + margin), after a bounded number of requests, the
token never reaches a second stub on another port, and the logs hold no secret.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import close_app, create_app
from cds_service.settings import Settings
from tests.integration.fhir_stub import FhirStub, StubResponse
from tests.reliability.fault_requests import (
    FAMILY,
    KEYS,
    PATIENT,
    PATIENT_ID,
    TOKEN,
    VALUE,
    page,
    request_body,
    target,
)
from tests.reliability.support import (
    DripServer,
    assert_no_secrets,
    capture_logs_at,
    captured_logs,
)

SERVICE = "/cds-services/crs-patient-view"
BUDGET = 1.5  # the default CDS_FHIR_TOTAL_BUDGET
MARGIN = 0.6  # the prefetch layer's own 0.1 s, mapping, criteria, a loaded CI machine


@pytest.fixture
def fault_app(settings: Settings) -> Iterator[Flask]:
    """The app with the shipped FHIR defaults (budget 1.5 s, 2 retries, 10 pages)."""
    app = create_app({"SETTINGS": dataclasses.replace(settings, fhir_total_budget=BUDGET)})
    yield app
    close_app(app)


def call(app: Flask, body: dict[str, Any]) -> tuple[Any, float]:
    """POST the request; return the answer and the seconds it took."""
    client: FlaskClient = app.test_client()
    started = time.monotonic()
    resp = client.post(SERVICE, json=body)
    return resp, time.monotonic() - started


def unavailable(resp: Any) -> dict[str, str]:
    """Return the response's unavailable-data note."""
    return dict(resp.get_json().get("extension", {}).get("crs-cds.unavailable", {}))


LABS = target("labs")
SLOW = StubResponse(body=page(), delay=5)
OUTCOME = {"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": "too-costly", "diagnostics": PATIENT_ID}]}
# (case id, key left out, scripted answers for it, max requests, expected status, reason part)
CASES = [
    ("slow-optional", "labs", [SLOW], 1, 200, "timed out"),
    ("slow-required", "patient", [StubResponse(body=PATIENT, delay=5)], 1, 412, "timed out"),
    ("reset-optional", "labs", [StubResponse(reset=True)], 3, 200, "could not be reached"),
    ("reset-required", "patient", [StubResponse(reset=True)], 3, 412, "could not be reached"),
    ("500-optional", "labs", [StubResponse(500, body=OUTCOME)], 1, 200, "answered 500"),
    ("500-required", "patient", [StubResponse(500)], 1, 412, "answered 500"),
    ("503-required", "patient", [StubResponse(503)], 3, 412, "answered 503"),
    ("429-too-long", "labs", [StubResponse(429, headers={"Retry-After": "30"})], 1, 200,
     "answered 429"),
    ("malformed-json", "labs", [StubResponse(body='{"resourceType": "Bundle", "entry": [')],
     1, 200, "not valid JSON"),
    ("malformed-required", "patient", [StubResponse(body="<html>")], 1, 412, "not valid JSON"),
    ("outcome-optional", "labs", [StubResponse(body=OUTCOME)], 1, 200, "OperationOutcome"),
    ("outcome-required", "patient", [StubResponse(400, body=OUTCOME)], 1, 412, "answered 400"),
]


@pytest.mark.parametrize(("key", "answers", "most", "status", "reason"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_fault_gives_412_or_a_note_in_time(
        fault_app: Flask, stub: FhirStub, key: str, answers: list[StubResponse], most: int,
        status: int, reason: str, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    capture_logs_at(caplog, "INFO")  # the shipped CDS_LOG_LEVEL
    stub.script(target(key), *answers)
    resp, elapsed = call(fault_app, request_body(stub.base_url, key))
    assert resp.status_code == status
    if status == 412:
        assert resp.get_json()["error"] == "prefetch-unavailable"
        assert reason in resp.get_json()["detail"]
    else:
        assert reason in unavailable(resp)[key]
    assert elapsed < BUDGET + MARGIN
    assert 1 <= len(stub.requests) <= most
    assert {r.headers.get("authorization") for r in stub.requests} == {f"Bearer {TOKEN}"}
    assert_no_secrets(captured_logs(caplog, capsys), TOKEN, PATIENT_ID, FAMILY, VALUE)


def test_debug_logs_hold_no_patient_id(settings: Settings, stub: FhirStub,
                                       caplog: pytest.LogCaptureFixture,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: urllib3 logged every FHIR URL, patient id included, at DEBUG."""
    app = create_app({"SETTINGS": dataclasses.replace(settings, log_level="DEBUG")})
    try:
        capture_logs_at(caplog, "DEBUG")
        stub.script(target("patient"), StubResponse(500))
        resp, _ = call(app, request_body(stub.base_url, "patient"))
    finally:
        close_app(app)
    assert resp.status_code == 412
    assert_no_secrets(captured_logs(caplog, capsys), TOKEN, PATIENT_ID, FAMILY, VALUE)


def test_429_with_a_short_retry_after_is_retried_once(fault_app: Flask, stub: FhirStub) -> None:
    stub.script(LABS, StubResponse(429, headers={"Retry-After": "1"}), StubResponse(body=page()))
    resp, elapsed = call(fault_app, request_body(stub.base_url, "labs"))
    assert resp.status_code == 200
    assert "labs" not in unavailable(resp)
    assert len(stub.requests) == 2
    assert 1.0 <= elapsed < BUDGET + MARGIN


def test_every_key_slow_still_answers_in_time(fault_app: Flask, stub: FhirStub) -> None:
    for path in ("Observation", "MedicationAdministration", "MedicationRequest", "Condition"):
        stub.script(path, SLOW)
    resp, elapsed = call(fault_app, request_body(stub.base_url, *KEYS[1:]))
    assert resp.status_code == 200
    assert unavailable(resp) == dict.fromkeys(KEYS[1:], "FHIR server timed out")
    assert elapsed < BUDGET + MARGIN
    assert len(stub.requests) <= len(KEYS) - 1


def test_a_next_link_to_itself_is_read_once(fault_app: Flask, stub: FhirStub) -> None:
    stub.script(LABS, StubResponse(body=page(next_url=stub.url(LABS))))
    resp, elapsed = call(fault_app, request_body(stub.base_url, "labs"))
    assert resp.status_code == 200
    assert "labs" not in unavailable(resp)
    assert len(stub.requests) == 1
    assert elapsed < BUDGET + MARGIN


def test_endless_pages_stop_at_the_page_bound(fault_app: Flask, stub: FhirStub) -> None:
    stub.script(LABS, StubResponse(body=page(next_url=stub.url("Observation?page=1"))))
    for n in range(1, 40):
        stub.script(f"Observation?page={n}",
                    StubResponse(body=page(next_url=stub.url(f"Observation?page={n + 1}"))))
    resp, elapsed = call(fault_app, request_body(stub.base_url, "labs"))
    assert resp.status_code == 200
    assert unavailable(resp)["labs"] == "page bound reached (10 pages); older data not read"
    assert len(stub.requests) == 10
    assert elapsed < BUDGET + MARGIN


@pytest.mark.parametrize("how", ["next-link", "redirect", "reference"])
def test_the_token_never_goes_to_another_host(fault_app: Flask, stub: FhirStub,
                                              other: FhirStub, how: str) -> None:
    other.script("Observation", StubResponse(body=page()))
    other.script(f"Patient/{PATIENT_ID}", StubResponse(body=PATIENT))
    key = "patient" if how == "redirect" else "labs"
    if how == "next-link":
        stub.script(LABS, StubResponse(body=page(next_url=other.url("Observation"))))
    elif how == "redirect":
        stub.script(target("patient"),
                    StubResponse(302, headers={"Location": other.url(f"Patient/{PATIENT_ID}")}))
    else:
        bundle = page()
        bundle["entry"][0]["resource"]["subject"] = {"reference": other.url(
            f"Patient/{PATIENT_ID}")}
        bundle["entry"][0]["fullUrl"] = other.url("Observation/t0.1")
        stub.script(LABS, StubResponse(body=bundle))
    resp, _ = call(fault_app, request_body(stub.base_url, key))
    assert resp.status_code == (412 if how == "redirect" else 200)
    assert other.requests == []
    assert stub.requests


def test_http_or_an_unlisted_host_is_never_contacted(settings: Settings, stub: FhirStub) -> None:
    for change in ({"allowed_http_fhir_hosts": ()},
                   {"fhir_host_allowlist": ("fhir.example.org",)}):
        app = create_app({"SETTINGS": dataclasses.replace(settings, **change)})
        try:
            resp, _ = call(app, request_body(stub.base_url, "patient", "labs"))
        finally:
            close_app(app)
        assert resp.status_code == 412
        assert stub.requests == []


def test_a_slow_drip_body_is_answered_in_time(fault_app: Flask) -> None:
    with DripServer() as drip:
        resp, elapsed = call(fault_app, request_body(drip.base_url, "labs"))
    assert resp.status_code == 200
    assert unavailable(resp)["labs"] == "FHIR server timed out"
    assert elapsed < BUDGET + MARGIN


def test_a_slow_drip_body_is_abandoned_at_the_deadline(fault_app: Flask) -> None:
    """Regression: the deadline was checked between 16 KiB chunks only, so a dripping body
    kept the fetch thread and its connection alive long after the answer."""
    with DripServer() as drip:
        resp, _ = call(fault_app, request_body(drip.base_url, "labs"))
        assert resp.status_code == 200
        assert drip.wait_closed(timeout=2.0)
