"""Conditions: ICD-10-CM sJIA, text concepts, refuted and entered-in-error excluded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from criteria.model import PatientTimeline

from .conftest import refs


@pytest.fixture
def timeline(timeline_of: Callable[..., PatientTimeline]) -> PatientTimeline:
    return timeline_of(conditions="conditions.json")


def test_sjia_by_icd10_prefix_keeps_statuses(timeline: PatientTimeline) -> None:
    (sjia,) = [c for c in timeline.conditions if c.concept == "sjia"]
    assert (sjia.clinical_status, sjia.verification_status) == ("active", "provisional")
    assert sjia.onset == datetime(2023, 11, 2, tzinfo=UTC)
    assert sjia.flags == ("date-only",)


def test_text_concepts(timeline: PatientTimeline) -> None:
    concepts = {(c.concept, c.reference) for c in timeline.conditions}
    assert ("infection", "Condition/cond-sepsis") in concepts
    assert ("splenomegaly", "Condition/cond-hsm") in concepts
    assert ("hepatomegaly", "Condition/cond-hsm") in concepts
    assert "Condition/cond-sepsis" in refs(timeline, "matched-by-text")


def test_excluded_and_unrelated(timeline: PatientTimeline) -> None:
    assert refs(timeline, "refuted") == {"Condition/cond-refuted"}
    assert refs(timeline, "entered-in-error") == {"Condition/cond-eie"}
    assert "Condition/cond-htn" not in {c.reference for c in timeline.conditions}
    assert "covid19" not in {c.concept for c in timeline.conditions}
