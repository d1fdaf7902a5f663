"""US Core vital signs: temperatures in °F, BP panel components, SpO2 with both codes, weight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from criteria.model import PatientTimeline

from .conftest import NOW, refs, warned


@pytest.fixture
def timeline(timeline_of: Callable[..., PatientTimeline]) -> PatientTimeline:
    return timeline_of(patient="patient.json", vitals="vitals_us_core.json")


def test_fahrenheit_temperatures_become_celsius(timeline: PatientTimeline) -> None:
    by_ref = {m.reference: m for m in timeline.series("temperature")}
    assert by_ref["Observation/temp-f-1004"].value == Decimal("38.0")
    assert by_ref["Observation/temp-f-1013"].value == Decimal("38.5")
    assert by_ref["Observation/temp-c"].value == Decimal("37.2")
    assert all(m.unit == "Cel" for m in by_ref.values())


def test_times_are_utc_and_sorted_oldest_first(timeline: PatientTimeline) -> None:
    temps = timeline.series("temperature")
    assert [m.reference for m in temps] == [
        "Observation/temp-c", "Observation/temp-f-1013", "Observation/temp-f-1004",
    ]
    # 06:00-04:00 is 10:00 UTC, after 08:15Z
    assert temps[2].time == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert all(m.time.utcoffset() is not None and m.time.tzinfo is UTC for m in temps)


def test_bp_panel_components(timeline: PatientTimeline) -> None:
    (sbp,) = timeline.series("systolic_bp")
    (dbp,) = timeline.series("diastolic_bp")
    assert (sbp.value, sbp.unit, sbp.reference) == (
        Decimal(88), "mm[Hg]", "Observation/bp-panel-1#component-0")
    assert (dbp.value, dbp.reference) == (Decimal(52), "Observation/bp-panel-1#component-1")
    (mean,) = timeline.series("mean_arterial_pressure")
    assert mean.value == Decimal(64)


def test_spo2_with_both_codes_is_one_value_and_components_are_read(
        timeline: PatientTimeline) -> None:
    (spo2,) = timeline.series("spo2")
    assert spo2.value == Decimal(93)
    (flow,) = timeline.series("oxygen_flow")
    (fio2,) = timeline.series("fio2")
    assert flow.reference == "Observation/satO2-fiO2#component-0"
    assert (flow.value, flow.unit) == (Decimal(4), "L/min")
    assert (fio2.value, fio2.unit) == (Decimal(36), "%")


def test_pulse_oximetry_components_give_an_oxygen_record(timeline: PatientTimeline) -> None:
    (record,) = timeline.oxygen
    assert record.modality.value == "supplemental-device-unknown"
    assert record.flags == ("device-missing",)
    assert (record.flow_l_min, record.fio2_pct) == (Decimal(4), Decimal(36))


def test_heart_and_respiratory_rate(timeline: PatientTimeline) -> None:
    assert [m.value for m in timeline.series("heart_rate")] == [Decimal(112)]
    assert [m.value for m in timeline.series("respiratory_rate")] == [Decimal(24)]


def test_body_weight_history_in_kg(timeline: PatientTimeline) -> None:
    weights = timeline.series("body_weight")
    assert [m.reference for m in weights] == ["Observation/weight-kg-old", "Observation/weight-lb"]
    assert weights[-1].value == Decimal(185) * Decimal("0.45359237")
    assert weights[0].value == Decimal("86.5")


def test_patient_birth_date_sex_and_age(timeline: PatientTimeline) -> None:
    assert timeline.patient.reference == "Patient/pat-1"
    assert timeline.patient.sex == "female"
    assert timeline.age_years(NOW) == 53  # birthday 1970-05-03 is tomorrow


def test_other_codes_and_types_are_skipped_quietly(timeline: PatientTimeline) -> None:
    kinds = set(timeline.measurements)
    assert "bmi" not in kinds
    # the _include'd Patient and the warning OperationOutcome leave no warning
    assert timeline.warnings == ()
    assert warned(timeline, "operation-outcome") == []
    assert refs(timeline, "invalid-resource") == set()
