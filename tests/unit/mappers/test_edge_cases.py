"""Malformed and edge-case Observations: each is set aside (or read) with its warning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from criteria.model import PatientTimeline
from fhir_mappers.options import MapperOptions
from fhir_mappers.timeline import build_timeline

from .conftest import EXPECTED, NOW, refs, warned


@pytest.fixture
def timeline(timeline_of: Callable[..., PatientTimeline]) -> PatientTimeline:
    return timeline_of(vitals="edge_cases.json")


@pytest.mark.parametrize(
    ("code", "ref"),
    [
        ("invalid-resource", "Observation/bad-value"),
        ("invalid-resource", "Observation/extra-field"),
        ("unknown-unit", "Observation/crp-furlong"),
        ("unknown-unit", "Observation/crp-no-unit"),
        ("unknown-unit", "Observation/crp-wrong-dimension"),
        ("entered-in-error", "Observation/temp-eie"),
        ("cancelled", "Observation/temp-cancelled"),
        ("registered", "Observation/temp-registered"),
        ("data-absent", "Observation/temp-absent"),
        ("data-absent", "Observation/bp-component-absent#component-1"),
        ("time-zone-missing", "Observation/temp-no-zone"),
        ("imprecise-time", "Observation/temp-date-only"),
        ("no-effective-time", "Observation/temp-no-time"),
        ("time-from-issued", "Observation/temp-issued-only"),
        ("non-quantity-value", "Observation/temp-string"),
        ("after-evaluation-time", "Observation/temp-after-now"),
    ],
)
def test_warning_paths(timeline: PatientTimeline, code: str, ref: str) -> None:
    assert ref in refs(timeline, code)


def test_entries_without_resource_or_id(timeline: PatientTimeline) -> None:
    assert len(warned(timeline, "malformed-entry")) == 2
    assert len(warned(timeline, "missing-id")) == 1
    assert len(warned(timeline, "operation-outcome")) == 1


def test_old_data_is_counted_once_not_listed(timeline: PatientTimeline) -> None:
    (bulk,) = warned(timeline, "outside-lookback")
    assert bulk.reference is None
    assert "Observation/temp-ancient" not in {m.reference for m in timeline.series("temperature")}


def test_usable_values_survive_their_neighbours(timeline: PatientTimeline) -> None:
    temps = {m.reference: m for m in timeline.series("temperature")}
    assert set(temps) == {"Observation/temp-issued-only", "Observation/temp-preliminary",
                          "Observation/temp-amended"}
    assert temps["Observation/temp-preliminary"].status == "preliminary"
    assert temps["Observation/temp-preliminary"].time == datetime(2024, 5, 2, 7, 40, 0, 250000,
                                                                  tzinfo=UTC)
    assert temps["Observation/temp-amended"].status == "amended"
    assert temps["Observation/temp-issued-only"].flags == ("time-from-issued",)
    (sbp,) = timeline.series("systolic_bp")
    assert sbp.value == Decimal(95)


def test_duplicate_ids_counted_once(timeline: PatientTimeline) -> None:
    assert [m.reference for m in timeline.series("heart_rate")] == ["Observation/dup-1"]


def test_assumed_time_zone_reads_zone_less_times(fhir: Callable[[str], Any]) -> None:
    site = timezone(timedelta(hours=2))
    tl = build_timeline({"vitals": fhir("edge_cases.json")}, now=NOW, expected=EXPECTED,
                        options=MapperOptions(assume_timezone=site))
    (m,) = [m for m in tl.series("temperature") if m.reference == "Observation/temp-no-zone"]
    assert m.time == datetime(2024, 5, 2, 7, tzinfo=UTC)  # 09:00+02:00
    assert refs(tl, "time-zone-assumed") == {"Observation/temp-no-zone"}
    assert "time-zone-missing" not in {w.code for w in tl.warnings}


def test_zone_assumed_later_than_now_is_not_seen(fhir: Callable[[str], Any]) -> None:
    site = timezone(timedelta(hours=-5))  # 09:00-05:00 is 14:00Z, after now
    tl = build_timeline({"vitals": fhir("edge_cases.json")}, now=NOW, expected=EXPECTED,
                        options=MapperOptions(assume_timezone=site))
    assert "Observation/temp-no-zone" in refs(tl, "after-evaluation-time")


def test_replay_at_an_earlier_now_sees_only_what_was_known(fhir: Callable[[str], Any]) -> None:
    earlier = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    tl = build_timeline({"vitals": fhir("vitals_us_core.json")}, now=earlier, expected=EXPECTED)
    assert [m.reference for m in tl.series("temperature")] == [
        "Observation/temp-c", "Observation/temp-f-1013"]
    assert "Observation/temp-f-1004" in refs(tl, "after-evaluation-time")


def test_lookback_option_drops_older_data(fhir: Callable[[str], Any]) -> None:
    tl = build_timeline({"vitals": fhir("vitals_us_core.json")}, now=NOW, expected=EXPECTED,
                        options=MapperOptions(max_lookback=timedelta(days=7)))
    assert [m.reference for m in tl.series("body_weight")] == ["Observation/weight-lb"]


def test_warnings_hold_only_codes_and_references(timeline: PatientTimeline) -> None:
    for warning in timeline.warnings:
        assert "38" not in warning.message
        assert "pat-1" not in warning.message


def test_garbage_entries_never_raise(fhir: Callable[[str], Any]) -> None:
    tl = build_timeline({"vitals": fhir("garbage_entries.json")}, now=NOW, expected=EXPECTED)
    assert tl.measurements == {}
    assert tl.drugs == ()
    assert tl.conditions == ()
    by_code: dict[str, set[str | None]] = {}
    for w in tl.warnings:
        by_code.setdefault(w.code, set()).add(w.reference)
    assert by_code["invalid-time"] >= {"Observation/g2", "Observation/g6",
                                       "MedicationAdministration/g9"}
    assert by_code["invalid-resource"] >= {"Observation/g3", "Observation/g5", "Observation/g7",
                                           "MedicationAdministration/g10",
                                           "Condition/g12"}
    assert by_code["invalid-status"] >= {"Observation/g4", "MedicationAdministration/g11"}
    assert by_code["time-zone-missing"] == {"MedicationRequest/g13"}
    assert None in by_code["missing-id"]
