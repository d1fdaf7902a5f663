"""Soak a real `crs-cds serve` (gunicorn) on 127.0.0.1 and report what it held.

Run (the documented 10-minute soak; docs/reliability.md):

    .venv/bin/python -m benchmarks.soak --duration 600 --rate 100 --db sqlite
    .venv/bin/python -m benchmarks.soak --duration 60 --rate 50 --db postgresql --kill-at 20

Prints one JSON report: status counts per kind, p50/p99 latency, resident memory of the
workers before and after, feedback acknowledged vs rows in the database and, with
``--kill-at``, what happened when one worker got SIGKILL.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.soak_load import LoadGenerator
from benchmarks.soak_server import Server, SoakDatabase, write_clients_file

WARMUP_SHARE = 0.1  # the "before" memory sample is taken after this share of the run
# What must never reach the server log: JWTs (base64url JSON headers start "eyJ"), bearer
# headers, the grade 3 patient's id and a drug from its chart (numbers would match latencies).
SECRETS = ("eyJ", "Bearer ", "p-crs-1", "norepinephrine")


@dataclass
class Monitor:
    """Samples worker memory and watches the worker set while the load runs."""

    server: Server
    interval: float = 2.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Sample until stopped."""
        t0 = time.monotonic()
        while not self.stop.is_set():
            self.samples.append({"t": round(time.monotonic() - t0, 1), **self.server.rss_kib()})
            self.stop.wait(self.interval)


def kill_during(server: Server, load: LoadGenerator, at: float) -> dict[str, Any]:
    """SIGKILL one worker ``at`` seconds into the load; report how it was replaced."""
    time.sleep(at)
    before = server.worker_pids()
    pid, busy, killed_at = server.kill_worker()
    replaced_in = None
    while time.monotonic() - killed_at < 30:
        now = server.worker_pids()
        if pid not in now and len(now) == len(before):
            replaced_in = round(time.monotonic() - killed_at, 2)
            break
        time.sleep(0.05)
    after = server.worker_pids()
    return {"killed_pid": pid, "was_busy": busy, "workers_before": sorted(before),
            "workers_after": sorted(after),
            "replaced_in_s": replaced_in, "killed_at": killed_at}


def failures_around(load: LoadGenerator, kill: dict[str, Any]) -> dict[str, int]:
    """Count failed calls in flight at the kill and failed calls outside it."""
    at = kill["killed_at"]
    failed = [o for o in load.outcomes if o.status == 0 or o.status >= 500]
    in_flight = [o for o in failed if o.started <= at <= o.started + o.latency + 0.05]
    ok_after = sum(o.correct for o in load.outcomes if o.started > at + (kill["replaced_in_s"]
                                                                          or 0))
    return {"failed_in_flight": len(in_flight), "failed_elsewhere": len(failed) - len(in_flight),
            "correct_after_replacement": ok_after}


def run_soak(*, duration: float, rate: float, db: str = "sqlite", workers: int = 3,
             kill_at: float | None = None, folder: Path | None = None) -> dict[str, Any]:
    """Run one soak and return its report."""
    with tempfile.TemporaryDirectory(prefix="crs-soak-") as tmp:
        work = folder or Path(tmp)
        key = ec.generate_private_key(ec.SECP384R1())
        database = SoakDatabase(db, work)
        server = Server(work, database.create(), write_clients_file(work, key), workers=workers)
        try:
            return _drive(server, database, key, duration, rate, kill_at)
        finally:
            server.stop()
            database.drop()


def _drive(server: Server, database: SoakDatabase, key: ec.EllipticCurvePrivateKey,
           duration: float, rate: float, kill_at: float | None) -> dict[str, Any]:
    server.start()
    idle = server.rss_kib()
    load = LoadGenerator(server.base, key, rate, duration)
    monitor = Monitor(server, interval=max(1.0, min(10.0, duration / 60)))
    watcher = threading.Thread(target=monitor.run, daemon=True)
    watcher.start()
    kill: dict[str, Any] = {}
    killer = None
    if kill_at is not None:
        killer = threading.Thread(target=lambda: kill.update(kill_during(server, load, kill_at)),
                                  daemon=True)
        killer.start()
    started = time.monotonic()
    load.run()
    elapsed = time.monotonic() - started
    if killer is not None:
        killer.join(timeout=60)
    monitor.stop.set()
    watcher.join(timeout=15)
    after = server.rss_kib()
    warm = [s for s in monitor.samples if s["t"] >= duration * WARMUP_SHARE]
    stored = database.feedback_cards()
    acked = set(load.acknowledged)
    log_text = server.log_path.read_text(errors="replace")
    report = {
        "config": {"duration_s": duration, "rate_per_s": rate, "db": database.kind,
                   "workers": server.workers, "kill_at_s": kill_at},
        "elapsed_s": round(elapsed, 1), "achieved_rate": round(len(load.outcomes) / elapsed, 1),
        "load": load.summary(),
        "rss_kib": {"idle": idle["total"], "warm": warm[0]["total"] if warm else None,
                    "end": after["total"], "worker_end": after["workers"],
                    "peak": max((s["total"] for s in monitor.samples), default=None)},
        "rss_samples": [(s["t"], s["total"]) for s in monitor.samples],
        "feedback": {"acknowledged": len(acked), "rows": len(stored),
                     "lost": len(acked - set(stored)), "unacknowledged_rows":
                     len(set(stored) - acked)},
        "log_lines": log_text.count("\n"),
        "log_secrets": {s: log_text.count(s) for s in SECRETS},
        "server_alive": server.proc is not None and server.proc.poll() is None,
        "readyz_after": server.status("/readyz"),
    }
    if kill:
        report["kill"] = {k: v for k, v in kill.items() if k != "killed_at"} | failures_around(
            load, kill)
    return report


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the soak, print the report; exit 1 if correctness failed."""
    parser = argparse.ArgumentParser(prog="benchmarks.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20, help="seconds of load")
    parser.add_argument("--rate", type=float, default=30, help="calls per second")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-at", type=float, help="SIGKILL one worker after N seconds")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if not (1 <= args.duration <= 3600 and 0 < args.rate <= 500):
        parser.error("--duration must be in [1, 3600] and --rate in (0, 500]")
    report = run_soak(duration=args.duration, rate=args.rate, db=args.db, workers=args.workers,
                      kill_at=args.kill_at)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    load, fb = report["load"], report["feedback"]
    ok = fb["lost"] == 0 and (args.kill_at is not None or (
        load["wrong"] == 0 and fb["rows"] == fb["acknowledged"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
