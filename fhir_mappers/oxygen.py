"""Oxygen support: pair devices with flow/FiO2 and classify each record into one modality.

Rule (clinical-criteria.md §1.1 item 8; docs/oxygen-mapping.md):
- nasal cannula, standard or high-flow: a recorded flow wins over the device name
  (<= 6.0 L/min low-flow, > 6.0 high-flow), flagged "flow-over-device" when it changed
  the device's class; without flow, standard -> flow unknown, HFNC -> high-flow, both
  flagged "flow-missing";
- no device: flow <= 6 or only FiO2 > 21 % -> supplemental, device unknown; flow > 6 ->
  high-flow; both flagged "device-missing"; FiO2 <= 21 % (or flow 0) alone -> room air;
- a cannula (standard or high-flow) at 0 L/min is room air, flagged "zero-flow";
- masks, blow-by and positive pressure: the device decides;
- a room-air device with flow > 0 or FiO2 > 21 % is read as if no device were recorded,
  flagged "device-conflict".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from criteria.model import Measurement, OxygenModality, OxygenSupport
from fhir_mappers.observations import DeviceFact

ROOM_AIR_FIO2 = Decimal(21)
_FIXED = {
    "blow-by": OxygenModality.BLOW_BY,
    "facemask": OxygenModality.FACEMASK,
    "facemask-assumed": OxygenModality.FACEMASK,
    "non-rebreather": OxygenModality.NON_REBREATHER,
    "venturi": OxygenModality.VENTURI,
    "cpap": OxygenModality.CPAP,
    "bipap": OxygenModality.BIPAP,
    "invasive": OxygenModality.INVASIVE,
}


@dataclass(frozen=True)
class OxygenDrug:
    """Oxygen given as a MedicationAdministration (flow from dosage.rateQuantity)."""

    time: datetime
    end: datetime | None
    flow: Decimal | None
    device: str | None
    reference: str
    flags: tuple[str, ...] = ()
    running: bool = False  # in progress with an open period, or an end after `now`


def classify(device: str | None, flow: Decimal | None, fio2: Decimal | None,
             low_max: Decimal) -> tuple[OxygenModality, tuple[str, ...]] | None:
    """Return the modality and flags of one record, or None when nothing says anything."""
    if device in _FIXED:
        return _FIXED[device], ("facemask-assumed",) if device == "facemask-assumed" else ()
    if device in ("nasal-cannula", "high-flow-cannula") and flow is not None and flow == 0:
        return OxygenModality.ROOM_AIR, ("zero-flow",)  # a cannula at 0 L/min gives no O2
    if device == "nasal-cannula":
        if flow is None:
            return OxygenModality.NASAL_CANNULA_UNKNOWN_FLOW, ("flow-missing",)
        if flow <= low_max:
            return OxygenModality.LOW_FLOW_CANNULA, ()
        return OxygenModality.HIGH_FLOW_CANNULA, ("flow-over-device",)
    if device == "high-flow-cannula":
        if flow is None:
            return OxygenModality.HIGH_FLOW_CANNULA, ("flow-missing",)
        if flow > low_max:
            return OxygenModality.HIGH_FLOW_CANNULA, ()
        return OxygenModality.LOW_FLOW_CANNULA, ("flow-over-device",)
    if device == "room-air":
        if (flow is not None and flow > 0) or (fio2 is not None and fio2 > ROOM_AIR_FIO2):
            found = classify(None, flow, fio2, low_max)
            return None if found is None else (found[0], (*found[1], "device-conflict"))
        return OxygenModality.ROOM_AIR, ()
    # no device recorded
    if flow is not None and flow > 0:
        if flow > low_max:
            return OxygenModality.HIGH_FLOW_CANNULA, ("device-missing",)
        return OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE, ("device-missing",)
    if fio2 is not None and fio2 > ROOM_AIR_FIO2:
        return OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE, ("device-missing",)
    if flow is not None or fio2 is not None:
        return OxygenModality.ROOM_AIR, ()  # flow 0, or FiO2 21 % with no flow
    return None


class _Series:
    """Measurements sorted by time, for nearest-in-time lookups."""

    def __init__(self, items: Sequence[Measurement]) -> None:
        self.items = sorted(items, key=lambda m: m.time)
        self.times = [m.time for m in self.items]
        self.used = [False] * len(self.items)

    def nearest(self, t: datetime, tolerance: timedelta, unused_only: bool) -> int | None:
        i = bisect_left(self.times, t)
        best: int | None = None
        for j in (i - 1, i, i + 1):
            if 0 <= j < len(self.items) and not (unused_only and self.used[j]):
                gap = abs(self.times[j] - t)
                if gap <= tolerance and (best is None or gap < abs(self.times[best] - t)):
                    best = j
        return best


def build_oxygen(devices: Sequence[DeviceFact], flows: Sequence[Measurement],
                 fio2s: Sequence[Measurement], drugs: Sequence[OxygenDrug],
                 tolerance: timedelta, low_max: Decimal) -> tuple[OxygenSupport, ...]:
    """Pair and classify every oxygen fact; return records oldest first."""
    flow_s, fio2_s = _Series(flows), _Series(fio2s)
    out: list[OxygenSupport] = []

    def take(series: _Series, t: datetime, unused_only: bool) -> Measurement | None:
        j = series.nearest(t, tolerance, unused_only)
        if j is None:
            return None
        series.used[j] = True
        return series.items[j]

    def emit(t: datetime, device: str | None, flow: Measurement | None,
             fio2: Measurement | None, refs: list[str], flags: tuple[str, ...],
             end: datetime | None = None, flow_value: Decimal | None = None,
             running: bool = False) -> None:
        flow_v = flow.value if flow is not None else flow_value
        fio2_v = fio2.value if fio2 is not None else None
        found = classify(device, flow_v, fio2_v, low_max)
        if found is None:
            return
        refs += [m.reference for m in (flow, fio2) if m is not None]
        out.append(OxygenSupport(time=t, modality=found[0], flow_l_min=flow_v, fio2_pct=fio2_v,
                                 references=tuple(refs),
                                 flags=tuple(dict.fromkeys((*found[1], *flags))), end=end,
                                 running=running))

    for dev in sorted(devices, key=lambda d: d.time):
        emit(dev.time, dev.device, take(flow_s, dev.time, False), take(fio2_s, dev.time, False),
             [dev.reference], dev.flags, dev.end)
    for j, flow in enumerate(flow_s.items):
        if not flow_s.used[j]:
            flow_s.used[j] = True
            emit(flow.time, None, flow, take(fio2_s, flow.time, True), [], flow.flags)
    for j, fio2 in enumerate(fio2_s.items):
        if not fio2_s.used[j]:
            emit(fio2.time, None, None, fio2, [], fio2.flags)
    for drug in drugs:
        flags = drug.flags if drug.flow is not None else (*drug.flags, "flow-missing")
        if drug.device is None and drug.flow is None:
            out.append(OxygenSupport(drug.time, OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE,
                                     references=(drug.reference,),
                                     flags=("device-missing", *flags), end=drug.end,
                                     running=drug.running))
        else:
            emit(drug.time, drug.device, None, None, [drug.reference], flags, drug.end,
                 drug.flow, drug.running)
    return tuple(sorted(out, key=lambda o: o.time))

