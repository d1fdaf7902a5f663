"""Property: near-FHIR junk never makes the mappers, criteria or cards raise unexpectedly.

``build_timeline`` may raise only PrefetchShapeError (a 400); criteria and cards must accept
whatever timeline comes out. CI runs the ``ci`` profile; ``CRS_FUZZ_PROFILE=long`` runs
10,000 cases per test (docs/reliability.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from cds_service.outcomes import run_service
from cds_service.services import ORDER_SIGN, PATIENT_VIEW
from criteria.rules import load_rules
from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.timeline import MapperOptions, build_timeline
from tests.reliability.strategies import NOW, bundle, med_request, prefetch, profile

pytestmark = pytest.mark.slow

RULES = load_rules({})
EXPECTED = {k.name: (k.resource_type, k.is_search) for k in PATIENT_VIEW.prefetch}
CONTEXT = {"userId": "Practitioner/dr", "patientId": "p"}


def evaluate(data: dict[str, Any], draft: Any, hook: str, now: datetime) -> None:
    """Map the data and run the hook's criteria and cards, as the pipeline does."""
    service = PATIENT_VIEW if hook == "patient-view" else ORDER_SIGN
    try:
        timeline = build_timeline(data, now=now, expected=EXPECTED, draft_orders=draft,
                                  options=MapperOptions())
    except PrefetchShapeError:
        event("shape error (400)")
        return
    body = {"hook": hook, "hookInstance": "h", "context": {**CONTEXT, "draftOrders": draft}}
    unavailable = dict.fromkeys(timeline.unavailable, "unavailable")
    cards, assessments = run_service(service, body, timeline, now, RULES, unavailable)
    event(f"measurements mapped: {bool(timeline.measurements)}")
    event(f"drugs or drafts mapped: {bool(timeline.drugs or timeline.draft_orders)}")
    event(f"cards: {bool(cards)}")
    assert isinstance(cards, list)
    assert isinstance(assessments, list)


@profile()
@given(data=prefetch(), now=st.one_of(*[st.just(NOW)] * 6, st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))))
def test_patient_view_mapping_and_criteria_never_crash(data: dict[str, Any],
                                                       now: datetime) -> None:
    evaluate(data, None, "patient-view", now)


@profile()
@given(data=prefetch(), draft=bundle(med_request))
def test_order_sign_mapping_and_criteria_never_crash(data: dict[str, Any], draft: Any) -> None:
    if not isinstance(draft, dict):
        return  # the request validator answers 400 before the mappers see it
    evaluate(data, draft, "order-sign", NOW)
