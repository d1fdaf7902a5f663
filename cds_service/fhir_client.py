"""Bounded GET access to the request's ``fhirServer`` (CDS Hooks 2.0 §FHIR Resource Access).

Spec: https://cds-hooks.hl7.org/2.0/#fhir-resource-access. Every call has connect and read
timeouts cut to a per-request deadline; retries are ours (not urllib3's) so that backoff and
``Retry-After`` never run past that deadline. The bearer token only goes to the fhirServer
origin: redirects are followed by hand and only on that origin.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from cds_service.errors import FhirServerError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3
CHUNK = 16 * 1024


@dataclass(frozen=True)
class FhirAccessSettings:
    """Timeouts, retries, paging bound and development exceptions for FHIR fallback."""

    connect_timeout: float = 0.5
    read_timeout: float = 1.0
    total_budget: float = 1.5
    retries: int = 2
    max_pages: int = 10
    allow_open_server: bool = False
    allowed_http_hosts: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    backoff: float = 0.1
    max_response_bytes: int = 16 * 1024 * 1024


class FhirTimeout(FhirServerError):
    """The FHIR server did not answer within the timeouts or the request's budget."""

    status = 504
    code = "fhir-timeout"


class FhirUnreachable(FhirServerError):
    """The connection to the FHIR server failed."""

    code = "fhir-unreachable"


