"""Prefetch key interpretation and FHIR fallback rules, with a hand-written fake FHIR server."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from cds_service.errors import PrefetchUnavailable
from cds_service.fhir_client import FhirAccessSettings
from cds_service.prefetch import OUTCOME, ResolvedPrefetch, render, resolve_prefetch, token_values
from cds_service.services import PATIENT_VIEW, PrefetchKey, ServiceDefinition

BASE = "https://fhir.example.org/r4"
TOKEN = "tok-abc.123"
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"}
OUTCOME_ERROR = {"resourceType": "OperationOutcome",
                 "issue": [{"severity": "error", "code": "timeout"}]}
OPTIONAL = [k.name for k in PATIENT_VIEW.prefetch if not k.required]


@dataclass
class Call:
    """One GET the fake received."""

    url: str
    headers: dict[str, str]
    timeout: Any
    allow_redirects: bool


@dataclass
class FakeFhir:
    """A fake FHIR server: scripted (status, body) per URL and a log of calls."""

    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    hang: threading.Event | None = None  # when set, every call blocks until the event is set

    def session(self) -> requests.Session:
        """Return a session whose requests are answered by this fake."""
        return _FakeSession(self)


class _FakeSession(requests.Session):
    def __init__(self, fake: FakeFhir) -> None:
        super().__init__()
        self.fake = fake

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]  # narrower fake
                **kwargs: Any) -> requests.Response:
        assert method == "GET"
        self.fake.calls.append(Call(str(url), dict(kwargs["headers"]), kwargs["timeout"],
                                    kwargs["allow_redirects"]))
        if self.fake.hang is not None:
            self.fake.hang.wait(5)
        status, body = self.fake.answers.get(str(url), (404, OUTCOME_ERROR))
        response = requests.Response()
        response.status_code = status
        response.url = str(url)
        response.headers = CaseInsensitiveDict({"Content-Type": "application/fhir+json"})
        response.raw = io.BytesIO(body if isinstance(body, bytes) else json.dumps(body).encode())
        return response


def obs_bundle(*days_ago: int, next_url: str | None = None) -> dict[str, Any]:
    """Return a searchset of Observations dated that many days before NOW."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": f"o{d}", "status": "final",
                      "effectiveDateTime": (NOW - timedelta(days=d)).isoformat()}}
        for d in days_ago]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def hook_request(prefetch: dict[str, Any] | None = None, *, server: str | None = BASE,
                 auth: dict[str, Any] | None = None, **context: Any) -> dict[str, Any]:
    """Return a validated patient-view request; every key is prefetched unless overridden."""
    given: dict[str, Any] = {"patient": PATIENT, **{name: None for name in OPTIONAL}}
    given.update(prefetch or {})
    body: dict[str, Any] = {
        "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/dr1", "patientId": "p1", **context},
        "prefetch": {k: v for k, v in given.items() if v != "absent"},
        "fhirAuthorization": auth if auth is not None else {
            "access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "cds-service", "patient": "p1"},
    }
    if server is not None:
        body["fhirServer"] = server
    return body


def resolve(body: dict[str, Any], fake: FakeFhir, service: ServiceDefinition = PATIENT_VIEW,
            **settings: Any) -> ResolvedPrefetch:
    """Resolve with a 30-day window against the fake."""
    return resolve_prefetch(service, body, FhirAccessSettings(**settings),
                            window_start=NOW - timedelta(days=30), session_factory=fake.session)


def test_null_and_empty_bundles_mean_no_data_and_are_not_fetched() -> None:
    fake = FakeFhir()
    empty = {"resourceType": "Bundle", "type": "searchset"}
    result = resolve(hook_request({"labs": empty, "vitals": {**empty, "entry": []},
                                   "patient": None}), fake)
    assert fake.calls == []
    assert result.data == {name: None for name in ["patient", *OPTIONAL]}
    assert result.unavailable == {}
    assert result.fetched == ()


def test_required_key_holding_an_operation_outcome_is_412_without_refetch() -> None:
    fake = FakeFhir({f"{BASE}/Patient/p1": (200, PATIENT)})
    with pytest.raises(PrefetchUnavailable) as caught:
        resolve(hook_request({"patient": OUTCOME_ERROR}), fake)
    assert (caught.value.key, caught.value.reason, caught.value.status) == ("patient", OUTCOME, 412)
    assert fake.calls == []


