"""Shared fixtures: settings, app and client in the style of flaskr, and a clean environment."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import create_app
from cds_service.settings import Settings

DATA = Path(__file__).parent / "data"
SHARED_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "examples"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Drop every CDS_* variable so tests never see the developer's settings."""
    for name in list(os.environ):
        if name.startswith("CDS_"):
            monkeypatch.delenv(name)
    yield


def load_json(relative: str) -> Any:
    """Read a JSON file under tests/data."""
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for tests: a throw-away SQLite file, local FHIR stubs allowed over http."""
    return Settings.from_mapping({
        "database_url": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "allowed_http_fhir_hosts": ("127.0.0.1",),
        "fhir_total_budget": 2.0,
    })


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The app under test."""
    return create_app({"SETTINGS": settings, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()
