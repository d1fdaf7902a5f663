"""The ``crs-cds`` command: serve the app, or evaluate one request offline."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
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
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"],
                    help="upgrade: apply pending migrations; current: print the revision")
    tok = sub.add_parser("dev-token", help="DEVELOPMENT AID: mint a short-lived ES384 token "
                         "from a local key and print the matching clients-file entry")
    aud = tok.add_mutually_exclusive_group()
    aud.add_argument("--service", help="audience: POST /cds-services/SERVICE")
    aud.add_argument("--feedback", metavar="SERVICE",
                     help="audience: POST /cds-services/SERVICE/feedback")
    aud.add_argument("--aud", help="audience URL (default: the discovery URL)")
    tok.add_argument("--lifetime", type=int, default=300, help="seconds (default 300)")
    return parser


def _read_request(path: str) -> Any:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
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


def run_db(args: argparse.Namespace) -> int:
    """Apply the migrations, or print the current revision."""
    from cds_service.db import Database

    database = Database(Settings.from_env().database_url)
    try:
        if args.action == "upgrade":
            database.upgrade()
        print(database.revision() or "(empty database)")
    finally:
        database.dispose()
    return 0


def run_dev_token(args: argparse.Namespace) -> int:
    """Print a development token on stdout; the clients-file entry and notes on stderr."""
    from pathlib import Path

    from cds_service.auth import devtoken

    settings = Settings.from_env()
    if not 1 <= args.lifetime <= settings.jwt_max_lifetime:
        raise CliError(f"--lifetime must be between 1 and {settings.jwt_max_lifetime}")
    audience = args.aud or settings.base_url + (
        f"/cds-services/{args.service}" if args.service else
        f"/cds-services/{args.feedback}/feedback" if args.feedback else "/cds-services")
    instance = Path(settings.instance_dir)
    key = devtoken.load_or_create_key(instance)
    entry = devtoken.client_entry(key)
    path = devtoken.write_clients_file(instance, entry)
    print(devtoken.mint(key, audience, lifetime=args.lifetime))
    print(f"crs-cds dev-token: DEVELOPMENT AID, never for production.\n"
          f"Token for aud={audience}, valid {args.lifetime} s, usable once.\n"
          f"Trusted automatically by `crs-cds serve` on a loopback host when "
          f"CDS_TRUSTED_CLIENTS_FILE is unset; it reads {path}.\n"
          f"Clients-file entry:\n{json.dumps(entry, indent=2)}", file=sys.stderr)
    return 0


COMMANDS = {"serve": run_serve, "evaluate": run_evaluate, "db": run_db,
            "dev-token": run_dev_token}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CliError, SettingsError) as exc:
        print(f"crs-cds: {exc}", file=sys.stderr)
    except CdsError as exc:
        print(f"crs-cds: {exc.status} {exc.code}: {exc.detail}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - last resort: one line, no values, exit 1
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        print(f"crs-cds: internal error {type(exc).__name__}{where}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
