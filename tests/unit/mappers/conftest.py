"""Fixtures for mapper tests: FHIR JSON files from tests/data/fhir and a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from criteria.model import MappingWarning, PatientTimeline
from fhir_mappers.timeline import build_timeline

DATA = Path(__file__).resolve().parents[2] / "data" / "fhir"
NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
EXPECTED = {
    "patient": ("Patient", False),
    "vitals": ("Observation", True),
    "respiratory": ("Observation", True),
    "labs": ("Observation", True),
    "medadmin": ("MedicationAdministration", True),
    "medorders": ("MedicationRequest", True),
    "conditions": ("Condition", True),
}


def load(name: str) -> Any:
    """Return a parsed FHIR fixture."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def fhir() -> Callable[[str], Any]:
    """Load a FHIR JSON fixture by file name."""
    return load


@pytest.fixture
def timeline_of() -> Callable[..., PatientTimeline]:
    """Build a timeline from fixtures mapped to prefetch keys (key=file name)."""

    def build(**keys: str) -> PatientTimeline:
        prefetch = {key: load(name) for key, name in keys.items()}
        return build_timeline(prefetch, now=NOW, expected=EXPECTED)

    return build


def warned(timeline: PatientTimeline, code: str) -> list[MappingWarning]:
    """Return the warnings of one code."""
    return [w for w in timeline.warnings if w.code == code]


def refs(timeline: PatientTimeline, code: str) -> set[str | None]:
    """Return the references of the warnings of one code."""
    return {w.reference for w in warned(timeline, code)}