class FhirHttpError(FhirServerError):
    """The FHIR server answered with an error status."""

    code = "fhir-http-error"

    def __init__(self, detail: str, *, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.retry_after = retry_after


class FhirBadResponse(FhirServerError):
    """The FHIR server's answer was not usable JSON, too large, or redirected elsewhere."""

    code = "fhir-bad-response"


def origin(url: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def _host_matches(url: str, allowed: tuple[str, ...]) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    names = {host, f"{host}:{origin(url)[2]}"}
    return any(entry.lower() in names for entry in allowed)


def access_problem(fhir_server: object, has_token: bool,
                   settings: FhirAccessSettings) -> str | None:
    """Return why this fhirServer may not be queried, or None when it may."""
    if not isinstance(fhir_server, str) or not fhir_server:
        return "the request has no fhirServer"
    try:
        parts = urlsplit(fhir_server)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "fhirServer is not a valid URL"
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        return "fhirServer is not a plain base URL"
    if parts.scheme == "http":
        if not _host_matches(fhir_server, settings.allowed_http_hosts):
            return "fhirServer is not https and its host is not allowed over http"
    elif parts.scheme != "https":
        return "fhirServer is not https"
    if settings.allowed_hosts and not _host_matches(fhir_server, settings.allowed_hosts):
        return "fhirServer host is not on the allow-list"
    if not has_token and not settings.allow_open_server:
        return "no usable access token and open FHIR server access is off"
    return None


def new_session() -> requests.Session:
    """Return a session without urllib3 retries and without netrc or proxy settings."""
    session = requests.Session()
    session.trust_env = False  # netrc credentials would replace our Authorization header
    adapter = HTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _read_some(raw: Any) -> bytes:
    """Return what one read of the body gives (decoded), at most CHUNK bytes."""
    if isinstance(raw, urllib3.response.BaseHTTPResponse):
        return raw.read1(CHUNK, decode_content=True)
    return bytes(raw.read1(CHUNK))  # any io.BufferedIOBase


class FhirClient:
    """GETs JSON from one FHIR base with a token, timeouts, retries and a deadline."""

    def __init__(self, base_url: str, token: str | None, settings: FhirAccessSettings,
                 *, deadline: float,
                 session_factory: Callable[[], requests.Session] | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.settings = settings
        self.deadline = deadline
        self._origin = origin(self.base_url)
        self._headers = {"Accept": "application/fhir+json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._session = (session_factory or new_session)()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying session."""
        self._session.close()

    def url_for(self, relative: str) -> str:
        """Return the absolute URL of a path relative to the FHIR base."""
        return self.base_url + relative.lstrip("/")

    def same_origin(self, url: str) -> bool:
        """Tell whether a URL is on the fhirServer origin (scheme, host and port)."""
        try:
            return origin(url) == self._origin
        except ValueError:  # a malformed port
            return False

    def remaining(self) -> float:
        """Return the seconds left before the deadline."""
        return self.deadline - time.monotonic()

    def get_json(self, url: str) -> dict[str, Any]:
        """GET a JSON object from a URL on the fhirServer origin, retrying within budget."""
        if not self.same_origin(url):
            raise FhirBadResponse("URL is not on the fhirServer origin")
        attempt = 0
        while True:
            try:
                return self._get_once(url)
            except (FhirUnreachable, FhirHttpError) as exc:
                http = exc if isinstance(exc, FhirHttpError) else None
                if attempt >= self.settings.retries or (
                        http and http.status_code not in RETRY_STATUSES):
                    raise
                wait = self.settings.backoff * (2 ** attempt)
                if http and http.retry_after is not None:
                    wait = max(wait, http.retry_after)
                if wait >= self.remaining() - 0.05:
                    raise
                attempt += 1
                log.info("FHIR GET retry %d after %s, waiting %d ms", attempt, exc.code,
                         wait * 1000)
                time.sleep(wait)

    def _get_once(self, url: str) -> dict[str, Any]:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(url)
            try:
                if response.status_code not in REDIRECT_STATUSES:
                    return self._parse(response)
                target = urljoin(url, response.headers.get("Location", ""))
            finally:
                response.close()
            if not self.same_origin(target):
                raise FhirBadResponse("FHIR server redirected to another server")
            url = target
        raise FhirBadResponse("FHIR server redirected too many times")

    def _send(self, url: str) -> requests.Response:
        left = self.remaining()
        if left <= 0:
            raise FhirTimeout("FHIR server timed out")
        timeout = (min(self.settings.connect_timeout, left), min(self.settings.read_timeout, left))
        started = time.monotonic()
        try:
            response = self._session.get(url, headers=self._headers, timeout=timeout,
                                         allow_redirects=False, stream=True)
        except requests.ConnectTimeout as exc:
            raise FhirUnreachable("FHIR server connection timed out") from exc
        except requests.Timeout as exc:
            raise FhirTimeout("FHIR server timed out") from exc
        except requests.RequestException as exc:
            raise FhirUnreachable("FHIR server could not be reached") from exc
        log.info("FHIR GET answered %d in %d ms", response.status_code,
                 (time.monotonic() - started) * 1000)
        return response

    def _parse(self, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status >= 400:
            hint = _retry_after(response.headers.get("Retry-After"))
            raise FhirHttpError(f"FHIR server answered {status}", status_code=status,
                                retry_after=hint)
        if status != 200:
            raise FhirBadResponse(f"FHIR server answered {status}")
        body = bytearray()
        try:
            # read1: whatever one socket read gives, so a body that drips a byte at a time is
            # still cut off at the deadline (iter_content would wait for a whole chunk).
            while chunk := _read_some(response.raw):
                body += chunk
                if len(body) > self.settings.max_response_bytes:
                    raise FhirBadResponse("FHIR server answer is too large")
                if self.remaining() <= 0:
                    raise FhirTimeout("FHIR server timed out")
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
            raise FhirTimeout("FHIR server timed out") from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise FhirUnreachable("FHIR server connection broke") from exc
        finally:
            response.close()
        try:
            data = json.loads(bytes(body))
        except ValueError as exc:
            raise FhirBadResponse("FHIR server answer is not valid JSON") from exc
        except RecursionError as exc:  # nesting deeper than the parser's recursion limit
            raise FhirBadResponse("FHIR server answer is nested too deeply") from exc
        if not isinstance(data, dict):
            raise FhirBadResponse("FHIR server answer is not a JSON object")
        return data
