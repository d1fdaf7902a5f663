"""Helpers of the fault tests: a slow-drip HTTP server and a log-secrecy check."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from types import TracebackType

import pytest

from cds_service.logs import JsonFormatter


class DripServer:
    """Answers every connection with headers at once, then one body byte per ``interval``.

    Each byte arrives well within any read timeout, so only a deadline on the whole body
    stops a client. ``open_connections`` tells whether a client is still reading.
    """

    def __init__(self, interval: float = 0.2, length: int = 100_000) -> None:
        self.interval, self.length = interval, length
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.stopping = threading.Event()
        self.open_connections = 0
        self.accepted = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        """Return a FHIR base on this server."""
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/fhir"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.open_connections += 1
            t = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(2)
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                         b"Content-Length: %d\r\n\r\n{" % self.length)
            for _ in range(self.length - 1):
                if self.stopping.wait(self.interval):
                    break
                conn.sendall(b" ")
        except OSError:
            pass  # the client hung up: what a deadline should do
        finally:
            conn.close()
            with self._lock:
                self.open_connections -= 1

    def __enter__(self) -> DripServer:
        self._acceptor.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stopping.set()
        self.sock.close()
        self._acceptor.join(timeout=2)
        for t in self._threads:
            t.join(timeout=2)

    def wait_closed(self, timeout: float) -> bool:
        """Wait until no client connection is open; return whether that happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.accepted and self.open_connections == 0:
                    return True
            time.sleep(0.05)
        return False


def captured_logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    """Return every log line of the test: records as JSON lines, and what reached stderr."""
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    lines += [r.getMessage() + " " + json.dumps(r.args, default=str) for r in caplog.records]
    out, err = capsys.readouterr()
    return "\n".join([*lines, out, err])


def assert_no_secrets(logs: str, *secrets: str) -> None:
    """Assert that no secret, token or clinical value appears in the logs."""
    assert "Bearer" not in logs
    for secret in secrets:
        pattern = rf"(?<![\w.]){re.escape(secret)}(?![\w]|\.\d)"
        assert re.search(pattern, logs) is None, f"{secret!r} leaked into the logs"


def capture_logs_at(caplog: pytest.LogCaptureFixture, level: str) -> None:
    """Capture records from ``level`` up, as the app configured with that level emits them."""
    caplog.set_level(logging.getLevelNamesMapping()[level])
