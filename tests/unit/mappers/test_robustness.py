"""Junk input never escapes build_timeline: each case is a per-resource warning (B1-B7)."""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from criteria.model import PatientTimeline
from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.timeline import build_timeline

from .builders import RXNORM, admin, bundle, ml, obs
from .conftest import EXPECTED, NOW, refs

TEMP = "8310-5"


def build(**keys: Any) -> PatientTimeline:
    """Build a timeline from prefetch keys, draft orders via ``draft``."""
    draft = keys.pop("draft", None)
    return build_timeline(keys, now=NOW, expected=EXPECTED, draft_orders=draft)


def no_values(timeline: PatientTimeline) -> None:
    """Assert that no warning text carries a number from the junk (no clinical values)."""
    for w in timeline.warnings:
        for junk in ("1e", "E+", "98.6", "1000000"):
            assert junk not in w.message


@pytest.mark.parametrize("value", [1e25, "1e400", 1e300, "-1e30"])
def test_b1_absurd_observation_values_are_set_aside(value: Any) -> None:
    tl = build(vitals=bundle(obs("t", TEMP, value, "Cel")))
    assert tl.series("temperature") == ()
    assert refs(tl, "invalid-resource") | refs(tl, "implausible-value") == {"Observation/t"}
    no_values(tl)


def test_b1_absurd_reference_range_sets_the_observation_aside() -> None:
    ranged = obs("c", "1988-5", 5, "mg/L", referenceRange=[{"high": ml("1e400", "mg/L")}])
    tl = build(labs=bundle(ranged))
    assert tl.series("crp") == ()
    assert "Observation/c" in refs(tl, "invalid-resource")


@pytest.mark.parametrize(("num", "den"), [(1e300, 1e-300), (1, 1e-300), ("1e400", 1)])
def test_b1_absurd_rate_ratio_is_set_aside(num: Any, den: Any) -> None:
    ratio = {"numerator": ml(num, "ug"), "denominator": ml(den, "min")}
    tl = build(medadmin=bundle(admin("ne", rxcui="7512", dosage={"rateRatio": ratio})))
    assert tl.drugs == ()
    assert "MedicationAdministration/ne" in refs(tl, "invalid-resource")


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_b2_times_out_of_range_are_set_aside(stamp: str) -> None:
    tl = build(vitals=bundle(obs("t", TEMP, 39, "Cel", when=stamp)),
               medadmin=bundle(admin("a", rxcui="161", when=stamp)))
    assert tl.series("temperature") == ()
    assert tl.drugs == ()
    assert refs(tl, "invalid-time") == {"Observation/t", "MedicationAdministration/a"}


@pytest.mark.parametrize("status", [["final"], {"code": "final"}, 5])
def test_b3_status_must_be_a_string(status: Any) -> None:
    order = {"resourceType": "MedicationRequest", "id": "o", "status": status,
             "intent": "order", "authoredOn": "2024-05-02T10:00:00Z",
             "subject": {"reference": "Patient/p1"},
             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "612865"}]}}
    draft = {"resourceType": "Bundle", "type": "collection",
             "entry": [{"resource": {**order, "id": "d"}}]}
    tl = build(vitals=bundle({**obs("t", TEMP, 39, "Cel"), "status": status}),
               medadmin=bundle(admin("a", rxcui="161", status=status)),
               medorders=bundle(order), draft=draft)
    assert tl.measurements == {}
    assert tl.drugs == ()
    assert tl.draft_orders == ()
    assert {"Observation/t", "MedicationAdministration/a"} <= refs(tl, "invalid-status")
    assert {"MedicationRequest/o", "MedicationRequest/d"} <= (
        refs(tl, "invalid-resource") | refs(tl, "status-not-used") | refs(tl, "invalid-status"))


def test_b4_resource_type_as_a_list_is_skipped() -> None:
    tl = build(vitals=bundle({**obs("t", TEMP, 39, "Cel"), "resourceType": ["Observation"]}))
    assert tl.measurements == {}
    assert len(refs(tl, "invalid-resource")) == 1