@pytest.mark.parametrize("value", [
    OUTCOME_ERROR,
    {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": OUTCOME_ERROR}]},
])
def test_optional_key_holding_an_operation_outcome_is_unavailable_without_refetch(
        value: dict[str, Any]) -> None:
    fake = FakeFhir()
    result = resolve(hook_request({"labs": value}), fake)
    assert result.unavailable == {"labs": OUTCOME}
    assert "labs" not in result.data
    assert fake.calls == []


def test_informational_outcome_entries_are_dropped_and_the_rest_used() -> None:
    note = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "x"}]}
    bundle = obs_bundle(1, 2)
    bundle["entry"].append({"resource": note, "search": {"mode": "outcome"}})
    result = resolve(hook_request({"vitals": bundle}), FakeFhir())
    assert [e["resource"]["id"] for e in result.data["vitals"]["entry"]] == ["o1", "o2"]
    assert result.unavailable == {}


def test_absent_read_is_fetched_with_the_bearer_token_and_bounded_timeouts() -> None:
    fake = FakeFhir({f"{BASE}/Patient/p1": (200, PATIENT)})
    result = resolve(hook_request({"patient": "absent"}), fake)
    assert result.data["patient"] == PATIENT
    assert result.fetched == ("patient",)
    [call] = fake.calls
    assert call.url == f"{BASE}/Patient/p1"
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Accept"] == "application/fhir+json"
    assert call.allow_redirects is False
    connect, read = call.timeout
    assert 0 < connect <= 0.5
    assert 0 < read <= 1.0


def test_absent_search_is_fetched_at_the_rendered_template_url() -> None:
    url = f"{BASE}/MedicationAdministration?patient=p1&_sort=-effective-time&_count=200"
    fake = FakeFhir({url: (200, {"resourceType": "Bundle", "type": "searchset", "entry": []})})
    result = resolve(hook_request({"medadmin": "absent"}, auth={
        "access_token": TOKEN, "token_type": "bEaReR"}), fake)
    assert [c.url for c in fake.calls] == [url]
    assert result.data["medadmin"] is None
    assert set(result.warnings) == {
        "fhirAuthorization has no patient; context.patientId is used",
        "fhirAuthorization has no expires_in"}
    assert not any(TOKEN in w or "p1" in w for w in result.warnings)


@pytest.mark.parametrize("auth", [
    {"access_token": "", "token_type": "Bearer"},
    {"access_token": TOKEN, "token_type": "MAC"},
    {"access_token": 42, "token_type": "Bearer"},
    {"access_token": "two words", "token_type": "Bearer"},
])
def test_without_a_usable_token_and_open_access_off_a_missing_patient_is_412(
        auth: dict[str, Any]) -> None:
    fake = FakeFhir({f"{BASE}/Patient/p1": (200, PATIENT)})
    with pytest.raises(PrefetchUnavailable) as caught:
        resolve(hook_request({"patient": "absent"}, auth=auth), fake)
    assert caught.value.reason == "no usable access token and open FHIR server access is off"
    assert fake.calls == []


def test_open_server_access_fetches_without_authorization() -> None:
    fake = FakeFhir({f"{BASE}/Patient/p1": (200, PATIENT)})
    body = hook_request({"patient": "absent"})
    del body["fhirAuthorization"]
    result = resolve(body, fake, allow_open_server=True)
    assert result.data["patient"] == PATIENT
    assert "Authorization" not in fake.calls[0].headers


def test_an_absent_optional_key_without_fhir_access_is_unavailable_not_412() -> None:
    result = resolve(hook_request({"labs": "absent"}, server=None, auth={}), FakeFhir())
    assert result.unavailable == {"labs": "the request has no fhirServer"}
    assert result.data["patient"] == PATIENT


@pytest.mark.parametrize(("server", "allowed", "reason"), [
    ("http://fhir.local:8080/r4", (), "fhirServer is not https and its host is not allowed"
                                      " over http"),
    ("http://fhir.local:8080/r4", ("fhir.local:9090",), "fhirServer is not https and its host"
                                                        " is not allowed over http"),
    ("http://fhir.local:8080/r4", ("fhir.local:8080",), None),
    ("http://fhir.local:8080/r4", ("FHIR.local",), None),
    ("ftp://fhir.local/r4", ("fhir.local",), "fhirServer is not https"),
    ("https://user:pw@fhir.local/r4", (), "fhirServer is not a plain base URL"),
])
def test_plain_http_fhir_server_is_refused_unless_its_host_is_allowed(
        server: str, allowed: tuple[str, ...], reason: str | None) -> None:
    fake = FakeFhir({f"{server}/Patient/p1": (200, PATIENT)})
    body = hook_request({"patient": "absent"}, server=server)
    if reason is None:
        assert resolve(body, fake, allowed_http_hosts=allowed).data["patient"] == PATIENT
        return
    with pytest.raises(PrefetchUnavailable) as caught:
        resolve(body, fake, allowed_http_hosts=allowed)
    assert caught.value.reason == reason
    assert fake.calls == []


