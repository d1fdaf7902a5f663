"""MedicationAdministrations: classes, infusions and rates, statuses, oxygen as a drug."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from criteria.model import DrugClass, DrugExposure, DrugSource, OxygenModality, PatientTimeline

from .conftest import refs


@pytest.fixture
def timeline(timeline_of: Callable[..., PatientTimeline]) -> PatientTimeline:
    return timeline_of(medadmin="medadmin.json")


def _drug(timeline: PatientTimeline, ref: str) -> DrugExposure:
    (found,) = [d for d in timeline.drugs if d.reference == f"MedicationAdministration/{ref}"]
    return found


def test_car_t_product_code_maps_to_ingredient(timeline: PatientTimeline) -> None:
    car_t = _drug(timeline, "ma-yescarta")
    assert (car_t.drug_class, car_t.ingredient) == (DrugClass.CAR_T, "axicabtagene ciloleucel")
    assert car_t.source is DrugSource.ADMINISTRATION
    assert car_t.end == datetime(2024, 4, 25, 14, 30, tzinfo=UTC)


def test_running_norepinephrine_infusion(timeline: PatientTimeline) -> None:
    ne = _drug(timeline, "ma-norepi")
    assert ne.drug_class is DrugClass.VASOPRESSOR
    assert (ne.start, ne.end) == (datetime(2024, 5, 2, 7, tzinfo=UTC), None)
    assert (ne.rate, ne.rate_unit, ne.is_continuous) == (Decimal(8), "ug/min", True)
    assert ne.status == "in-progress"
    assert ne.request_reference == "MedicationRequest/mr-norepi"


def test_vasopressin_units_read_as_units_per_min(timeline: PatientTimeline) -> None:
    vaso = _drug(timeline, "ma-vaso")
    assert vaso.drug_class is DrugClass.VASOPRESSIN_CLASS
    assert (vaso.rate, vaso.rate_unit) == (Decimal("0.03"), "units/min")
    assert vaso.is_continuous  # a rate, though only effectiveDateTime


def test_epinephrine_rate_ratio_local_code(timeline: PatientTimeline) -> None:
    epi = _drug(timeline, "ma-epi-ratio")
    assert (epi.ingredient, epi.rate, epi.rate_unit) == ("epinephrine", Decimal("0.05"),
                                                          "ug/kg/min")
    assert "matched-by-text" in epi.flags


def test_dobutamine_is_an_inotrope(timeline: PatientTimeline) -> None:
    dobu = _drug(timeline, "ma-dobutamine")
    assert (dobu.drug_class, dobu.rate_unit) == (DrugClass.INOTROPE, "ug/kg/min")


def test_push_dose_phenylephrine_is_not_continuous(timeline: PatientTimeline) -> None:
    push = _drug(timeline, "ma-phenyl-push")
    assert (push.is_continuous, push.dose, push.dose_unit) == (False, Decimal(100), "ug")


def test_tocilizumab_by_product_code_and_by_biosimilar_name(timeline: PatientTimeline) -> None:
    toci = timeline.drugs_of(DrugClass.TOCILIZUMAB)
    assert [d.reference for d in toci] == [
        "MedicationAdministration/ma-actemra", "MedicationAdministration/ma-toci-bavi-local"]
    assert toci[0].start == datetime(2024, 5, 1, 23, tzinfo=UTC)  # 18:00-05:00
    assert (toci[0].dose, toci[0].flags) == (Decimal(800), ())
    assert toci[1].flags == ("matched-by-text",)
    assert "MedicationAdministration/ma-toci-bavi-local" in refs(timeline, "matched-by-text")


def test_contained_medication_reference(timeline: PatientTimeline) -> None:
    apap = _drug(timeline, "ma-apap")
    assert (apap.drug_class, apap.dose) == (DrugClass.ANTIPYRETIC, Decimal(650))


def test_unconfirmed_rxcui_is_flagged(timeline: PatientTimeline) -> None:
    dexa = _drug(timeline, "ma-dexa-future-end")
    assert dexa.drug_class is DrugClass.CORTICOSTEROID
    assert "unconfirmed-code" in dexa.flags  # 3264 is [R] in §4.4


def test_end_after_evaluation_time_is_dropped(timeline: PatientTimeline) -> None:
    dexa = _drug(timeline, "ma-dexa-future-end")
    assert dexa.end is None
    assert "end-after-evaluation-time" in dexa.flags


def test_stopped_is_kept_with_its_status(timeline: PatientTimeline) -> None:
    assert _drug(timeline, "ma-stopped").status == "stopped"


def test_excluded_statuses_and_future_doses(timeline: PatientTimeline) -> None:
    assert refs(timeline, "entered-in-error") == {"MedicationAdministration/ma-eie"}
    assert refs(timeline, "not-done") == {"MedicationAdministration/ma-notdone"}
    assert refs(timeline, "after-evaluation-time") == {"MedicationAdministration/ma-after-now"}
    all_refs = {d.reference for d in timeline.drugs}
    assert "MedicationAdministration/ma-heparin" not in all_refs  # not a drug of interest


def test_oxygen_as_a_drug_with_a_rate(timeline: PatientTimeline) -> None:
    (o2_drug,) = timeline.drugs_of(DrugClass.OXYGEN)
    assert (o2_drug.rate, o2_drug.rate_unit) == (Decimal(4), "L/min")
    (o2,) = timeline.oxygen
    assert o2.modality is OxygenModality.SUPPLEMENTAL_UNKNOWN_DEVICE
    assert (o2.flow_l_min, o2.flags) == (Decimal(4), ("device-missing",))
    assert o2.references == ("MedicationAdministration/medicationadministration0315",)


def test_drugs_sorted_oldest_first(timeline: PatientTimeline) -> None:
    starts = [d.start for d in timeline.drugs]
    assert starts == sorted(starts)
