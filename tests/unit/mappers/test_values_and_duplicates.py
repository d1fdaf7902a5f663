"""Reviewer findings A9 (order-independent de-duplication), A10 (plausibility), zero flow."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from criteria.model import CANONICAL_UNITS, OxygenModality, PatientTimeline
from fhir_mappers.oxygen import classify
from fhir_mappers.timeline import build_timeline

from .builders import bundle, obs
from .conftest import EXPECTED, NOW, refs, warned

TEMP = "8310-5"


def both_orders(first: dict[str, Any], second: dict[str, Any]) -> list[PatientTimeline]:
    """Map the two copies in two keys, in both key orders."""
    out = []
    for a, b in ((first, second), (second, first)):
        prefetch = {"vitals": bundle(a), "respiratory": bundle(b)}
        out.append(build_timeline(prefetch, now=NOW, expected=EXPECTED))
    return out


def temperatures(timeline: PatientTimeline) -> list[Decimal]:
    return [m.value for m in timeline.series("temperature")]


def test_a9_entered_in_error_copy_wins_in_either_order() -> None:
    final = obs("dup", TEMP, 39.5, "Cel", meta={"versionId": "3"})
    withdrawn = {**obs("dup", TEMP, 39.5, "Cel"), "status": "entered-in-error"}
    for tl in both_orders(final, withdrawn):
        assert temperatures(tl) == []
        assert refs(tl, "entered-in-error") == {"Observation/dup"}
        assert refs(tl, "duplicate-conflict") == {"Observation/dup"}


def test_a9_higher_version_wins_in_either_order() -> None:
    old = obs("dup", TEMP, 38.0, "Cel", meta={"versionId": "9",
                                             "lastUpdated": "2024-05-02T11:00:00Z"})
    new = obs("dup", TEMP, 39.0, "Cel", meta={"versionId": "10",
                                             "lastUpdated": "2024-05-02T10:00:00Z"})
    for tl in both_orders(old, new):
        assert temperatures(tl) == [Decimal("39.0")]


def test_a9_later_update_wins_without_versions() -> None:
    old = obs("dup", TEMP, 38.0, "Cel", meta={"lastUpdated": "2024-05-02T10:00:00Z"})
    new = obs("dup", TEMP, 39.0, "Cel", meta={"lastUpdated": "2024-05-02T10:05:00+00:00"})
    for tl in both_orders(old, new):
        assert temperatures(tl) == [Decimal("39.0")]


def test_a9_undecided_copies_resolve_the_same_in_either_order() -> None:
    one, two = obs("dup", TEMP, 38.0, "Cel"), obs("dup", TEMP, 39.0, "Cel")
    first, second = both_orders(one, two)
    assert temperatures(first) == temperatures(second)
    assert len(temperatures(first)) == 1


def test_a9_duplicates_within_one_bundle() -> None:
    tl = build_timeline({"vitals": bundle(obs("d", TEMP, 38, "Cel", meta={"versionId": "2"}),
                                          obs("d", TEMP, 37, "Cel", meta={"versionId": "1"}))},
                        now=NOW, expected=EXPECTED)
    assert temperatures(tl) == [Decimal(38)]


def test_a9_identical_copies_are_not_a_conflict() -> None:
    same = obs("dup", TEMP, 38.0, "Cel")
    for tl in both_orders(same, dict(same)):
        assert len(temperatures(tl)) == 1
        assert warned(tl, "duplicate-conflict") == []


# A10: plausibility ranges.
@pytest.mark.parametrize(
    ("loinc", "value", "unit", "kind"),
    [
        (TEMP, 98.6, "Cel", "temperature"),  # a °F number labelled Cel (§4.5: unknown)
        (TEMP, 20, "Cel", "temperature"),
        ("3150-0", "0.15", "1", "fio2"),
        ("3150-0", 101, "%", "fio2"),
        ("59408-5", 101, "%", "spo2"),
        ("3151-8", 90, "L/min", "oxygen_flow"),
        ("8867-4", 400, "/min", "heart_rate"),
        ("8480-6", 350, "mm[Hg]", "systolic_bp"),
        ("29463-7", 600, "kg", "body_weight"),
        ("29463-7", 100, "g", "body_weight"),
        ("1988-5", -1, "mg/L", "crp"),
        ("2276-4", 5e6, "ng/mL", "ferritin"),
    ],
)
def test_a10_implausible_values_are_set_aside(loinc: str, value: Any, unit: str,
                                               kind: str) -> None:
    tl = build_timeline({"vitals": bundle(obs("x", loinc, value, unit))}, now=NOW,
                        expected=EXPECTED)
    assert tl.series(kind) == ()
    (warning,) = warned(tl, "implausible-value")
    assert warning.reference == "Observation/x"
    assert str(value) not in warning.message


@pytest.mark.parametrize(
    ("loinc", "value", "unit", "kind"),
    [(TEMP, 38.0, "Cel", "temperature"), (TEMP, 101.3, "[degF]", "temperature"),
     ("3150-0", "0.21", "1", "fio2"), ("3151-8", 0, "L/min", "oxygen_flow"),
     ("29463-7", 0.9, "kg", "body_weight"), ("2276-4", 250000, "ng/mL", "ferritin")],
)
def test_a10_plausible_values_are_kept(loinc: str, value: Any, unit: str, kind: str) -> None:
    tl = build_timeline({"vitals": bundle(obs("x", loinc, value, unit))}, now=NOW,
                        expected=EXPECTED)
    assert len(tl.series(kind)) == 1


def test_a10_every_kind_has_a_range_marked_as_an_assumption() -> None:
    path = resources.files("fhir_mappers.data").joinpath("plausibility.json")
    kinds = json.loads(path.read_text(encoding="utf-8"))["kinds"]
    assert set(kinds) == set(CANONICAL_UNITS)
    for entry in kinds.values():
        assert entry["confidence"] == "assumption"
        assert entry["reason"]
        assert Decimal(str(entry["min"])) < Decimal(str(entry["max"]))


# A cannula at 0 L/min gives no oxygen.
@pytest.mark.parametrize("device", ["nasal-cannula", "high-flow-cannula"])
def test_zero_flow_cannula_is_room_air(device: str) -> None:
    assert classify(device, Decimal(0), None, Decimal("6.0")) == (
        OxygenModality.ROOM_AIR, ("zero-flow",))


def test_zero_flow_cannula_end_to_end() -> None:
    device = {"resourceType": "Observation", "id": "dev", "status": "final",
              "code": {"coding": [{"system": "http://loinc.org", "code": "107117-4"}]},
              "effectiveDateTime": "2024-05-02T10:00:00Z",
              "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                                   "code": "336623009"}]}}
    flow = obs("f", "3151-8", 0, "L/min")
    tl = build_timeline({"respiratory": bundle(device, flow)}, now=NOW, expected=EXPECTED)
    (o2,) = tl.oxygen
    assert (o2.modality, o2.flags) == (OxygenModality.ROOM_AIR, ("zero-flow",))
