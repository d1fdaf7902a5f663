"""Schemathesis against the WSGI app, from cds_service/openapi.json: no 5xx, errors in JSON.

Every operation is exercised with positive data and, for the POST operations, negative data
(wrong types, missing fields, wrong content types): once with authentication off, once on
(every secured call must then be a 401 with an empty body). CI runs 40 examples per
operation and mode; ``CRS_SCHEMATHESIS_EXAMPLES=2000`` is the long run (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cds_service import close_app, create_app
from cds_service.settings import Settings

pytestmark = pytest.mark.slow

DOC = json.loads(resources.files("cds_service").joinpath("openapi.json").read_text())
EXAMPLES = int(os.environ.get("CRS_SCHEMATHESIS_EXAMPLES", "40"))


def json_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx but 401 is {"error", "detail"} JSON; 401 and 204 have no body."""
    status = response.status_code
    if status in (401, 204):
        assert response.content == b"", f"{status} must have an empty body"
    elif status >= 400:
        body = json.loads(response.content)
        assert set(body) == {"error", "detail"}, body
        assert "Traceback" not in body["detail"]
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, json_error_body]


@pytest.fixture(params=["auth-off", "auth-on"])
def api(request: pytest.FixtureRequest, settings: Settings, auth_settings: Settings,
        ) -> Iterator[tuple[Flask, str]]:
    """The app (authentication off or on); no FHIR host is reachable (allow-list)."""
    chosen = settings if request.param == "auth-off" else auth_settings
    chosen = Settings.from_mapping({**chosen.__dict__, "fhir_host_allowlist": ("fuzz.invalid",),
                                    "log_level": "WARNING"})
    app = create_app({"SETTINGS": chosen})
    yield app, request.param
    close_app(app)


def run_operation(op: Any, mode: GenerationMode, app: Flask, seen: Counter[str]) -> None:
    """Run a bounded Hypothesis search over one operation in one generation mode."""
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = case.call_and_validate(app=app, checks=CHECKS)
        seen[f"{op.label} {mode.value} {response.status_code}"] += 1

    check()


def test_no_5xx_and_every_error_in_json(api: tuple[Flask, str]) -> None:
    app, name = api
    schema = schemathesis.openapi.from_dict(DOC)
    seen: Counter[str] = Counter()
    for result in schema.get_all_operations():
        op = result.ok()
        modes = [GenerationMode.POSITIVE]
        if op.method.upper() == "POST":
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            run_operation(op, mode, app, seen)
    statuses = {key.rsplit(" ", 1)[1] for key in seen}
    assert not any(s.startswith("5") for s in statuses)
    if name == "auth-on":
        assert {k.rsplit(" ", 1)[1] for k in seen if k.startswith("POST")} == {"401"}
    else:
        assert {"200", "400", "404"} <= statuses
    print(f"schemathesis {name}: {sum(seen.values())} calls", dict(sorted(seen.items())))
