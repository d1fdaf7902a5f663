"""FHIR-server fallback against a real HTTP stub: paging, origins, retries, time budget."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cds_service.errors import PrefetchUnavailable
from cds_service.fhir_client import FhirAccessSettings, FhirClient, FhirTimeout
from cds_service.prefetch import ResolvedPrefetch, resolve_prefetch
from cds_service.services import PATIENT_VIEW
from tests.integration.fhir_stub import FhirStub, StubResponse

TOKEN = "stub-token-1"
NOW = datetime.now(UTC)
WINDOW = timedelta(days=10)
PATIENT = {"resourceType": "Patient", "id": "p1"}
OPTIONAL = [k.name for k in PATIENT_VIEW.prefetch if not k.required]
SLACK = 0.3  # seconds allowed past total_budget


def page(*days_ago: float, next_url: str | None = None) -> dict[str, Any]:
    """Return a newest-first searchset of Observations dated that many days ago."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": f"o{d}", "status": "final",
                      "effectiveDateTime": (NOW - timedelta(days=d)).isoformat()}}
        for d in days_ago]}
    if next_url:
        bundle["link"] = [{"relation": "self", "url": "ignored"},
                          {"relation": "next", "url": next_url}]
    return bundle


def resolve(stub: FhirStub, *missing: str, prefetch: dict[str, Any] | None = None,
            **settings: Any) -> ResolvedPrefetch:
    """Resolve patient-view with the given keys absent (others null) against the stub."""
    given: dict[str, Any] = {"patient": PATIENT, **{name: None for name in OPTIONAL}}
    given.update(prefetch or {})
    body = {
        "hook": "patient-view", "hookInstance": "0b9a3ba0-93d5-4c63-8d43-4a2cb8d0f0a3",
        "fhirServer": stub.base_url,
        "fhirAuthorization": {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
                              "scope": "patient/*.read", "subject": "crs", "patient": "p1"},
        "context": {"userId": "Practitioner/dr1", "patientId": "p1"},
        "prefetch": {k: v for k, v in given.items() if k not in missing},
    }
    options = {"allowed_http_hosts": (stub.host_port,), "backoff": 0.05, **settings}
    return resolve_prefetch(PATIENT_VIEW, body, FhirAccessSettings(**options),
                            window_start=NOW - WINDOW)


def ids(result: ResolvedPrefetch, key: str) -> list[str]:
    """Return the resource ids of a key's merged Bundle."""
    return [e["resource"]["id"] for e in result.data[key]["entry"]]


def test_pages_are_followed_with_the_token_until_the_window_is_covered(stub: FhirStub) -> None:
    stub.script("Observation", StubResponse(body=page(1, 3, next_url=stub.url("Obs?p=2"))))
    stub.script("Obs?p=2", StubResponse(body=page(5, 11, next_url=stub.url("Obs?p=3"))))
    stub.script("Obs?p=3", StubResponse(body=page(12, 13)))
    result = resolve(stub, "labs")
    assert ids(result, "labs") == ["o1", "o3", "o5", "o11"]
    assert "link" not in result.data["labs"]
    assert result.unavailable == {}
    assert result.fetched == ("labs",)
    sent = stub.received()
    assert [r.target for r in sent][1:] == ["/fhir/Obs?p=2"]
    assert sent[0].query.startswith("patient=p1&category=laboratory")
    assert {r.headers["authorization"] for r in sent} == {f"Bearer {TOKEN}"}
    assert {r.headers["accept"] for r in sent} == {"application/fhir+json"}


def test_paging_stops_at_the_page_bound_and_says_so(stub: FhirStub) -> None:
    stub.script("Observation", StubResponse(body=page(1, next_url=stub.url("Obs?p=2"))))
    for n in range(2, 6):
        stub.script(f"Obs?p={n}", StubResponse(body=page(n, next_url=stub.url(f"Obs?p={n + 1}"))))
    result = resolve(stub, "vitals", max_pages=3)
    assert ids(result, "vitals") == ["o1", "o2", "o3"]
    assert len(stub.received()) == 3
    assert result.unavailable == {"vitals": "page bound reached (3 pages); older data not read"}


