"""The two reference endpoints of the HTTP benchmark, under the service's gunicorn settings.

``POST /floor``: Flask reads the body with ``orjson.loads`` and answers ``{"cards": []}``.
``POST /naive``: the same, plus fhir.resources R4B ``Bundle.model_validate`` of each prefetch
Bundle (the naive peer). No authentication: they measure the parse and validation cost only.

Run: .venv/bin/python -m benchmarks.reference_app --port 8090 [--workers 3]
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
from flask import Flask, Response, request

from fhir_mappers.r4 import Bundle

EMPTY = orjson.dumps({"cards": []})


def naive_validate(body: Any) -> int:
    """Validate every prefetch Bundle with R4B models; return the entries validated."""
    count = 0
    for value in (body.get("prefetch") or {}).values():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            count += len(Bundle.model_validate(value).entry or ())
    return count


def create_reference_app() -> Flask:
    """Return the Flask app with the floor and naive endpoints."""
    app = Flask(__name__, static_folder=None)

    @app.post("/floor")
    def floor() -> Response:
        orjson.loads(request.get_data())
        return Response(EMPTY, mimetype="application/json")

    @app.post("/naive")
    def naive() -> Response:
        naive_validate(orjson.loads(request.get_data()))
        return Response(EMPTY, mimetype="application/json")

    return app


def main() -> None:
    """Serve the reference endpoints until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    from cds_service.server import AppServer, gunicorn_options

    options = gunicorn_options("127.0.0.1", args.port, args.workers, "warning")
    AppServer(options, create_reference_app).run()


if __name__ == "__main__":
    main()