def test_b5_coding_not_a_list() -> None:
    cond = {"resourceType": "Condition", "id": "c", "code": {"coding": 5, "text": "sepsis"},
            "verificationStatus": {"coding": 5}, "subject": {"reference": "Patient/p1"}}
    tl = build(vitals=bundle({**obs("t", TEMP, 39, "Cel"), "code": {"coding": 5}}),
               conditions=bundle(cond))
    assert tl.measurements == {}


def test_b6_contained_not_a_list_with_a_medication_reference() -> None:
    med = {"medicationReference": {"reference": "#m"}, "contained": 5}
    draft_order = {"resourceType": "MedicationRequest", "id": "d", "status": "draft",
                   "intent": "order", "subject": {"reference": "Patient/p1"}, **med,
                   "medicationReference": {"reference": "Medication/m1"}}
    medication = {"resourceType": "Medication", "id": "m1",
                  "code": {"coding": [{"system": RXNORM, "code": "612865"}]}}
    draft = {"resourceType": "Bundle", "type": "collection",
             "entry": [{"resource": medication}, {"resource": draft_order}]}
    tl = build(medadmin=bundle(admin("a", med)), draft=draft)
    assert tl.drugs == ()
    assert "MedicationAdministration/a" in refs(tl, "unmatched-medication")
    assert "MedicationRequest/d" in refs(tl, "invalid-resource")
    assert "MedicationRequest/d" in refs(tl, "tocilizumab-unreadable")


def test_b7_oxygen_device_not_a_list() -> None:
    o2 = admin("o", {"medicationCodeableConcept": {
        "coding": [{"system": "http://snomed.info/sct", "code": "320917000"}]}},
        device=5, dosage={"rateQuantity": ml(2, "L/min")})
    tl = build(medadmin=bundle(o2))
    (support,) = tl.oxygen
    assert support.flow_l_min == 2


# Every field a mapper reads, with shapes FHIR JSON can take but R4 forbids there.
JUNK: list[Any] = [5, -1, 1e400, "x", "", None, True, [], [5], ["x"], {}, {"x": 5},
                   [{"coding": 5}], {"coding": [5]}, {"start": 5}, [[[]]]]
FIELDS = {
    "Observation": ["status", "code", "effectiveDateTime", "effectivePeriod", "issued",
                    "valueQuantity", "component", "referenceRange", "dataAbsentReason",
                    "valueCodeableConcept", "valueString", "id", "resourceType", "meta"],
    "MedicationAdministration": ["status", "medicationCodeableConcept", "medicationReference",
                                 "contained", "effectiveDateTime", "effectivePeriod", "dosage",
                                 "device", "request", "id", "meta"],
    "MedicationRequest": ["status", "authoredOn", "medicationCodeableConcept",
                          "medicationReference", "contained", "dosageInstruction", "category",
                          "intent", "id"],
    "Condition": ["code", "verificationStatus", "clinicalStatus", "onsetDateTime",
                  "onsetPeriod", "recordedDate", "id"],
}


def good() -> dict[str, dict[str, Any]]:
    """Return one usable resource of each type."""
    given = admin(
        "a", {"medicationReference": {"reference": "#m"}},
        contained=[{"resourceType": "Medication", "id": "m",
                    "code": {"coding": [{"system": RXNORM, "code": "612865"}]}}],
        effectivePeriod={"start": "2024-05-02T09:00:00Z"},
        dosage={"dose": ml(560, "mg"), "route": {"text": "IV"}},
        device=[{"display": "nasal cannula"}])
    del given["effectiveDateTime"]
    return {"MedicationAdministration": given, **_others()}