def test_a_next_link_to_another_origin_is_not_followed(stub: FhirStub, other: FhirStub) -> None:
    other.script("Obs", StubResponse(body=page(9)))
    stub.script("Observation", StubResponse(body=page(1, next_url=other.url("Obs"))))
    result = resolve(stub, "labs", allowed_http_hosts=(stub.host_port, other.host_port))
    assert ids(result, "labs") == ["o1"]
    assert result.unavailable == {
        "labs": "next page link points to another server; older data not read"}
    assert other.requests == []


def test_a_prefetched_next_link_to_another_origin_gets_no_request(stub: FhirStub,
                                                                 other: FhirStub) -> None:
    prefetched = page(1, next_url=other.url("Obs"))
    result = resolve(stub, prefetch={"labs": prefetched}, allowed_http_hosts=("127.0.0.1",))
    assert ids(result, "labs") == ["o1"]
    assert other.requests == []
    assert stub.requests == []
    assert "labs" in result.unavailable


def test_a_redirect_to_another_origin_is_not_followed(stub: FhirStub, other: FhirStub) -> None:
    other.script("Patient/p1", StubResponse(body=PATIENT))
    stub.script("Patient/p1", StubResponse(302, headers={"Location": other.url("Patient/p1")}))
    with pytest.raises(PrefetchUnavailable, match="redirected to another server"):
        resolve(stub, "patient", allowed_http_hosts=("127.0.0.1",))
    assert other.requests == []


