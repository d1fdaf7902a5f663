"""The ``crs-cds`` command: serve the app, or evaluate one request offline."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from cds_service.errors import CdsError
from cds_service.settings import Settings, SettingsError

SERVICE_FOR_HOOK = {"patient-view": "crs-patient-view", "order-sign": "crs-order-sign"}


class CliError(Exception):
    """Unreadable or invalid input: one line on stderr, exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crs-cds", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the CDS Hooks endpoints with gunicorn")
    serve.add_argument("--host", help="address to bind (default CDS_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default CDS_PORT or 8080)")
    serve.add_argument("--workers", type=int, help="worker processes (default CDS_WORKERS or 3)")
    ev = sub.add_parser("evaluate", help="evaluate one CDS Hooks request and print the response")
    ev.add_argument("request", help="request JSON file, or - for standard input")
    ev.add_argument("--assessments", action="store_true",
                    help="print {response, assessments, warnings} instead of the response")
    ev.add_argument("--service", help="service id (default: from the request's hook)")
    ev.add_argument("--now", help="evaluation time, ISO 8601 with a time zone (default: now)")
    return parser


def _read_request(path: str) -> Any:
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON ({exc.msg})") from None


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--now is not an ISO 8601 time: {text}") from None
    if moment.tzinfo is None:
        raise CliError("--now needs a time zone (e.g. 2026-11-21T14:20:00Z)")
    return moment


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate the request exactly as the HTTP endpoint does, without auth or a server."""
    from cds_service import load_rule_set
    from cds_service.pipeline import evaluate
    from cds_service.services import SERVICES

    body = _read_request(args.request)
    hook = body.get("hook") if isinstance(body, dict) else None
    service_id = args.service or SERVICE_FOR_HOOK.get(str(hook))
    if service_id is None:
        raise CliError(f"no service for hook {hook!r}; give --service")
    if service_id not in SERVICES:
        raise CliError(f"unknown service id '{service_id}'")
    settings = Settings.from_env()
    result = evaluate(SERVICES[service_id], body, settings=settings,
                      rules=load_rule_set(settings), now=_parse_now(args.now))
    out: Any = result.response
    if args.assessments:
        out = {"response": result.response, "assessments": result.assessments,
               "warnings": result.warnings}
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve the app under gunicorn."""
    from cds_service.server import serve

    settings = Settings.from_env()
    changes = {k: v for k, v in (("host", args.host), ("port", args.port),
                                 ("workers", args.workers)) if v is not None}
    settings = dataclasses.replace(settings, **changes)
    settings.validate()
    serve(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        return run_serve(args) if args.command == "serve" else run_evaluate(args)
    except (CliError, SettingsError) as exc:
        print(f"crs-cds: {exc}", file=sys.stderr)
    except CdsError as exc:
        print(f"crs-cds: {exc.status} {exc.code}: {exc.detail}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
