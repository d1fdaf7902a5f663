"""The benchmark of issue 8 still runs: a tiny in-process and HTTP run, figures only.

No timing is asserted (a CI machine says nothing about the targets); see docs/performance.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ROWS = ("floor orjson.loads", "naive model_validate", "patient-view cold",
        "patient-view repeated", "order-sign cold", "us per Observation")


def test_benchmark_smoke_prints_every_figure() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.perf", "--smoke"], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for row in ROWS:
        assert row in out, row
    for endpoint in ("service", "floor", "naive"):
        assert re.search(rf"^{endpoint}\s+\d+\s+\d+\s+\d+", out, re.MULTILINE), endpoint
    for stage in ("before", "middle", "after"):
        assert f"service worker RSS MB {stage}:" in out
    targets = out.split("Targets (issue 8):", 1)[1]
    assert re.search(r"^(PASS|FAIL)  HTTP p99", targets, re.MULTILINE)
    assert re.search(r"^(PASS|FAIL)  100 obs: repeated request", targets, re.MULTILINE)
