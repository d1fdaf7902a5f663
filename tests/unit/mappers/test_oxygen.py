"""Oxygen support: device/flow pairing and the §1.1 item 8 classification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from criteria.model import OxygenModality as M
from criteria.model import OxygenSupport, PatientTimeline
from fhir_mappers.options import MapperOptions
from fhir_mappers.oxygen import classify
from fhir_mappers.timeline import build_timeline

from .conftest import NOW, refs

SIX = Decimal("6.0")


@pytest.mark.parametrize(
    ("device", "flow", "fio2", "modality", "flags"),
    [
        ("nasal-cannula", "6.0", None, M.LOW_FLOW_CANNULA, ()),
        ("nasal-cannula", "6.1", None, M.HIGH_FLOW_CANNULA, ("flow-over-device",)),
        ("nasal-cannula", None, None, M.NASAL_CANNULA_UNKNOWN_FLOW, ("flow-missing",)),
        ("high-flow-cannula", None, None, M.HIGH_FLOW_CANNULA, ("flow-missing",)),
        ("high-flow-cannula", "6.1", None, M.HIGH_FLOW_CANNULA, ()),
        ("high-flow-cannula", "6.0", None, M.LOW_FLOW_CANNULA, ("flow-over-device",)),
        (None, "6.0", None, M.SUPPLEMENTAL_UNKNOWN_DEVICE, ("device-missing",)),
        (None, "6.1", None, M.HIGH_FLOW_CANNULA, ("device-missing",)),
        (None, None, "22", M.SUPPLEMENTAL_UNKNOWN_DEVICE, ("device-missing",)),
        (None, None, "21", M.ROOM_AIR, ()),
        (None, "0", None, M.ROOM_AIR, ()),
        ("facemask", "2", None, M.FACEMASK, ()),
        ("facemask-assumed", None, None, M.FACEMASK, ("facemask-assumed",)),
        ("non-rebreather", "15", None, M.NON_REBREATHER, ()),
        ("venturi", None, "40", M.VENTURI, ()),
        ("blow-by", "10", None, M.BLOW_BY, ()),
        ("cpap", "3", None, M.CPAP, ()),
        ("bipap", None, "50", M.BIPAP, ()),
        ("invasive", None, "30", M.INVASIVE, ()),
        ("room-air", None, None, M.ROOM_AIR, ()),
        ("room-air", "2", None, M.SUPPLEMENTAL_UNKNOWN_DEVICE,
         ("device-missing", "device-conflict")),
    ],
)
def test_classify(device: str | None, flow: str | None, fio2: str | None, modality: M,
                  flags: tuple[str, ...]) -> None:
    found = classify(device, Decimal(flow) if flow else None, Decimal(fio2) if fio2 else None,
                     SIX)
    assert found == (modality, flags)


def test_nothing_recorded_gives_no_record() -> None:
    assert classify(None, None, None, SIX) is None


@pytest.fixture
def timeline(timeline_of: Callable[..., PatientTimeline]) -> PatientTimeline:
    return timeline_of(respiratory="respiratory_oxygen.json")


def _at(timeline: PatientTimeline, hour: int, minute: int = 0) -> OxygenSupport:
    t = datetime(2024, 5, 1, hour, minute, tzinfo=UTC)
    (found,) = [o for o in timeline.oxygen if o.time == t]
    return found


def test_cannula_with_6_0_l_min_paired_two_minutes_apart_is_low_flow(
        timeline: PatientTimeline) -> None:
    rec = _at(timeline, 1)
    assert rec.modality is M.LOW_FLOW_CANNULA
    assert rec.flow_l_min == Decimal("6.0")
    assert rec.references == ("Observation/dev-nc-60", "Observation/flow-60")


def test_cannula_with_6_1_l_min_component_is_high_flow(timeline: PatientTimeline) -> None:
    rec = _at(timeline, 3)
    assert (rec.modality, rec.flow_l_min) == (M.HIGH_FLOW_CANNULA, Decimal("6.1"))
    assert rec.flags == ("flow-over-device",)


def test_hfnc_without_flow_is_high_flow_flow_missing(timeline: PatientTimeline) -> None:
    rec = _at(timeline, 5)
    assert (rec.modality, rec.flags) == (M.HIGH_FLOW_CANNULA, ("flow-missing",))


def test_hfnc_device_with_low_flow_follows_the_flow(timeline: PatientTimeline) -> None:
    rec = _at(timeline, 6)
    assert (rec.modality, rec.flags) == (M.LOW_FLOW_CANNULA, ("flow-over-device",))


def test_local_device_observation_with_text_only(timeline: PatientTimeline) -> None:
    rec = _at(timeline, 7)
    assert rec.modality is M.NASAL_CANNULA_UNKNOWN_FLOW
    assert set(rec.flags) == {"flow-missing", "matched-by-text"}
    assert "Observation/dev-nc-noflow" in refs(timeline, "matched-by-text")


def test_masks_and_positive_pressure_device_decides(timeline: PatientTimeline) -> None:
    nrb = _at(timeline, 9)
    assert (nrb.modality, nrb.flow_l_min) == (M.NON_REBREATHER, Decimal(15))
    tent = _at(timeline, 11)
    assert (tent.modality, tent.flags) == (M.FACEMASK, ("facemask-assumed",))
    bipap = _at(timeline, 13)
    assert (bipap.modality, bipap.fio2_pct) == (M.BIPAP, Decimal(50))  # FiO2 0.5 -> 50 %


def test_room_air_by_code_and_by_fio2_21(timeline: PatientTimeline) -> None:
    assert _at(timeline, 15).modality is M.ROOM_AIR
    rec = _at(timeline, 17)
    assert (rec.modality, rec.fio2_pct) == (M.ROOM_AIR, Decimal(21))


def test_no_device_fio2_and_flow(timeline: PatientTimeline) -> None:
    fio2 = _at(timeline, 19)
    assert (fio2.modality, fio2.flags) == (M.SUPPLEMENTAL_UNKNOWN_DEVICE, ("device-missing",))
    flow = _at(timeline, 21)  # 8000 mL/min
    assert (flow.modality, flow.flow_l_min) == (M.HIGH_FLOW_CANNULA, Decimal(8))
    assert flow.flags == ("device-missing",)


def test_unrecognised_devices_are_set_aside(timeline: PatientTimeline) -> None:
    assert refs(timeline, "device-not-classified") == {
        "Observation/dev-unknown", "Observation/dev-trach-tube"}
    assert len(timeline.oxygen) == 12
    assert [o.time for o in timeline.oxygen] == sorted(o.time for o in timeline.oxygen)


def test_flow_outside_tolerance_is_not_paired(fhir: Callable[[str], Any]) -> None:
    tl = build_timeline({"respiratory": fhir("respiratory_oxygen.json")}, now=NOW,
                        options=MapperOptions(pairing_tolerance=timedelta(minutes=1)))
    rec = _at(tl, 1)
    assert rec.modality is M.NASAL_CANNULA_UNKNOWN_FLOW  # flow 2 minutes later is separate
    assert _at(tl, 1, 2).flags == ("device-missing",)
