"""``crs-cds evaluate`` runs the endpoint's code path offline; ``crs-cds serve`` serves it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cds_service.cli import main
from tests.conftest import DATA, SANDBOX_EXAMPLES

EXAMPLE_REQUESTS = sorted(
    p for p in (DATA / "cds").glob("*.json") if "feedback" not in p.name
)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_sandbox_order_without_orders_of_interest_answers_at_once(
        capsys: pytest.CaptureFixture[str]) -> None:
    # The capture (zinc acetate, no patient prefetch, http fhirServer, no token) would need
    # data the service cannot fetch (cds-hooks.md §9); but nothing is of interest, so no data
    # is needed: {"cards": []} without any fetch, and the sandbox quirks noted as warnings.
    code, out, err = run_cli(capsys, "evaluate", "--assessments",
                             str(DATA / "cds/sandbox-order-sign.json"))
    assert code == 0, err
    payload = json.loads(out)
    assert payload["response"]["cards"] == []
    assert payload["assessments"] == []
    assert any("Bundle had no type" in w for w in payload["warnings"])


@pytest.mark.parametrize("path", sorted(p for p in SANDBOX_EXAMPLES.glob("*request.json")
                                         if "feedback" not in p.name))
def test_every_sandbox_example_is_accepted_when_its_data_can_be_had(
        path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    body = json.loads(path.read_text())
    body.setdefault("prefetch", {})["patient"] = {"resourceType": "Patient", "id": "p1"}
    for key in ("vitals", "respiratory", "labs", "medadmin", "medorders", "conditions", "findings"):
        body["prefetch"].setdefault(key, None)
    request = tmp_path / "req.json"
    request.write_text(json.dumps(body))
    code, out, err = run_cli(capsys, "evaluate", "--assessments", str(request))
    assert code == 0, err
    payload = json.loads(out)
    assert payload["response"]["cards"] == []
    assert any("draftOrders" in w or "category" in w or "Bundle.type" in w
               for w in payload["warnings"]), payload["warnings"]


@pytest.mark.parametrize("path", EXAMPLE_REQUESTS, ids=lambda p: p.name)
def test_repository_examples_parse(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "evaluate", str(path))
    assert code in (0, 2)
    if code == 0:
        assert "cards" in json.loads(out)
    else:
        assert err.startswith("crs-cds: ")
        assert err.count("\n") == 1


def test_assessments_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "evaluate", "--assessments",
                           "--now", "2026-11-21T12:00:00Z",
                           str(DATA / "cds/patient-view-minimal.json"))
    assert code == 0
    payload = json.loads(out)
    assert set(payload) == {"response", "assessments", "warnings"}
    assert payload["response"] == {"cards": []}
    criteria = {a["criteria"] for a in payload["assessments"]}
    assert "astct-2019-crs" in criteria
    assert all(a["evaluatedAt"] == "2026-11-21T12:00:00Z" for a in payload["assessments"])


def test_stdin_and_service_override(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    raw = (DATA / "cds/patient-view-minimal.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, _ = run_cli(capsys, "evaluate", "--service", "crs-patient-view", "-")
    assert code == 0
    assert json.loads(out) == {"cards": []}


@pytest.mark.parametrize(("args", "message"), [
    (["evaluate", "/nonexistent.json"], "cannot read"),
    (["evaluate", "--now", "yesterday", "REQ"], "--now"),
    (["evaluate", "--now", "2026-11-21T12:00:00", "REQ"], "time zone"),
    (["evaluate", "--service", "nope", "REQ"], "unknown service"),
])
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str],
                                         message: str) -> None:
    args = [str(DATA / "cds/patient-view-minimal.json") if a == "REQ" else a for a in args]
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_invalid_json_and_invalid_request_exit_2(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert run_cli(capsys, "evaluate", str(bad))[0] == 2
    bad.write_text(json.dumps({"hook": "patient-view", "hookInstance": "x", "context": {}}))
    code, _, err = run_cli(capsys, "evaluate", str(bad))
    assert code == 2
    assert "400 invalid-request" in err
    assert "context.userId" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("crs-cds", path=os.path.dirname(sys.executable)) is None,
                    reason="console script not installed next to this interpreter")
def test_serve_answers_discovery(tmp_path: Path) -> None:
    port = _free_port()
    exe = shutil.which("crs-cds", path=os.path.dirname(sys.executable))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env["CDS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env["CDS_ANONYMOUS_DISCOVERY"] = "true"  # as the README's run command sets it
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", "1"],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        body = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/cds-services",
                                            timeout=1) as resp:
                    body = json.load(resp)
            except OSError:
                time.sleep(0.2)
        assert body is not None, "the server did not answer within 20 s"
        assert {s["id"] for s in body["services"]} == {"crs-patient-view", "crs-order-sign"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        if proc.stderr:
            proc.stderr.close()
