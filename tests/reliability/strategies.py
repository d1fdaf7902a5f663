"""Hypothesis strategies for near-FHIR resources and near-CDS-Hooks requests.

Codes come from the mappers' own tables, so generated data reaches the deep paths (units,
oxygen, drugs, conditions); every field is sometimes junk: wrong types, missing, extra,
huge or negative numbers, NaN, odd units and dates, deep nesting, unicode.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.reliability import mutate

DATA = Path(__file__).resolve().parents[2] / "fhir_mappers" / "data"
_TABLES = {name: (DATA / f"{name}.json").read_text() for name in
           ("loinc", "drugs", "oxygen_devices", "conditions", "routes")}
LOINC = sorted(set(re.findall(r'"(\d{3,7}-\d)"', _TABLES["loinc"])))
UNIT_OF = {"temperature": "Cel", "heart_rate": "/min", "systolic_bp": "mm[Hg]",
           "diastolic_bp": "mm[Hg]", "spo2": "%", "weight": "kg", "crp": "mg/L",
           "ferritin": "ng/mL", "il6": "pg/mL"}
RXCUI = sorted(set(re.findall(r'"(\d{5,8})"\s*:\s*"[VRA]"', _TABLES["drugs"])))
DRUG_NAMES = sorted(n for ing in json.loads(_TABLES["drugs"])["ingredients"].values()
                    for n in ing.get("names", []))
SNOMED = sorted(set(re.findall(r'"(\d{6,18})"', _TABLES["oxygen_devices"] + _TABLES["routes"])))
CART = sorted((name, rxcui) for name, ing in json.loads(_TABLES["drugs"])["ingredients"].items()
              if ing.get("class") == "car-t" for rxcui in ing.get("products", {}))
CONDITION_NAMES = sorted(n for c in json.loads(_TABLES["conditions"])["concepts"].values()
                         for n in c.get("names", []))
SYSTEMS = ["http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm",
           "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:1.2.3", "",
           "http://terminology.hl7.org/CodeSystem/observation-category"]
UNITS = ["Cel", "[degF]", "degF", "°C", "℃", "K", "mm[Hg]", "mmHg", "L/min", "l/min", "%",
         "/min", "mg", "mg/kg", "ug/kg/min", "mcg/kg/min", "mg/L", "mg/dL", "ng/mL", "pg/mL",
         "10*3/uL", "g/dL", "kg", "[lb_av]", "m/s", "1", "{score}", "", " ", "ＣＥＬ", "Cel\x00"]
NOW = datetime.now(UTC).replace(microsecond=0)
ODD_TIMES = ["2026", "2026-11", "2026-11-21", "2026-11-21T14:20:00", "2026-13-45T25:61:61Z",
             "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "2026-02-30T00:00:00Z",
             "yesterday", "", "2026-11-21T14:20:00.123456789Z", "2026-11-21t14:20:00z",
             "+2026-11-21T14:20:00Z", "2026-11-21T14:20:00-23:59", "१९७०-०१-०१"]
STATUSES = ["final", "amended", "corrected", "preliminary", "unknown", "registered",
            "cancelled", "entered-in-error", "completed", "in-progress", "on-hold", "stopped",
            "not-done", "active", "draft", "bogus", ""]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["1e400", "-0", "NaN", "∞", "ﾟ", "\u202e", "\ud7ff", "🦠" * 3]))
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12)


def near(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return valid values with up to two mutations each (junk from ``junk``)."""
    return mutate.near(valid, junk)