def test_a_same_origin_redirect_is_followed(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(301, headers={"Location": "/fhir/Patient/p1-new"}))
    stub.script("Patient/p1-new", StubResponse(body=PATIENT))
    assert resolve(stub, "patient").data["patient"] == PATIENT
    assert stub.received()[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_self_referencing_next_link_is_read_once(stub: FhirStub) -> None:
    stub.script("Obs", StubResponse(body=page(1, next_url=stub.url("Obs?p=2"))))
    stub.script("Obs?p=2", StubResponse(body=page(2, next_url=stub.url("Obs?p=2"))))
    prefetched = page(0, next_url=stub.url("Obs"))
    result = resolve(stub, prefetch={"vitals": prefetched})
    assert ids(result, "vitals") == ["o0", "o1", "o2"]
    assert [r.target for r in stub.requests] == ["/fhir/Obs", "/fhir/Obs?p=2"]


def test_a_failing_later_page_keeps_what_arrived(stub: FhirStub) -> None:
    stub.script("Observation", StubResponse(body=page(1, next_url=stub.url("Obs?p=2"))))
    stub.script("Obs?p=2", StubResponse(400, body={"resourceType": "OperationOutcome"}))
    result = resolve(stub, "labs")
    assert ids(result, "labs") == ["o1"]
    assert result.unavailable == {
        "labs": "page 2 failed (FHIR server answered 400); older data not read"}


def test_503_is_retried_then_412_within_the_budget(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(503))
    started = time.monotonic()
    with pytest.raises(PrefetchUnavailable) as caught:
        resolve(stub, "patient", retries=2)
    elapsed = time.monotonic() - started
    assert (caught.value.key, caught.value.reason) == ("patient", "FHIR server answered 503")
    assert len(stub.requests) == 3
    assert elapsed < 1.5 + SLACK


def test_500_is_not_retried_and_gives_412(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(500))
    with pytest.raises(PrefetchUnavailable, match="FHIR server answered 500"):
        resolve(stub, "patient")
    assert len(stub.requests) == 1


def test_a_transient_502_and_a_reset_connection_are_retried(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(reset=True), StubResponse(502),
                StubResponse(body=PATIENT))
    assert resolve(stub, "patient").data["patient"] == PATIENT
    assert len(stub.requests) == 3


def test_a_slow_answer_times_out_with_412_without_retry(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(body=PATIENT, delay=5))
    started = time.monotonic()
    with pytest.raises(PrefetchUnavailable, match="FHIR server timed out"):
        resolve(stub, "patient", read_timeout=0.3, total_budget=1.5)
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.3 + SLACK
    assert len(stub.requests) == 1


def test_the_total_budget_caps_a_longer_read_timeout(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(body=PATIENT, delay=5))
    started = time.monotonic()
    with pytest.raises(PrefetchUnavailable, match="FHIR server timed out"):
        resolve(stub, "patient", read_timeout=10, total_budget=0.8)
    assert time.monotonic() - started < 0.8 + SLACK


def test_slow_optional_keys_are_fetched_together_within_the_budget(stub: FhirStub) -> None:
    for path in ("Observation", "MedicationAdministration", "MedicationRequest", "Condition"):
        stub.script(path, StubResponse(body=page(1), delay=5))
    started = time.monotonic()
    result = resolve(stub, *OPTIONAL, read_timeout=10, total_budget=1.0)
    elapsed = time.monotonic() - started
    assert result.unavailable == dict.fromkeys(OPTIONAL, "FHIR server timed out")
    assert result.data == {"patient": PATIENT}
    assert elapsed < 1.0 + SLACK


def test_429_retry_after_is_honoured_when_it_fits_the_budget(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(429, headers={"Retry-After": "1"}),
                StubResponse(body=PATIENT))
    started = time.monotonic()
    assert resolve(stub, "patient", total_budget=2.5).data["patient"] == PATIENT
    assert time.monotonic() - started >= 1.0
    assert len(stub.requests) == 2


def test_429_retry_after_beyond_the_budget_gives_up_at_once(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(429, headers={"Retry-After": "30"}))
    started = time.monotonic()
    with pytest.raises(PrefetchUnavailable, match="FHIR server answered 429"):
        resolve(stub, "patient")
    assert time.monotonic() - started < 0.5
    assert len(stub.requests) == 1


def test_malformed_json_makes_the_key_unavailable(stub: FhirStub) -> None:
    stub.script("Condition", StubResponse(body='{"resourceType": "Bundle", '))
    result = resolve(stub, "conditions")
    assert result.unavailable == {"conditions": "FHIR server answer is not valid JSON"}


def test_an_operation_outcome_answer_makes_the_key_unavailable(stub: FhirStub) -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "too-costly"}]}
    stub.script("MedicationAdministration", StubResponse(body=outcome))
    result = resolve(stub, "medadmin")
    assert result.unavailable == {"medadmin": "FHIR server returned an OperationOutcome"}
    assert len(stub.requests) == 1


def test_the_client_cuts_each_read_timeout_to_the_remaining_budget(stub: FhirStub) -> None:
    stub.script("Patient/p1", StubResponse(body=PATIENT, delay=5))
    settings = FhirAccessSettings(read_timeout=10, allowed_http_hosts=(stub.host_port,))
    started = time.monotonic()
    with FhirClient(stub.base_url, TOKEN, settings, deadline=started + 0.5) as client, \
            pytest.raises(FhirTimeout) as caught:
        client.get_json(client.url_for("Patient/p1"))
    assert time.monotonic() - started < 0.5 + SLACK
    assert (caught.value.code, caught.value.status) == ("fhir-timeout", 504)


def test_deeply_nested_json_makes_the_key_unavailable(stub: FhirStub) -> None:
    deep = b'{"resourceType": "Bundle", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    stub.script("Condition", StubResponse(body=deep))
    result = resolve(stub, "conditions")
    assert result.unavailable == {"conditions": "FHIR server answer is nested too deeply"}


@pytest.mark.parametrize("field", ["entry", "link"])
def test_a_bundle_with_a_malformed_entry_or_link_makes_the_key_unavailable(
        stub: FhirStub, field: str) -> None:
    stub.script("Condition", StubResponse(body={**page(1), field: 5}))
    result = resolve(stub, "conditions")
    assert result.unavailable == {"conditions": f"FHIR server Bundle.{field} is not a list"}
