"""Run `crs-cds evaluate --assessments` in-process on a request body, as the e2e tests do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.cli import main


def run_evaluate(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: dict[str, Any],
                 now: str, *extra: str) -> dict[str, Any]:
    """Return the `--assessments` payload for ``body`` evaluated at ``now``; exit 0 required."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    code = main(["evaluate", "--assessments", "--now", now, *extra, str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return dict(json.loads(out))
