"""Caricchio's ground-glass entry criterion read from an imaging Observation (issue 6).

Case: tests/data/cds/patient-view-hyper-covid.json with the ground-glass Condition replaced
by a chest CT Observation; evaluated at 2026-11-21 12:00 UTC through `crs-cds evaluate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_hyperinflammation import case, evaluate, found

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SNOMED = "http://snomed.info/sct"


def with_ct(value: dict[str, Any]) -> dict[str, Any]:
    """Return the COVID case with its ground-glass Condition moved to an imaging Observation."""
    body = case("covid")
    entries = body["prefetch"]["conditions"]["entry"]
    body["prefetch"]["conditions"]["entry"] = [
        e for e in entries if e["resource"]["id"] != "c-ggo"]
    ct = {"resourceType": "Observation", "id": "ct-1", "status": "final",
          "category": [{"coding": [{"system": CATEGORY, "code": "imaging"}]}],
          "code": {"text": "CT chest"}, "subject": {"reference": "Patient/p-covid-1"},
          "effectiveDateTime": "2026-11-20T09:00:00Z", **value}
    body["prefetch"]["labs"]["entry"].append({"resource": ct})
    return body


def ground_glass(payload: dict[str, Any]) -> dict[str, Any]:
    css = found(payload, "covid-css-2021")
    return next(i for i in css["items"] if i["item"] == "ground-glass")


def test_ground_glass_from_imaging_observation(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    from_condition = found(evaluate(capsys, tmp_path, case("covid")), "covid-css-2021")
    payload = evaluate(capsys, tmp_path, with_ct(
        {"valueCodeableConcept": {"text": "Bilateral ground-glass opacities"}}))
    css = found(payload, "covid-css-2021")
    assert css["met"] is from_condition["met"] is True
    assert css["clusters"] == from_condition["clusters"]
    assert ground_glass(payload)["status"] == "met"
    assert any(e["reference"] == "Observation/ct-1" for e in css["evidence"])


@pytest.mark.parametrize("value", [
    {"valueCodeableConcept": {"text": "No ground-glass opacities"}},
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000",
                                          "display": "Absent"}],
                              "text": "Ground-glass opacities"}},
])
def test_absent_ground_glass_is_never_met(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          value: dict[str, Any]) -> None:
    missing = case("covid")
    missing["prefetch"]["conditions"]["entry"] = [
        e for e in missing["prefetch"]["conditions"]["entry"] if e["resource"]["id"] != "c-ggo"]
    without = found(evaluate(capsys, tmp_path, missing), "covid-css-2021")
    payload = evaluate(capsys, tmp_path, with_ct(value))
    css = found(payload, "covid-css-2021")
    assert ground_glass(payload)["status"] == "unknown"
    assert css["met"] is not True
    assert css["met"] == without["met"]
