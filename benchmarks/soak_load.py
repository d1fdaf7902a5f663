"""The client side of a soak run: a rate-limited mix of valid, invalid and feedback calls.

Every call goes to 127.0.0.1; the loop is bounded by a request count and a deadline.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.soak_server import ISSUER

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "cds"
SERVICE = "/cds-services/crs-patient-view"
FEEDBACK = SERVICE + "/feedback"
GRADE3_CAPTURED = datetime(2026, 11, 21, 14, 20, tzinfo=UTC)
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
# Share of each call kind, in percent: 25 % invalid or unauthorised, 15 % feedback.
MIX = (("grade3", 15), ("minimal", 45), ("feedback", 15), ("no-token", 4), ("stranger-key", 4),
       ("expired", 3), ("wrong-aud", 3), ("bad-json", 3), ("bad-type", 3), ("no-context", 3),
       ("unknown-service", 2))
EXPECTED = {"grade3": 200, "minimal": 200, "feedback": 200, "no-token": 401,
            "stranger-key": 401, "expired": 401, "wrong-aud": 401, "bad-json": 400,
            "bad-type": 415, "no-context": 400, "unknown-service": 404}


def shifted(body: Any, captured: datetime) -> Any:
    """Return a copy of a captured request with its times moved so ``captured`` is now."""
    delta = datetime.now(UTC).replace(microsecond=0) - captured

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and ISO_TIME.match(node):
            moved = datetime.fromisoformat(node.replace("Z", "+00:00")) + delta
            return moved.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return node

    return walk(body)


@dataclass
class Outcome:
    """One call: its kind, status (0 for a failed connection), latency and start time."""

    kind: str
    status: int
    latency: float
    started: float
    correct: bool
    error: str = ""


@dataclass
class LoadGenerator:
    """Sends ``rate`` calls per second for ``duration`` seconds from a pool of threads."""

    base: str
    key: ec.EllipticCurvePrivateKey
    rate: float
    duration: float
    threads: int = 24
    seed: int = 9
    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    late: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._stranger = ec.generate_private_key(ec.SECP384R1())
        self._grade3_raw = json.loads((DATA / "patient-view-crs-grade3.json").read_text())
        self._minimal = (DATA / "patient-view-minimal.json").read_bytes()
        self._grade3 = b""
        self._grade3_at = 0.0
        kinds = [k for k, share in MIX for _ in range(share)]
        rng = random.Random(self.seed)
        self._plan = [rng.choice(kinds) for _ in range(int(self.rate * self.duration))]

    def token(self, path: str, *, key: Any = None, exp: int = 300) -> str:
        """Return a fresh ES384 client JWT for a path on this server."""
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": self.base + path, "iat": now - (600 if exp < 0 else 0),
                  "exp": now + exp, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, key or self.key, algorithm="ES384",
                          headers={"kid": "soak1", "typ": "JWT"})

    def grade3(self) -> bytes:
        """Return the grade 3 request moved to the present (refreshed every minute)."""
        with self._lock:
            if time.monotonic() - self._grade3_at > 60:
                self._grade3 = json.dumps(shifted(self._grade3_raw, GRADE3_CAPTURED)).encode()
                self._grade3_at = time.monotonic()
            return self._grade3

    def build(self, kind: str) -> tuple[str, bytes, dict[str, str], str]:
        """Return (path, body, headers, feedback card id) of one call of that kind."""
        path, body, card = SERVICE, self._minimal, ""
        ctype = "application/json"
        if kind == "grade3":
            body = self.grade3()
        elif kind == "feedback":
            path, card = FEEDBACK, str(uuid.uuid4())
            stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            body = json.dumps({"feedback": [{"card": card, "outcome": "overridden",
                                             "outcomeTimestamp": stamp}]}).encode()
        elif kind == "bad-json":
            body = b'{"hook": "patient-view", '
        elif kind == "bad-type":
            ctype = "text/plain"
        elif kind == "no-context":
            body = json.dumps({"hook": "patient-view", "hookInstance": str(uuid.uuid4())}).encode()
        elif kind == "unknown-service":
            path = "/cds-services/no-such-service"
        tokens = {"no-token": None, "stranger-key": self.token(path, key=self._stranger),
                  "expired": self.token(path, exp=-300),
                  "wrong-aud": self.token("/cds-services/crs-order-sign")}
        token = tokens[kind] if kind in tokens else self.token(path)
        headers = {"Content-Type": ctype}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return path, body, headers, card

    def check(self, kind: str, status: int, payload: bytes) -> bool:
        """Tell whether an answer is the right one for its kind."""
        if status != EXPECTED[kind]:
            return False
        if status == 401:
            return payload == b""
        data: dict[str, Any] = json.loads(payload)
        if kind == "grade3":
            cards = data.get("cards") or []
            return len(cards) == 1 and str(cards[0]["summary"]).startswith("CRS grade 3 (ASTCT)")
        if kind == "minimal":
            return bool(data.get("cards") == [])
        if kind == "feedback":
            return bool(data == {"stored": 1})
        return isinstance(data.get("error"), str) and isinstance(data.get("detail"), str)

    def call(self, kind: str) -> Outcome:
        """Make one call on a new connection (gunicorn's sync workers close each one)."""
        path, body, headers, card = self.build(kind)
        host, port = self.base.removeprefix("http://").split(":")
        started = time.monotonic()
        conn = http.client.HTTPConnection(host, int(port), timeout=15)
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            return Outcome(kind, 0, time.monotonic() - started, started, False, type(exc).__name__)
        finally:
            conn.close()
        ok = self.check(kind, status, payload)
        if ok and kind == "feedback":
            with self._lock:
                self.acknowledged.append(card)
        return Outcome(kind, status, time.monotonic() - started, started, ok,
                       "" if ok else payload[:200].decode(errors="replace"))

    def _worker(self, t0: float) -> None:
        end = t0 + self.duration + 5  # a late start past this is dropped, not sent
        while True:
            with self._lock:
                i = self._next
                self._next += 1
            if i >= len(self._plan):
                return
            due = t0 + i / self.rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.1:
                with self._lock:
                    self.late += 1
            if time.monotonic() > end:
                return
            outcome = self.call(self._plan[i])
            with self._lock:
                self.outcomes.append(outcome)

    def run(self) -> None:
        """Send the planned calls; return when all are answered (or the deadline passed)."""
        t0 = time.monotonic()
        pool = [threading.Thread(target=self._worker, args=(t0,), daemon=True)
                for _ in range(self.threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=self.duration + 60)

    def summary(self) -> dict[str, Any]:
        """Return status counts per kind, latency percentiles and failures."""
        lat = sorted(o.latency for o in self.outcomes if o.status)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

        by_kind: dict[str, Counter[int]] = {}
        for o in self.outcomes:
            by_kind.setdefault(o.kind, Counter())[o.status] += 1
        wrong = [o for o in self.outcomes if not o.correct]
        return {"sent": len(self.outcomes), "planned": len(self._plan), "late_starts": self.late,
                "statuses": dict(Counter(o.status for o in self.outcomes)),
                "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
                "wrong": len(wrong), "server_errors": sum(o.status >= 500 for o in self.outcomes),
                "connection_errors": sum(o.status == 0 for o in self.outcomes),
                "wrong_examples": [(o.kind, o.status, o.error) for o in wrong[:5]],
                "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0),
                "feedback_acknowledged": len(self.acknowledged)}
