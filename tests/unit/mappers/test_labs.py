"""Laboratory series: unit conversion, reference ranges, local codes, D-dimer basis."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from criteria.model import PatientTimeline

from .conftest import refs


@pytest.fixture
def timeline(timeline_of: Callable[..., PatientTimeline]) -> PatientTimeline:
    return timeline_of(labs="labs_mixed_units.json")


def _one(timeline: PatientTimeline, kind: str, ref: str) -> tuple[Decimal, str]:
    (m,) = [m for m in timeline.series(kind) if m.reference == f"Observation/{ref}"]
    return m.value, m.unit


def test_crp_in_mg_dl_and_mg_l_with_reference_range(timeline: PatientTimeline) -> None:
    crp = {m.reference: m for m in timeline.series("crp")}
    mgdl = crp["Observation/crp-mgdl"]
    assert (mgdl.value, mgdl.unit) == (Decimal("124"), "mg/L")
    assert (mgdl.ref_low, mgdl.ref_high) == (Decimal(0), Decimal(5))
    mgl = crp["Observation/crp-mgl"]
    assert (mgl.value, mgl.ref_low, mgl.ref_high) == (Decimal(48), None, Decimal(5))


def test_crp_series_is_sorted(timeline: PatientTimeline) -> None:
    assert [m.reference for m in timeline.series("crp")] == [
        "Observation/crp-lt", "Observation/crp-mgl", "Observation/crp-mgdl",
        "Observation/crp-local",
    ]


def test_local_code_matched_by_text_is_flagged_and_warned(timeline: PatientTimeline) -> None:
    (local,) = [m for m in timeline.series("crp") if m.reference == "Observation/crp-local"]
    assert local.value == Decimal(150)
    assert "matched-by-text" in local.flags
    assert "Observation/crp-local" in refs(timeline, "matched-by-text")


def test_comparator_is_kept_as_a_flag(timeline: PatientTimeline) -> None:
    (m,) = [m for m in timeline.series("crp") if m.reference == "Observation/crp-lt"]
    assert "comparator:<" in m.flags


@pytest.mark.parametrize(
    ("kind", "ref", "value", "unit"),
    [
        ("ferritin", "ferritin-1", "3100", "ng/mL"),
        ("fibrinogen", "fibrinogen-gl", "150", "mg/dL"),
        ("triglycerides", "tg-mmol", "265.71", "mg/dL"),
        ("creatinine", "creat-umol", "1", "mg/dL"),
        ("platelets", "plt-1", "45", "10*9/L"),
        ("haemoglobin", "hgb-gl", "9.2", "g/dL"),
        ("wbc", "wbc-ul", "4.2", "10*9/L"),
        ("albumin", "alb-gl", "2.8", "g/dL"),
        ("troponin_i", "trop-hs", "1.09", "ng/mL"),
        ("bun", "urea-mmol", "28", "mg/dL"),
        ("potassium", "k-meq", "5.1", "mmol/L"),
        ("ast", "ast-1", "90", "U/L"),
        ("anion_gap", "ag-1", "6", "mmol/L"),
        ("sil2r", "sil2r-uml", "5200", "U/mL"),
    ],
)
def test_converted_values(timeline: PatientTimeline, kind: str, ref: str, value: str,
                          unit: str) -> None:
    assert _one(timeline, kind, ref) == (Decimal(value), unit)


def test_lymphocytes_text_with_percent_is_the_differential(timeline: PatientTimeline) -> None:
    assert timeline.series("lymphocytes") == ()
    (pct,) = timeline.series("lymphocytes_pct")
    assert (pct.value, pct.unit) == (Decimal("9.8"), "%")


def test_d_dimer_bases_are_kept_apart(timeline: PatientTimeline) -> None:
    feu = {m.reference: m for m in timeline.series("d_dimer_feu")}
    (ddu,) = timeline.series("d_dimer_ddu")
    assert feu["Observation/ddimer-feu"].value == Decimal(4930)
    assert ddu.value == Decimal(900)
    unknown = feu["Observation/ddimer-unknown-basis"]
    assert unknown.value == Decimal(2000)
    assert "d-dimer-basis-unknown" in unknown.flags


def test_hs_troponin_and_unconfirmed_codes_are_flagged(timeline: PatientTimeline) -> None:
    (trop,) = timeline.series("troponin_i")
    assert "hs-assay" in trop.flags
    (gap,) = timeline.series("anion_gap")
    assert "unconfirmed-code" in gap.flags  # 33037-3 is [R] in §4.3


def test_sil2r_in_pg_ml_is_set_aside(timeline: PatientTimeline) -> None:
    assert [m.reference for m in timeline.series("sil2r")] == ["Observation/sil2r-uml"]
    assert refs(timeline, "unknown-unit") == {"Observation/sil2r-pgml"}


def test_warnings_hold_no_values(timeline: PatientTimeline) -> None:
    for warning in timeline.warnings:
        assert not any(ch.isdigit() for ch in warning.message.replace("sil2r", ""))