def _others() -> dict[str, dict[str, Any]]:
    return {
        "Observation": {**obs("o", "59408-5", 95, "%"), "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "3151-8"}]},
             "valueQuantity": ml(4, "L/min")}]},
        "MedicationRequest": {"resourceType": "MedicationRequest", "id": "r", "status": "active",
                              "intent": "order", "authoredOn": "2024-05-02T09:00:00Z",
                              "subject": {"reference": "Patient/p1"},
                              "medicationCodeableConcept": {"text": "norepinephrine"},
                              "dosageInstruction": [{"route": {"text": "IV"}}]},
        "Condition": {"resourceType": "Condition", "id": "c", "code": {"text": "sepsis"},
                      "subject": {"reference": "Patient/p1"},
                      "onsetDateTime": "2024-05-01T09:00:00Z"},
    }


def everything(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return a prefetch holding the resources, also as draft orders."""
    return {"vitals": bundle(resources["Observation"]),
            "medadmin": bundle(resources["MedicationAdministration"]),
            "medorders": bundle(resources["MedicationRequest"]),
            "conditions": bundle(resources["Condition"])}


CASES = [(rtype, name, junk) for rtype, names in FIELDS.items() for name in names
         for junk in JUNK]


@pytest.mark.parametrize(("rtype", "name", "junk"), CASES)
def test_junk_in_any_field_never_raises(rtype: str, name: str, junk: Any) -> None:
    resources = good()
    if junk is None:
        resources[rtype].pop(name, None)
    else:
        resources[rtype][name] = junk
    draft = {"resourceType": "Bundle", "type": "collection",
             "entry": [{"resource": resources["MedicationRequest"]}]}
    timeline = build_timeline(everything(resources), now=NOW, expected=EXPECTED,
                              draft_orders=draft)
    assert isinstance(timeline, PatientTimeline)


def _mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """Return a copy of a JSON value with some nodes replaced by junk."""
    if isinstance(value, dict):
        return {k: _mutate(v, rng, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate(v, rng, depth + 1) for v in value]
    if rng.random() < 0.25:
        return _junk(rng, depth)
    return value


def _junk(rng: random.Random, depth: int) -> Any:
    pick = rng.randrange(9)
    if pick == 0 and depth < 6:
        return {"coding": _junk(rng, depth + 1), "start": _junk(rng, depth + 1)}
    if pick == 1 and depth < 6:
        return [_junk(rng, depth + 1)]
    return [5, 1e300, "1e400", -0.0, "0001-01-01T00:00:00+01:00", "2024-05-02T10:00:00",
            True, "", None][pick]


SEED, ROUNDS = 20241121, 300


def test_seeded_random_junk_never_raises() -> None:
    rng = random.Random(SEED)
    base = everything(good())
    for _ in range(ROUNDS):
        prefetch = _mutate(copy.deepcopy(base), rng)
        with contextlib.suppress(PrefetchShapeError):  # a mutated Bundle shell is a 400
            build_timeline(prefetch, now=NOW, expected=EXPECTED,
                           draft_orders=_mutate(bundle(*good().values()), rng))


def test_deeply_nested_resource_is_one_warning() -> None:
    nested: Any = {"url": "http://example.org/x", "valueString": "x"}
    for _ in range(3000):
        nested = {"url": "http://example.org/x", "extension": [nested]}
    deep = obs("t", TEMP, 39, "Cel")
    deep["valueQuantity"]["extension"] = [nested]
    tl = build(vitals=bundle(deep, obs("u", TEMP, 38, "Cel")),
               respiratory=bundle({**deep, "meta": {"versionId": "2"}}))
    assert [m.reference for m in tl.series("temperature")] == ["Observation/u"]
    assert "Observation/t" in refs(tl, "invalid-resource")


def test_good_resources_map(timeline_of: Callable[..., PatientTimeline]) -> None:
    tl = build_timeline(everything(good()), now=NOW, expected=EXPECTED)
    assert {d.ingredient for d in tl.drugs} == {"tocilizumab", "norepinephrine"}
    assert tl.series("spo2")
    assert tl.oxygen
