"""A replayed jti is refused when the second call reaches another worker process.

Two real `crs-cds serve` processes (one gunicorn worker each, as two instances behind one
public URL) share the replay store: the SQLite file, the real PostgreSQL, or Redis.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service.db import Database
from tests.conftest import PUBLIC_BASE, TEST_ISSUER, SignedJwt

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


class Instances:
    """Start service processes with one environment; stop them all at the end."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.kind = "sqlite"
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> str:
        port = _free_port()
        log = open(self.cwd / f"server-{port}.log", "wb")  # noqa: SIM115 - closed with the proc
        proc = subprocess.Popen([sys.executable, "-m", "cds_service.cli", "serve", "--port",
                                 str(port), "--workers", "1"], env=self.env, cwd=self.cwd,
                                stdout=log, stderr=log)
        log.close()
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _status(base + "/readyz") == 200:
                    return base
            except OSError:
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError((self.cwd / f"server-{port}.log").read_text()[-2000:])

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=20)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def instances(request: pytest.FixtureRequest, tmp_path: Path,
              clients_file: Path) -> Iterator[Instances]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update(CDS_PUBLIC_BASE_URL=PUBLIC_BASE, CDS_TRUSTED_CLIENTS_FILE=str(clients_file),
               CDS_DATABASE_URL=f"sqlite:///{tmp_path / 'shared.sqlite3'}",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        database = Database(url)
        database.upgrade()
        database.dispose()
        env.update(CDS_DATABASE_URL=url, CDS_AUDIT_HASH_KEY="k" * 40)
    elif request.param == "redis":
        env["CDS_REDIS_URL"] = request.getfixturevalue("redis_url")
    group = Instances(env, tmp_path)
    group.kind = request.param
    try:
        yield group
    finally:
        group.stop()


def test_replay_is_refused_by_another_process(instances: Instances,
                                              signed_jwt: SignedJwt) -> None:
    first, second = instances.start(), instances.start()
    token = signed_jwt.token("/cds-services")
    assert _status(second + "/cds-services") == 401
    assert _status(first + "/cds-services", token) == 200
    assert _status(second + "/cds-services", token) == 401
    assert _status(first + "/cds-services", token) == 401
    fresh = signed_jwt.token("/cds-services", alg="RS384")
    assert _status(second + "/cds-services", fresh) == 200
    if instances.kind == "redis":  # the entry is in Redis, with an expiry
        import hashlib

        import jwt
        import redis

        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        key = "crs-cds:jti:" + hashlib.sha256(f"{TEST_ISSUER}\0{jti}".encode()).hexdigest()
        client = redis.Redis.from_url(instances.env["CDS_REDIS_URL"])
        try:
            assert 300 < client.ttl(key) <= 360
        finally:
            client.close()
