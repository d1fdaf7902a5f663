"""The performance benchmark of issue 8: in-process figures, HTTP figures, targets.

Run: .venv/bin/python -m benchmarks.perf            (the full run, about 5 minutes)
     .venv/bin/python -m benchmarks.perf --smoke    (size 100, 2 runs, ~200 HTTP requests)
Options: --skip-http, --sizes 100:1,1000:7,10000:30, --runs N, --requests N, --patients N.
It is not a timed test: it prints figures and PASS or FAIL per target, and exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.http_bench import HttpFigures, run_http
from benchmarks.http_bench import describe as describe_http
from benchmarks.inprocess import SizeFigures, describe, per_observation, run_inprocess

DEFAULT_RUNS = {100: 200, 1000: 40, 10000: 8}


def machine() -> str:
    """Return CPU model, cores, memory, Python and the load average."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 1024 / 1024
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"
            f", load average {load}")


def _line(name: str, measured: str, ok: bool) -> str:
    return f"{'PASS' if ok else 'FAIL'}  {name}: {measured}"


def targets(sizes: list[SizeFigures], http: HttpFigures | None) -> list[str]:
    """Return one line per target of issue 8 with its measured figure."""
    out = []
    for f in sizes:
        if f.observations >= 1000:
            ratio = f.cold.median / f.naive.median
            out.append(_line(f"{f.observations} obs: handler <= 0.5 x naive validation",
                             f"{f.cold.median:.1f} ms vs {f.naive.median:.1f} ms = "
                             f"{ratio:.2f} x", ratio <= 0.5))
    for f in sizes:
        ratio = f.repeated.median / f.repeated_floor.median
        out.append(_line(f"{f.observations} obs: repeated request <= 10 x orjson.loads",
                         f"{f.repeated.median:.2f} ms vs {f.repeated_floor.median:.2f} ms = "
                         f"{ratio:.1f} x", ratio <= 10))
    for f in sizes:
        if f.observations >= 10000 and f.days >= 30:
            out.append(_line(f"{f.observations} obs over {f.days} d answered < 500 ms",
                             f"median {f.cold.median:.0f} ms, p99 {f.cold.p99:.0f} ms",
                             f.cold.p99 < 500))
    if http is not None and {"service", "floor", "naive"} <= set(http.outcomes):
        s, fl, nv = (http.outcomes[k] for k in ("service", "floor", "naive"))
        out.append(_line("HTTP >= 2 x naive peer throughput",
                         f"{s.rate:.0f} vs {nv.rate:.0f} req/s = {s.rate / nv.rate:.2f} x",
                         s.rate >= 2 * nv.rate))
        out.append(_line("HTTP >= 10% of the floor's throughput",
                         f"{s.rate:.0f} vs {fl.rate:.0f} req/s = {100 * s.rate / fl.rate:.0f} %",
                         s.rate >= 0.10 * fl.rate))
        out.append(_line("HTTP p99 <= 100 ms", f"{s.percentile(0.99):.1f} ms (p50 "
                         f"{s.percentile(0.5):.1f} ms)", s.percentile(0.99) <= 100))
        after = http.memory.get("after", [])
        middle = http.memory.get("middle", [])
        top = max((rss for rss, _ in after), default=0.0)
        out.append(_line("HTTP worker RSS < 200 MB", f"largest {top:.0f} MB", 0 < top < 200))
        growth = max((a[0] - m[0] for a, m in zip(after, middle, strict=True)), default=0.0)
        out.append(_line("HTTP worker RSS not growing (second half of the run <= +5 MB)",
                         f"largest growth {growth:+.1f} MB", growth <= 5))
    return out


def _sizes(text: str, runs: int | None) -> list[tuple[int, int, int]]:
    out = []
    for item in text.split(","):
        n, days = (int(x) for x in item.split(":"))
        out.append((n, days, runs or DEFAULT_RUNS.get(n, 20)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print every figure and target."""
    parser = argparse.ArgumentParser(description="crs-cds performance benchmark (issue 8)")
    parser.add_argument("--smoke", action="store_true", help="tiny run: only that it works")
    parser.add_argument("--sizes", default="100:1,1000:7,10000:30")
    parser.add_argument("--runs", type=int, help="runs per size (default 200/40/8)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--requests", type=int, default=10_000, help="service requests")
    parser.add_argument("--ref-requests", type=int, default=3_000, help="per reference peer")
    parser.add_argument("--patients", type=int, default=1000,
                        help="distinct patients (>= 50; 1,000 keeps every worker's memo cold)")
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=4, help="load generator processes")
    parser.add_argument("--seconds", type=float, default=300, help="cap per HTTP phase")
    parser.add_argument("--gc", choices=("worker", "default"), default="worker",
                        help="in-process GC: as in the workers (default), or Python's default")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.requests, args.ref_requests = "100:1", 2, 200, 100
        args.patients, args.warmup, args.clients, args.seconds = 50, 50, 2, 60
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"crs-cds benchmark, {now.isoformat()}; {machine()}")
    words = ["python", "-m", "benchmarks.perf", *(sys.argv[1:] if argv is None else argv)]
    print(f"command: {' '.join(words)}")
    if args.gc == "worker":
        from cds_service.server import GC_THRESHOLDS, tune_gc

        tune_gc()  # as in every gunicorn worker (cds_service.server)
        print(f"GC as in the workers: gc.freeze() after start-up, thresholds {GC_THRESHOLDS}")
    else:
        print("GC: Python's default thresholds")
    sizes = [] if args.skip_inprocess else run_inprocess(_sizes(args.sizes, args.runs), now)
    if sizes:
        print("\n".join(describe(sizes)))
        cold = per_observation(sizes, lambda f: f.cold)
        print("us per Observation, patient-view cold: " + ", ".join(
            f"{f.observations}: {c:.1f}" for f, c in zip(sizes, cold, strict=True)))
    http = None
    if not args.skip_http:
        http = run_http(requests=args.requests, ref_requests=args.ref_requests,
                        patients=args.patients, workers=args.workers, clients=args.clients,
                        seconds=args.seconds, warmup=args.warmup)
        print("\n".join(describe_http(http)))
    print("Targets (issue 8):")
    print("\n".join(targets(sizes, http)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
