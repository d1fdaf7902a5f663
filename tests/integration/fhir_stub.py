"""A scripted FHIR server on 127.0.0.1 for integration and end-to-end tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class StubResponse:
    """One scripted answer: status, JSON (dict/list) or raw body, headers, delay or reset."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False  # close the connection without answering
    content_type: str = "application/fhir+json"

    def encoded(self) -> bytes:
        """Return the body as bytes."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass(frozen=True)
class ReceivedRequest:
    """A request the stub received, with lower-cased header names."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        """Return path and query as sent."""
        return f"{self.path}?{self.query}" if self.query else self.path


def not_found() -> StubResponse:
    """Return the answer for an unscripted path."""
    return StubResponse(404, {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "not-found", "diagnostics": "not scripted"}]})


class FhirStub:
    """A real HTTP server with per-path scripted answers and a record of requests."""

    def __init__(self, base_path: str = "/fhir") -> None:
        self.base_path = base_path.rstrip("/")
        self.requests: list[ReceivedRequest] = []
        self._scripts: dict[tuple[str, str], list[StubResponse]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def script(self, target: str, *answers: StubResponse, method: str = "GET") -> None:
        """Answer ``target`` (path below the base, with or without query) in turn; the last
        answer repeats."""
        with self._lock:
            self._scripts[(method, self.base_path + "/" + target.lstrip("/"))] = list(answers)

    def url(self, target: str) -> str:
        """Return the absolute URL of a target below the base."""
        return f"{self.base_url}/{target.lstrip('/')}"

    @property
    def base_url(self) -> str:
        """Return the FHIR base URL, e.g. ``http://127.0.0.1:PORT/fhir``."""
        return f"http://{self.host_port}{self.base_path}"

    @property
    def host_port(self) -> str:
        """Return ``127.0.0.1:PORT`` for allow-lists."""
        if self._server is None:
            raise ValueError("the stub is not started")
        return f"127.0.0.1:{self._server.server_address[1]}"

    def received(self, path_prefix: str = "") -> list[ReceivedRequest]:
        """Return the requests whose path starts with base + prefix."""
        with self._lock:
            prefix = self.base_path + "/" + path_prefix.lstrip("/") if path_prefix else ""
            return [r for r in self.requests if r.path.startswith(prefix)]

    def start(self) -> FhirStub:
        """Start serving on an ephemeral port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Interrupt delays, stop serving and close every socket."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FhirStub:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _answer(self, request: ReceivedRequest) -> StubResponse:
        with self._lock:
            self.requests.append(request)
            queue = (self._scripts.get((request.method, request.target))
                     or self._scripts.get((request.method, request.path)))
            if not queue:
                return not_found()
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler_for(stub: FhirStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 5  # a client that never sends cannot hold the server open

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._handle()

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._handle()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            return

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = stub._answer(ReceivedRequest(self.command, parts.path, parts.query,
                                                  headers, body))
            if answer.delay and stub._stopping.wait(answer.delay):
                return
            if answer.reset:
                self.close_connection = True
                return
            payload = answer.encoded()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler
