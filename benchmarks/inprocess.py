"""In-process part of the benchmark: request bytes in, response bytes out, through the app.

Each figure is the Flask endpoint itself (test client: ``read_json_body``, validation,
prefetch, mapping, criteria, cards, the audit write, ``orjson`` response), authentication
off (the HTTP part has it on), next to two references on the same bytes: ``orjson.loads``
(the floor) and R4B ``Bundle.model_validate`` of every prefetch Bundle (the naive approach,
parse not included). "cold" empties the per-process memos before every run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from flask import Flask

from benchmarks import workload
from benchmarks.reference_app import naive_validate
from cds_service import close_app, create_app
from cds_service.settings import Settings

try:  # the memos; absent when the benchmark measures code from before them
    from fhir_mappers.memo import clear_all
except ImportError:  # pragma: no cover
    def clear_all() -> None:
        """Nothing to clear."""

PATIENT_VIEW = "/cds-services/crs-patient-view"
ORDER_SIGN = "/cds-services/crs-order-sign"


@dataclass(frozen=True)
class Timing:
    """Wall times of repeated runs, in ms."""

    runs: list[float]

    @property
    def median(self) -> float:
        """Return the median in ms."""
        return statistics.median(self.runs)

    @property
    def p99(self) -> float:
        """Return the 99th percentile in ms (nearest rank; the maximum for < 100 runs)."""
        ordered = sorted(self.runs)
        return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]


@dataclass(frozen=True)
class SizeFigures:
    """Every figure of one prefetch size."""

    observations: int
    days: int
    body_bytes: int
    floor: Timing
    naive: Timing
    cold: Timing
    repeated: Timing
    repeated_floor: Timing
    order_floor: Timing
    order_naive: Timing
    order_cold: Timing


def timed(func: Callable[[], object], runs: int, before: Callable[[], object] | None = None
          ) -> Timing:
    """Time ``func`` ``runs`` times; ``before`` runs untimed ahead of each run."""
    out = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return Timing(out)


class Endpoint:
    """The real app in this process, with a settable clock."""

    def __init__(self, folder: Path) -> None:
        settings = Settings.from_mapping({
            "auth_required": False, "database_url": f"sqlite:///{folder / 'bench.sqlite3'}",
            "instance_dir": str(folder / "instance"), "log_level": "WARNING",
            "max_body_bytes": 50_000_000})  # a 10,000-Observation body is about 8 MB
        self.now: datetime | None = None
        self.app: Flask = create_app({"SETTINGS": settings, "CLOCK": lambda: self.now})
        self.client = self.app.test_client()

    def call(self, path: str, body: bytes, now: datetime) -> bytes:
        """POST one body at a given evaluation time; return the response bytes (200 only)."""
        self.now = now
        response = self.client.post(path, data=body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.data[:300]!r}")
        return response.data

    def close(self) -> None:
        """Release the app's database."""
        close_app(self.app)


def measure_size(endpoint: Endpoint, n: int, days: int, now: datetime, runs: int) -> SizeFigures:
    """Return every in-process figure of one size."""
    body = workload.patient_view(n, days, now=now)
    raw = workload.encode(body)
    later = now + timedelta(minutes=15)
    again = workload.encode(workload.reopened(body, now=later))
    order = workload.encode(workload.order_sign(n, days, now=now))
    parsed, parsed_order = orjson.loads(raw), orjson.loads(order)
    endpoint.call(PATIENT_VIEW, raw, now)  # imports and first-use work, untimed
    return SizeFigures(
        observations=workload.observation_count(body), days=days, body_bytes=len(raw),
        floor=timed(lambda: orjson.loads(raw), runs),
        naive=timed(lambda: naive_validate(parsed), runs),
        cold=timed(lambda: endpoint.call(PATIENT_VIEW, raw, now), runs, clear_all),
        repeated=timed(lambda: endpoint.call(PATIENT_VIEW, again, later), runs,
                       lambda: (clear_all(), endpoint.call(PATIENT_VIEW, raw, now))),
        repeated_floor=timed(lambda: orjson.loads(again), runs),
        order_floor=timed(lambda: orjson.loads(order), runs),
        order_naive=timed(lambda: naive_validate(parsed_order), runs),
        order_cold=timed(lambda: endpoint.call(ORDER_SIGN, order, now), runs, clear_all),
    )


def run_inprocess(sizes: list[tuple[int, int, int]], now: datetime) -> list[SizeFigures]:
    """Measure every (observations, days, runs) size with one app."""
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        endpoint = Endpoint(Path(tmp))
        try:
            return [measure_size(endpoint, n, days, now, runs) for n, days, runs in sizes]
        finally:
            endpoint.close()


def describe(figures: list[SizeFigures]) -> list[str]:
    """Return the printed lines of the in-process part."""
    head = (f"{'obs':>6} {'days':>4} {'KB':>6} {'what':<22}{'median ms':>10}{'p99 ms':>9}"
            f"{'us/obs':>8}{'x floor':>8}{'x naive':>8}")
    lines = ["In-process (Flask test client, auth off; runs per size: "
             + ", ".join(str(len(f.cold.runs)) for f in figures) + ")", head]
    for f in figures:
        rows: list[tuple[str, Timing, Timing, Timing | None]] = [
            ("floor orjson.loads", f.floor, f.floor, f.naive),
            ("naive model_validate", f.naive, f.floor, f.naive),
            ("patient-view cold", f.cold, f.floor, f.naive),
            ("patient-view repeated", f.repeated, f.repeated_floor, None),
            ("order-sign floor", f.order_floor, f.order_floor, f.order_naive),
            ("order-sign naive", f.order_naive, f.order_floor, f.order_naive),
            ("order-sign cold", f.order_cold, f.order_floor, f.order_naive),
        ]
        for name, t, floor, naive in rows:
            ratio = f"{t.median / naive.median:>8.2f}" if naive else f"{'':>8}"
            lines.append(f"{f.observations:>6} {f.days:>4} {f.body_bytes // 1024:>6} {name:<22}"
                         f"{t.median:>10.2f}{t.p99:>9.2f}"
                         f"{1000 * t.median / f.observations:>8.1f}"
                         f"{t.median / floor.median:>8.1f}{ratio}")
    return lines


def per_observation(figures: list[SizeFigures], pick: Callable[[SizeFigures], Any]) -> list[float]:
    """Return the median microseconds per Observation of one figure at each size."""
    return [1000 * pick(f).median / f.observations for f in figures]