def deep(levels: int) -> Any:
    """Return a value nested ``levels`` deep (within the service's 64-level limit)."""
    value: Any = {"value": 1}
    for i in range(levels):
        value = {"extension": [value]} if i % 2 else {"valueCodeableConcept": value}
    return value


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``good``, sometimes junk, sometimes deep nesting."""
    return st.one_of(good, good, good, junk, st.integers(1, 40).map(deep))


times = st.one_of(
    st.integers(-30 * 24 * 60, 24 * 60).map(
        lambda m: (NOW + timedelta(minutes=m)).isoformat().replace("+00:00", "Z")),
    st.sampled_from(ODD_TIMES), st.datetimes(timezones=st.timezones()).map(
        lambda d: d.isoformat()))
numbers = st.one_of(st.integers(-(10**15), 10**15), st.floats(allow_nan=True,
                                                              allow_infinity=True),
                    st.sampled_from([0, -1, 38.5, 39.4, 85, 8, 1e-13, 1e12, 10**30]))
coding = st.fixed_dictionaries({}, optional={
    "system": maybe(st.sampled_from(SYSTEMS)),
    "code": maybe(st.sampled_from(LOINC + RXCUI + SNOMED + ["vital-signs", "laboratory"])),
    "display": maybe(st.sampled_from(DRUG_NAMES + CONDITION_NAMES) | st.text(max_size=20))})
concept = st.fixed_dictionaries({}, optional={
    "coding": maybe(st.lists(maybe(coding), max_size=3)),
    "text": maybe(st.sampled_from(DRUG_NAMES + CONDITION_NAMES) | st.text(max_size=30))})
quantity = st.fixed_dictionaries({}, optional={
    "value": maybe(numbers), "unit": maybe(st.sampled_from(UNITS)),
    "system": maybe(st.just("http://unitsofmeasure.org")), "code": maybe(st.sampled_from(UNITS)),
    "comparator": st.sampled_from(["<", ">=", "~", "bad"])})
period = st.fixed_dictionaries({}, optional={"start": maybe(times), "end": maybe(times)})
extra = st.dictionaries(st.sampled_from(["_status", "unknownField", "extension", "meta",
                                         "modifierExtension", "contained", "text"]),
                        junk, max_size=2)


def resource(kind: str, fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Return a strategy for one resource type: any subset of its fields, plus extras."""
    base = st.fixed_dictionaries({"resourceType": st.sampled_from([kind, kind, kind, "Basic"])},
                                 optional={"id": maybe(st.text(min_size=1, max_size=10)),
                                           "status": maybe(st.sampled_from(STATUSES)),
                                           "subject": maybe(st.just({"reference": "Patient/p"})),
                                           **fields})
    return st.tuples(base, extra).map(lambda pair: {**pair[1], **pair[0]})


def _vital(kind: str, code: str, value: float, minutes: int, status: str) -> dict[str, Any]:
    when = (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return {"resourceType": "Observation", "id": f"v{code}{minutes}", "status": status,
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": UNIT_OF.get(kind, "1"),
                              "system": "http://unitsofmeasure.org",
                              "code": UNIT_OF.get(kind, "1")}}


_KIND_CODES = [(kind, code) for kind, spec in json.loads(_TABLES["loinc"])["kinds"].items()
               for code in spec["codes"]]
RANGES = {"temperature": (35, 41.5), "heart_rate": (40, 180), "systolic_bp": (60, 200),
          "diastolic_bp": (30, 120), "spo2": (70, 100), "weight": (30, 150)}
valid_observation = st.sampled_from(_KIND_CODES).flatmap(lambda kc: st.builds(
    _vital, st.just(kc[0]), st.just(kc[1]),
    st.floats(*RANGES.get(kc[0], (0, 300))).map(lambda x: round(x, 2)),
    st.integers(0, 30 * 24 * 60), st.sampled_from(["final", "final", "amended", "registered"])))


def _admin(drug: str, rxcui: str, minutes: int, rate: float | None) -> dict[str, Any]:
    start = (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {
        "resourceType": "MedicationAdministration", "id": f"a{rxcui}{minutes}",
        "status": "completed", "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxcui}],
            "text": drug},
        "effectivePeriod": {"start": start},
        "dosage": {"dose": {"value": 8, "unit": "mg/kg", "system": "http://unitsofmeasure.org",
                            "code": "mg/kg"},
                   "route": {"text": "intravenous"}}}
    if rate is not None:
        out["dosage"]["rateQuantity"] = {"value": rate, "unit": "ug/kg/min",
                                         "system": "http://unitsofmeasure.org",
                                         "code": "ug/kg/min"}
    return out


valid_admin = st.builds(_admin, st.sampled_from(DRUG_NAMES), st.sampled_from(RXCUI),
                        st.integers(0, 40 * 24 * 60),
                        st.none() | st.floats(0, 2, allow_nan=False))


observation = resource("Observation", {
    "category": maybe(st.lists(concept, max_size=2)), "code": maybe(concept),
    "effectiveDateTime": maybe(times), "effectivePeriod": maybe(period),
    "effectiveInstant": maybe(times), "issued": maybe(times),
    "valueQuantity": maybe(quantity), "valueString": maybe(st.text(max_size=10)),
    "valueCodeableConcept": maybe(concept), "dataAbsentReason": maybe(concept),
    "component": maybe(st.lists(st.fixed_dictionaries(
        {"code": concept}, optional={"valueQuantity": quantity}), max_size=3)),
    "referenceRange": maybe(st.lists(st.fixed_dictionaries({}, optional={
        "low": quantity, "high": quantity}), max_size=2))})
