"""The server side of a soak run: a real `crs-cds serve` (gunicorn), its database, its workers.

Traffic goes only to 127.0.0.1. Every process started here is stopped by its own pid.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://soak.ehr.test"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    """Tell whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_clients_file(folder: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    """Write a trusted-clients file trusting the soak issuer's ES384 key (kid soak1)."""
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    path = folder / "clients.json"
    path.write_text(json.dumps({"clients": [
        {"iss": ISSUER, "jwks": {"keys": [{**jwk, "kid": "soak1", "use": "sig"}]}}]}))
    return path


def _state(pid: int) -> str:
    """Return a process's state letter (R running, S sleeping, ...), or '' if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


@dataclass
class SoakDatabase:
    """The run's database: an SQLite file, or a fresh schema in the local PostgreSQL."""

    kind: str
    folder: Path
    url: str = ""
    schema: str = ""

    def create(self) -> str:
        """Create the database (PostgreSQL: a schema, migrated) and return its URL."""
        from cds_service.db import Database

        if self.kind == "sqlite":
            self.url = f"sqlite:///{self.folder / 'soak.sqlite3'}"
            return self.url
        if not listening(5432):
            raise RuntimeError("PostgreSQL is not running at 127.0.0.1:5432")
        from sqlalchemy import create_engine, text

        self.schema = f"crs_cds_soak_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_BASE)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        finally:
            admin.dispose()
        self.url = f"{PG_BASE}?options=-csearch_path%3D{self.schema}"
        database = Database(self.url)
        database.upgrade()
        database.dispose()
        return self.url

    def feedback_cards(self) -> list[str]:
        """Return the card ids of every stored feedback row."""
        from sqlalchemy import select

        from cds_service.db import Database
        from cds_service.db.schema import feedback

        database = Database(self.url)
        try:
            with database.engine.connect() as conn:
                return [str(c) for c in conn.scalars(select(feedback.c.card_uuid))]
        finally:
            database.dispose()

    def drop(self) -> None:
        """Drop the PostgreSQL schema (the SQLite file goes with its folder)."""
        if not self.schema:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_BASE)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        finally:
            admin.dispose()


@dataclass
class Server:
    """One `crs-cds serve` process (the gunicorn master) and its workers."""

    folder: Path
    database_url: str
    clients_file: Path
    workers: int = 3
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """Return the base URL the server answers on."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Return the file the server's stdout and stderr go to."""
        return self.folder / "server.log"

    def environment(self) -> dict[str, str]:
        """Return the server's environment: authentication on, the soak's clients file."""
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("CDS_") or k == "DATABASE_URL")}
        env.update(CDS_PUBLIC_BASE_URL=self.base, CDS_TRUSTED_CLIENTS_FILE=str(self.clients_file),
                   CDS_DATABASE_URL=self.database_url, CDS_INSTANCE_DIR=str(self.folder / "inst"),
                   CDS_LOG_LEVEL="INFO", PYTHONPATH=str(ROOT))
        if not self.database_url.startswith("sqlite"):
            env["CDS_AUDIT_HASH_KEY"] = "soak-" + "k" * 40
        return env

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until /readyz answers 200 and every worker is up."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.environment(), cwd=self.folder, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if len(self.worker_pids()) == self.workers and self.status("/readyz") == 200:
                return
            time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"the server did not become ready:\n{tail}")

    def status(self, path: str) -> int:
        """Return the status of a GET (0 when the connection fails)."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)
        except OSError:
            return 0

    def worker_pids(self) -> set[int]:
        """Return the pids of the master's live children (the gunicorn workers)."""
        if self.proc is None:
            return set()
        master = str(self.proc.pid)
        pids = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[1] == master and fields[0] != "Z":
                pids.add(int(entry))
        return pids

    def kill_worker(self, wait_busy: float = 3.0) -> tuple[int, bool, float]:
        """SIGKILL one worker, preferably one running a request; return (pid, busy, when)."""
        deadline = time.monotonic() + wait_busy
        while True:
            pids = sorted(self.worker_pids())
            busy = [p for p in pids if _state(p) == "R"]
            if busy or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        pid = (busy or pids)[0]
        when = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        return pid, bool(busy), when

    def rss_kib(self) -> dict[str, Any]:
        """Return the resident memory (KiB) of the master and of each worker, from /proc."""
        def rss(pid: int) -> int:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
            except OSError:
                pass
            return 0

        workers = {pid: rss(pid) for pid in sorted(self.worker_pids())}
        master = rss(self.proc.pid) if self.proc else 0
        return {"master": master, "workers": workers, "total": master + sum(workers.values())}

    def stop(self) -> None:
        """Stop the master (it stops its workers) and wait for it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
