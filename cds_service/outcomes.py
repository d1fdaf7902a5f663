"""Composition root of the clinical step: dispatch to the hook's criteria and cards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cds_service import order_sign, patient_view
from cds_service.services import ServiceDefinition
from criteria.model import PatientTimeline
from criteria.rules import RuleSet

RUNNERS = {"patient-view": patient_view.run, "order-sign": order_sign.run}


def run_service(service: ServiceDefinition, body: Mapping[str, Any], timeline: PatientTimeline,
                now: datetime, rules: RuleSet,
                unavailable: Mapping[str, str]) -> tuple[list[dict[str, Any]],
                                                         list[dict[str, Any]]]:
    """Run the criteria and cards of one service."""
    return RUNNERS[service.hook](body, timeline, now, rules, unavailable)