def test_host_allow_list_limits_which_fhir_servers_are_queried() -> None:
    fake = FakeFhir({f"{BASE}/Patient/p1": (200, PATIENT)})
    body = hook_request({"patient": "absent"})
    with pytest.raises(PrefetchUnavailable, match="not on the allow-list"):
        resolve(body, fake, allowed_hosts=("ehr.example.org",))
    assert fake.calls == []
    assert resolve(body, fake, allowed_hosts=("fhir.example.org",)).fetched == ("patient",)


ENCOUNTER = PrefetchKey("encounter", "Encounter/{{context.encounterId}}", False, "Encounter",
                        False, "test")
PRACTITIONER = PrefetchKey("me", "Practitioner/{{userPractitionerId}}", False, "Practitioner",
                           False, "test")
EXTRA = ServiceDefinition("t", "patient-view", "t", "t",
                          (PATIENT_VIEW.key("patient"), ENCOUNTER, PRACTITIONER))


def test_template_with_an_unresolvable_token_is_skipped_never_sent() -> None:
    fake = FakeFhir()
    result = resolve(hook_request({"me": None}, userId="Patient/p1"), fake, service=EXTRA)
    assert result.unavailable == {
        "encounter": "template token {{context.encounterId}} cannot be resolved"}
    assert fake.calls == []


def test_user_practitioner_id_is_derived_from_user_id_and_rendered() -> None:
    me = {"resourceType": "Practitioner", "id": "dr-7"}
    fake = FakeFhir({f"{BASE}/Practitioner/dr-7": (200, me)})
    result = resolve(hook_request({"encounter": None}, userId="Practitioner/dr-7"), fake,
                     service=EXTRA)
    assert result.data["me"] == me
    assert [c.url for c in fake.calls] == [f"{BASE}/Practitioner/dr-7"]


@pytest.mark.parametrize(("user_id", "expected"), [
    ("Practitioner/123", {"userPractitionerId": "123"}),
    ("PractitionerRole/r-1", {"userPractitionerRoleId": "r-1"}),
    ("Patient/p.9", {"userPatientId": "p.9"}),
    ("https://ehr.example.org/fhir/RelatedPerson/rp1", {"userRelatedPersonId": "rp1"}),
    ("Device/1", {}),
])
def test_user_tokens_follow_the_type_of_user_id(user_id: str, expected: dict[str, str]) -> None:
    values = token_values({"userId": user_id})
    assert {k: v for k, v in values.items() if k.startswith("user")} == expected


def test_context_values_that_could_inject_query_parameters_are_not_rendered() -> None:
    values = token_values({"patientId": "p1&_include=*", "draftOrders": {"a": 1}})
    assert render("Patient/{{context.patientId}}", values) == (
        None, "template token {{context.patientId}} cannot be resolved")
    assert render("X/{{ context.draftOrders }}", values)[0] is None


@pytest.mark.parametrize(("status", "body", "reason"), [
    (500, OUTCOME_ERROR, "FHIR server answered 500"),
    (401, OUTCOME_ERROR, "FHIR server answered 401"),
    (200, b"{not json", "FHIR server answer is not valid JSON"),
    (200, {"resourceType": "Observation", "id": "x"}, "FHIR server answered a search with a "
                                                      "Observation"),
    (200, OUTCOME_ERROR, "FHIR server returned an OperationOutcome"),
])
def test_a_failed_optional_fetch_is_unavailable_with_a_plain_reason(
        status: int, body: Any, reason: str) -> None:
    url = f"{BASE}/Condition?patient=p1&clinical-status=active,recurrence,relapse&_count=100"
    result = resolve(hook_request({"conditions": "absent"}), FakeFhir({url: (status, body)}))
    assert result.unavailable == {"conditions": reason}
    assert "conditions" not in result.data
    assert TOKEN not in reason


def test_a_missing_patient_that_the_server_does_not_have_is_412() -> None:
    with pytest.raises(PrefetchUnavailable, match="FHIR server answered 404"):
        resolve(hook_request({"patient": "absent"}), FakeFhir())


def test_a_prefetched_resource_of_the_wrong_type_is_unavailable() -> None:
    with pytest.raises(PrefetchUnavailable, match="prefetch held a Observation, not a Patient"):
        resolve(hook_request({"patient": {"resourceType": "Observation"}}), FakeFhir())


