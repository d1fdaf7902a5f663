"""HTTP part of the benchmark: `crs-cds serve` (gunicorn, auth on) and the two reference peers.

Everything runs on 127.0.0.1; every process started here is stopped by its own pid. The
load generator (benchmarks.loadgen) runs in separate processes; tokens are minted before
the run, one per request (unique jti), by a key generated now and trusted only here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from benchmarks import loadgen, workload

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://bench.ehr.test"
SERVICE = "/cds-services/crs-patient-view"


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, path: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
                return
        except OSError as exc:  # refused while starting; an HTTP error means it is up
            if getattr(exc, "code", None):
                return
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} within {seconds} s")


def workers_of(master: int) -> list[int]:
    """Return the pids of a gunicorn master's worker processes."""
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def memory_mb(pid: int) -> tuple[float, float]:
    """Return (VmRSS, VmHWM) of a process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


@contextmanager
def _process(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@dataclass
class HttpFigures:
    """The outcome of one HTTP run per endpoint, and worker memory of the service."""

    outcomes: dict[str, loadgen.Outcome] = field(default_factory=dict)
    memory: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    workers: int = 0
    clients: int = 0
    patients: int = 0


def _tokens(key: ec.EllipticCurvePrivateKey, audience: str, n: int) -> list[str]:
    iat = int(time.time())
    return [jwt.encode({"iss": ISSUER, "aud": audience, "iat": iat, "exp": iat + 3000,
                        "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                       headers={"kid": "bench1", "typ": "JWT"}) for _ in range(n)]


def _service_env(folder: Path, key: ec.EllipticCurvePrivateKey, port: int,
                 workers: int) -> dict[str, str]:
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    clients = folder / "clients.json"
    clients.write_text(json.dumps({"clients": [
        {"iss": ISSUER, "jwks": {"keys": [{**jwk, "kid": "bench1", "use": "sig"}]}}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update(CDS_HOST="127.0.0.1", CDS_PORT=str(port), CDS_WORKERS=str(workers),
               CDS_AUTH_REQUIRED="true", CDS_TRUSTED_CLIENTS_FILE=str(clients),
               CDS_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               CDS_DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}",
               CDS_INSTANCE_DIR=str(folder / "instance"))
    return env


def _calls(n: int, patients: int, tokens: list[str] | None) -> list[tuple[int, str | None]]:
    return [(i % patients, tokens[i] if tokens else None) for i in range(n)]


def run_http(*, requests: int, ref_requests: int, patients: int, workers: int, clients: int,
             seconds: float, warmup: int) -> HttpFigures:
    """Measure the service and the two peers with the same bodies, settings and clients."""
    now = datetime.now(UTC)
    bodies = [workload.encode(workload.patient_view(100, 1, now=now, patient=p))
              for p in range(patients)]
    figures = HttpFigures(workers=workers, clients=clients, patients=patients)
    key = ec.generate_private_key(ec.SECP384R1())
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        folder = Path(tmp)
        port, ref_port = free_port(), free_port()
        env = _service_env(folder, key, port, workers)
        serve = [sys.executable, "-m", "cds_service.cli", "serve"]
        with _process(serve, env, folder / "service.log") as master:
            _wait(port, "/healthz")
            audience = f"http://127.0.0.1:{port}{SERVICE}"
            warm = loadgen.run(port, SERVICE, bodies,
                               _calls(warmup, patients, _tokens(key, audience, warmup)),
                               clients, seconds)
            if warm.ok < warmup:
                raise RuntimeError(f"service warm-up failed: {warm.errors}; see "
                                   f"{folder / 'service.log'}")
            pids = workers_of(master)
            figures.memory = {"before": [memory_mb(p) for p in pids]}
            half = requests // 2
            first = loadgen.run(port, SERVICE, bodies,
                                _calls(half, patients, _tokens(key, audience, half)),
                                clients, seconds)
            figures.memory["middle"] = [memory_mb(p) for p in pids]
            second = loadgen.run(port, SERVICE, bodies,
                                 _calls(requests - half, patients,
                                        _tokens(key, audience, requests - half)),
                                 clients, seconds)
            figures.memory["after"] = [memory_mb(p) for p in pids]
            figures.outcomes["service"] = _merge(first, second)
        ref = [sys.executable, "-m", "benchmarks.reference_app", "--port", str(ref_port),
               "--workers", str(workers)]
        with _process(ref, env, folder / "reference.log"):
            _wait(ref_port, "/")
            for name in ("floor", "naive"):
                loadgen.run(ref_port, f"/{name}", bodies, _calls(warmup, patients, None),
                            clients, seconds)
                figures.outcomes[name] = loadgen.run(
                    ref_port, f"/{name}", bodies, _calls(ref_requests, patients, None),
                    clients, seconds)
    return figures


def _merge(a: loadgen.Outcome, b: loadgen.Outcome) -> loadgen.Outcome:
    """Join two consecutive runs: latencies and errors summed, rate over both busy spans."""
    errors = dict(a.errors)
    for status, n in b.errors.items():
        errors[status] = errors.get(status, 0) + n
    busy = (a.ended - a.started) + (b.ended - b.started)
    return loadgen.Outcome(a.latencies + b.latencies, errors, 0.0, busy)


def describe(fig: HttpFigures) -> list[str]:
    """Return the printed lines of the HTTP part."""
    lines = [f"HTTP: gunicorn sync x{fig.workers} on 127.0.0.1, {fig.clients} client processes "
             f"(closed loop), 100-Observation patient-view bodies over {fig.patients} patients",
             f"{'endpoint':<10}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}"
             f"{'p99 ms':>9}"]
    for name, out in fig.outcomes.items():
        lines.append(f"{name:<10}{out.ok:>9}{sum(out.errors.values()):>8}{out.rate:>9.0f}"
                     f"{out.percentile(0.50):>9.1f}{out.percentile(0.99):>9.1f}")
    for stage, values in fig.memory.items():
        shown = ", ".join(f"{rss:.0f} (peak {hwm:.0f})" for rss, hwm in values)
        lines.append(f"service worker RSS MB {stage}: {shown}")
    return lines
