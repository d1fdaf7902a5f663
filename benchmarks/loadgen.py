"""A closed-loop HTTP load generator: client processes, each one request at a time, loopback only.

Bodies and tokens are prepared by the caller (tokens pre-minted, one per request, so that
signing costs nothing during the run and no jti repeats); the clients only send and time.
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

HOST = "127.0.0.1"  # never anything else


@dataclass(frozen=True)
class Plan:
    """What one client process sends: (body index, token or None) per request."""

    port: int
    path: str
    bodies: list[bytes]
    calls: list[tuple[int, str | None]]
    deadline: float  # time.time() after which the client stops


@dataclass(frozen=True)
class Outcome:
    """What the clients saw: latencies (s) of 200 answers, other statuses, wall span."""

    latencies: list[float]
    errors: dict[int, int]
    started: float
    ended: float

    @property
    def ok(self) -> int:
        """Return the number of 200 answers."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Return the sustained answers per second."""
        span = self.ended - self.started
        return self.ok / span if span > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Return a latency percentile in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def _client(plan: Plan, out: Any) -> None:
    conn = http.client.HTTPConnection(HOST, plan.port, timeout=30)
    latencies: list[float] = []
    errors: dict[int, int] = {}
    started = time.time()
    for index, token in plan.calls:
        if time.time() > plan.deadline:
            break
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        began = time.perf_counter()
        try:
            conn.request("POST", plan.path, body=plan.bodies[index], headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            status = 0
        spent = time.perf_counter() - began
        if status == 200:
            latencies.append(spent)
        else:
            errors[status] = errors.get(status, 0) + 1
    conn.close()
    out.put((latencies, errors, started, time.time()))


def run(port: int, path: str, bodies: list[bytes], calls: list[tuple[int, str | None]],
        clients: int, seconds: float) -> Outcome:
    """Send the calls (split round-robin over the clients); stop all after ``seconds``."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    deadline = time.time() + seconds
    procs = [ctx.Process(target=_client, args=(
        Plan(port, path, bodies, calls[k::clients], deadline), queue)) for k in range(clients)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    latencies = [x for r in results for x in r[0]]
    errors: dict[int, int] = {}
    for r in results:
        for status, n in r[1].items():
            errors[status] = errors.get(status, 0) + n
    return Outcome(latencies, errors, min(r[2] for r in results), max(r[3] for r in results))