dosage = st.fixed_dictionaries({}, optional={
    "dose": maybe(quantity), "rateQuantity": maybe(quantity), "route": maybe(concept),
    "text": maybe(st.text(max_size=20)),
    "rateRatio": maybe(st.fixed_dictionaries({"numerator": quantity, "denominator": quantity}))})
med_admin = resource("MedicationAdministration", {
    "medicationCodeableConcept": maybe(concept),
    "medicationReference": maybe(st.just({"reference": "Medication/m1"})),
    "effectiveDateTime": maybe(times), "effectivePeriod": maybe(period),
    "dosage": maybe(dosage)})
med_request = resource("MedicationRequest", {
    "intent": maybe(st.sampled_from(["order", "plan", "proposal"])),
    "medicationCodeableConcept": maybe(concept), "authoredOn": maybe(times),
    "dosageInstruction": maybe(st.lists(st.fixed_dictionaries({}, optional={
        "doseAndRate": st.lists(st.fixed_dictionaries({}, optional={"doseQuantity": quantity}),
                                max_size=2),
        "route": concept, "timing": junk}), max_size=2))})
condition = resource("Condition", {
    "code": maybe(concept), "clinicalStatus": maybe(concept),
    "verificationStatus": maybe(concept), "onsetDateTime": maybe(times),
    "recordedDate": maybe(times), "abatementDateTime": maybe(times)})
patient = resource("Patient", {
    "birthDate": maybe(times), "gender": maybe(st.sampled_from(["male", "female", "x"]))})
medication = resource("Medication", {"code": maybe(concept)})
fever = st.builds(_vital, st.just("temperature"), st.just("8310-5"), st.floats(38, 41.5),
                  st.integers(0, 3 * 24 * 60), st.just("final"))
infusion = st.builds(lambda drug, minutes: _admin(drug[0], drug[1], minutes, None),
                     st.sampled_from(CART), st.integers(0, 14 * 24 * 60))
observations = st.one_of(near(valid_observation), near(fever), fever, observation)
admins = st.one_of(near(valid_admin), near(infusion), infusion, med_admin, medication)
any_resource = st.one_of(observation, med_admin, med_request, condition, medication,
                         st.just({"resourceType": "OperationOutcome", "issue": [
                             {"severity": "error", "code": "x"}]}), junk)


def bundle(entries: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return a strategy for a searchset Bundle of those entries (entries sometimes junk)."""
    plain = st.builds(lambda r: {"resource": r}, entries)
    entry = st.one_of(plain, plain, plain, plain, junk,
                      st.builds(lambda r: {"resource": r, "search": {"mode": "include"}},
                                medication))
    return st.fixed_dictionaries({"resourceType": st.just("Bundle"),
                                  "entry": st.lists(entry, min_size=1, max_size=6)},
                                 optional={"type": st.sampled_from(["searchset", "collection"]),
                                           "link": junk, "total": numbers})


KEYS = ("patient", "vitals", "respiratory", "labs", "medadmin", "medorders", "conditions",
        "findings")
valid_patient = st.builds(lambda born, sex: {"resourceType": "Patient", "id": "p",
                                             "birthDate": born, "gender": sex},
                          st.dates().map(str), st.sampled_from(["male", "female", "other"]))


def _break(data: dict[str, Any], broken: tuple[bool, str, Any],
           dropped: list[str]) -> dict[str, Any]:
    """Drop some keys and, sometimes, replace one with junk (a shape error, 400)."""
    for key in dropped:
        data.pop(key, None)
    should, key, value = broken
    if should:
        data[key] = value
    return data


def prefetch() -> st.SearchStrategy[dict[str, Any]]:
    """Return a strategy for a whole prefetch: every key a near-valid value, rarely junk."""
    valid = st.fixed_dictionaries({
        "patient": st.one_of(valid_patient, near(valid_patient), patient),
        "vitals": bundle(observations), "respiratory": bundle(observations),
        "labs": bundle(observations), "medadmin": bundle(admins),
        "medorders": bundle(med_request), "conditions": bundle(condition)})
    broken = st.tuples(st.sampled_from([False] * 9 + [True]), st.sampled_from(KEYS), junk)
    dropped = st.lists(st.sampled_from(KEYS), max_size=2)
    return st.builds(_break, valid, broken, dropped)


def profile() -> settings:
    """Return the run's settings: CRS_FUZZ_PROFILE=long gives 10,000 cases per test."""
    return settings.get_profile("crs-" + os.environ.get("CRS_FUZZ_PROFILE", "ci"))


settings.register_profile("crs-ci", max_examples=300, deadline=None, database=None,
                          derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("crs-long", parent=settings.get_profile("crs-ci"), max_examples=10_000,
                          derandomize=False)