def test_prefetched_next_page_is_followed_with_the_token_and_merged() -> None:
    fake = FakeFhir({f"{BASE}/Observation?page=2": (200, obs_bundle(20, 40))})
    result = resolve(hook_request({"vitals": obs_bundle(1, 2, next_url=f"{BASE}/Observation"
                                                                         "?page=2")}), fake)
    assert [e["resource"]["id"] for e in result.data["vitals"]["entry"]] == ["o1", "o2", "o20",
                                                                             "o40"]
    assert "link" not in result.data["vitals"]
    assert fake.calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert result.fetched == ("vitals",)


def test_prefetched_page_covering_the_window_is_not_followed() -> None:
    fake = FakeFhir()
    result = resolve(hook_request({"vitals": obs_bundle(1, 31, next_url=f"{BASE}/next")}), fake)
    assert fake.calls == []
    assert len(result.data["vitals"]["entry"]) == 2
    assert result.unavailable == {}


def test_prefetched_next_page_without_fhir_access_keeps_what_arrived() -> None:
    bundle = obs_bundle(1, 2, next_url=f"{BASE}/Observation?page=2")
    result = resolve(hook_request({"vitals": bundle}, auth={}), FakeFhir())
    assert len(result.data["vitals"]["entry"]) == 2
    assert result.unavailable == {"vitals": "more pages exist but no usable access token and "
                                            "open FHIR server access is off; older data not read"}


def test_a_fetch_that_ignores_its_timeouts_cannot_hold_resolve_past_the_deadline() -> None:
    release = threading.Event()
    fake = FakeFhir(hang=release)
    started = time.monotonic()
    try:
        result = resolve(hook_request({"labs": "absent", "medadmin": "absent"}), fake,
                         total_budget=0.4)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert result.unavailable == {"labs": "FHIR server timed out",
                                  "medadmin": "FHIR server timed out"}
    assert elapsed < 0.4 + 0.3


@pytest.mark.parametrize("link", ["https://fhir.example.org:bad/r4/x", "http://fhir.example.org/r4/x",
                                  "https://fhir.example.org:8443/r4/x", "https://evil.example/x"])
def test_a_prefetched_next_link_off_the_fhir_server_origin_is_not_followed(link: str) -> None:
    fake = FakeFhir({link: (200, obs_bundle(3))})
    result = resolve(hook_request({"labs": obs_bundle(1, next_url=link)}), fake)
    assert fake.calls == []
    assert result.unavailable == {
        "labs": "next page link points to another server; older data not read"}





@pytest.mark.parametrize(("field", "reason"), [("entry", "Bundle.entry is not a list"),
                                               ("link", "Bundle.link is not a list")])
def test_a_prefetched_bundle_with_a_malformed_entry_or_link_is_unavailable(
        field: str, reason: str) -> None:
    bundle = {**obs_bundle(1), field: 5}
    result = resolve(hook_request({"vitals": bundle}), FakeFhir())
    assert result.unavailable == {"vitals": f"prefetch {reason}"}
    assert "vitals" not in result.data


@pytest.mark.parametrize("field", ["entry", "link"])
def test_a_fetched_bundle_with_a_malformed_entry_or_link_is_unavailable(field: str) -> None:
    labs = next(k for k in PATIENT_VIEW.prefetch if k.name == "labs")
    url = f"{BASE}/{render(labs.template, {'context.patientId': 'p1'})[0]}"
    fake = FakeFhir({url: (200, {**obs_bundle(1), field: 5})})
    result = resolve(hook_request({"labs": "absent"}), fake)
    assert result.unavailable == {"labs": f"FHIR server Bundle.{field} is not a list"}


def test_a_malformed_later_page_keeps_the_pages_read() -> None:
    fake = FakeFhir({f"{BASE}/Observation?page=2": (200, {**obs_bundle(20), "entry": 5})})
    result = resolve(hook_request({"vitals": obs_bundle(1, 2, next_url=f"{BASE}/Observation"
                                                                         "?page=2")}), fake)
    assert [e["resource"]["id"] for e in result.data["vitals"]["entry"]] == ["o1", "o2"]
    assert "malformed" in result.unavailable["vitals"]


def test_a_deeply_nested_server_answer_is_unavailable_not_a_crash() -> None:
    labs = next(k for k in PATIENT_VIEW.prefetch if k.name == "labs")
    url = f"{BASE}/{render(labs.template, {'context.patientId': 'p1'})[0]}"
    deep = b'{"resourceType": "Bundle", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    result = resolve(hook_request({"labs": "absent"}), FakeFhir({url: (200, deep)}))
    assert result.unavailable == {"labs": "FHIR server answer is nested too deeply"}


def test_template_rendering_lives_in_its_own_module() -> None:
    from cds_service import prefetch_templates

    assert prefetch_templates.render is render
    assert prefetch_templates.token_values is token_values
