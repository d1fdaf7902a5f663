"""Property: no request body makes the validator raise unexpectedly or the app answer 5xx.

Bodies are near-valid CDS Hooks requests (mutated) and arbitrary JSON. The app runs with
authentication off and a FHIR host allow-list no generated URL can match, so no request
leaves the process. ``CRS_FUZZ_PROFILE=long`` runs 10,000 cases per test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from hypothesis import event, given
from hypothesis import strategies as st

from cds_service import close_app, create_app
from cds_service.errors import InvalidHookRequest
from cds_service.services import SERVICES
from cds_service.settings import Settings
from cds_service.validation import validate_request
from tests.reliability.strategies import bundle, junk, med_request, near, prefetch, profile

pytestmark = pytest.mark.slow

OK_STATUSES = {200, 400, 404, 412, 413, 415}
requests = st.builds(
    lambda hook, instance, pre, server, token, draft: {
        "hook": hook, "hookInstance": instance, "fhirServer": server,
        "fhirAuthorization": {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                              "scope": "patient/*.read", "subject": "s", "patient": "p"},
        "context": {"userId": "Practitioner/dr", "patientId": "p",
                    **({"draftOrders": draft} if hook == "order-sign" else {})},
        "prefetch": pre},
    st.sampled_from(["patient-view", "order-sign"]),
    st.one_of(st.uuids().map(str), st.text(max_size=40)), prefetch(),
    st.one_of(st.just("https://fhir.example.org/r4"), st.text(max_size=30),
              st.just("http://127.0.0.1:9/fhir")),
    st.text(min_size=1, max_size=40), bundle(med_request))
bodies = st.one_of(near(requests), requests, junk)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app, shared by every example; FHIR access only to a host that does not exist."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = Settings.from_mapping({
        "database_url": f"sqlite:///{folder / 'fuzz.sqlite3'}", "auth_required": False,
        "instance_dir": str(folder / "instance"), "fhir_host_allowlist": ("fuzz.invalid",),
        "log_level": "WARNING"})
    app = create_app({"SETTINGS": settings})
    yield app
    close_app(app)


def encode(body: Any) -> bytes:
    """Serialise as a client would (NaN becomes null; huge integers stay digits)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body).encode()


@profile()
@given(body=bodies, service=st.sampled_from(sorted(SERVICES)))
def test_the_validator_raises_only_invalid_hook_request(body: Any, service: str) -> None:
    try:
        warnings: Any = validate_request(body, SERVICES[service])
    except InvalidHookRequest as exc:
        warnings = exc
    event(f"400 {warnings.code}" if isinstance(warnings, InvalidHookRequest) else "valid")
    if isinstance(warnings, InvalidHookRequest):
        assert warnings.detail
    else:
        assert all(isinstance(w, str) for w in warnings)


@profile()
@given(body=bodies, service=st.sampled_from(["by-hook"] * 6 + [*sorted(SERVICES), "nope"]))
def test_the_app_never_answers_5xx(fuzz_app: Flask, body: Any, service: str) -> None:
    if service == "by-hook":
        hook = body.get("hook") if isinstance(body, dict) else None
        service = "crs-order-sign" if hook == "order-sign" else "crs-patient-view"
    client = fuzz_app.test_client()
    resp = client.post(f"/cds-services/{service}", data=encode(body),
                       content_type="application/json",
                       headers={"X-Request-Id": uuid.uuid4().hex})
    event(f"status {resp.status_code}")
    assert resp.status_code in OK_STATUSES, resp.data[:300]
    payload = resp.get_json()
    if resp.status_code == 200:
        assert isinstance(payload["cards"], list)
    else:
        assert set(payload) == {"error", "detail"}
