"""Hyperinflammation through `crs-cds evaluate` and through HTTP, one request per criterion.

Cases (tests/data/cds/patient-view-hyper-*.json, evaluated at 2026-11-21 12:00 UTC):
- iechs: axicabtagene ciloleucel on 10 Nov (day 0), CRS fever days 2-3 then afebrile; ferritin
  420 (baseline, ULN 300) -> 9800 -> 12 400 within 24 h; platelets 38 (LLN 150, baseline 180);
  fibrinogen 1.3 g/L; LDH 620 (ULN 250) -> IEC-HS trigger (clinical-criteria.md §2.3).
- hscore: EBV infection, splenomegaly, 39.8 °C, Hb 80 g/L, WBC 2.1, platelets 52, ANC 0.6,
  ferritin 4200, TG 3.1 mmol/L, fibrinogen 1.2 g/L, AST 25 -> HScore ≥192, HLH-2004 met (§2.1-2.2).
- covid: COVID-19 (U07.1) with ground-glass opacities, ferritin 900, CRP 12 mg/dL, albumin 2.5,
  LDH 500, chloride 108 -> Caricchio positive (§2.5 example).
- mas: sJIA (M08.20, provisional), 38.4 °C, ferritin 2500, AST 70, TG 200 mg/dL -> MAS (§2.6).
- carhlh: CAR-T on 17 Nov; day 3 ferritin 15 000; AST 300 (ULN 40); pulmonary oedema ->
  carHLH met, display only (§2.4).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cards.json_rules import find_empty_values
from cds_service.pipeline import evaluate as run_pipeline
from cds_service.services import SERVICES
from cds_service.settings import Settings
from criteria.rules import load_rules
from tests.conftest import load_json
from tests.e2e.cli import run_evaluate
from tests.integration.fhir_stub import FhirStub, StubResponse

NOW = "2026-11-21T12:00:00Z"
EXT = "crs-cds.assessments"


def case(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_json(f"cds/patient-view-hyper-{name}.json"))


def evaluate(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: dict[str, Any],
             *extra: str) -> dict[str, Any]:
    """Run `crs-cds evaluate --assessments --now NOW` on a body."""
    return run_evaluate(capsys, tmp_path, body, NOW, *extra)


def found(payload: dict[str, Any], criteria: str) -> dict[str, Any]:
    return next(a for a in payload["assessments"] if a["criteria"] == criteria)


def hyper_card(payload: dict[str, Any]) -> dict[str, Any]:
    (card,) = [c for c in payload["response"]["cards"] if EXT in c.get("extension", {})]
    return card


def test_iechs_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, case("iechs"))
    iechs = found(payload, "iec-hs-2023")
    assert (iechs["met"], iechs["grade"]) == (True, 1)
    card = hyper_card(payload)
    assert card["summary"].startswith("IEC-HS likely, grade ≥1")
    assert "ferritin 12,400 ng/mL rising" in card["summary"]
    assert card["indicator"] == "warning"
    assert found(payload, "hlh-2004")["met"] is None  # info in the detail only
    assert "information only" in card["detail"]
    easix = found(payload, "easix")
    assert easix["value"] == pytest.approx(620 * 0.9 / 38, abs=0.001)
    assert found(payload, "m-easix")["value"] == pytest.approx(620 * 4.0 / 38, abs=0.001)
    assert find_empty_values(payload["response"]) == []


def test_hscore_request_converts_units(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, case("hscore"))
    hscore = found(payload, "hscore-2014")
    # 49 temperature + 23 spleen + 34 cytopenias (Hb 80 g/L = 8.0 g/dL) + 35 ferritin
    # + 44 TG (3.1 mmol/L = 274.6 mg/dL) + 30 fibrinogen (1.2 g/L = 120 mg/dL) = 215
    assert hscore["score"] == 215
    assert hscore["scoreRange"] == [215, 215 + 18 + 15 + 35]
    assert hscore["probability"] == "≥93 %"
    hlh = found(payload, "hlh-2004")
    assert hlh["met"] is True
    assert hlh["counts"]["met"] == 5
    card = hyper_card(payload)
    assert card["summary"].startswith("HLH-like syndrome likely: HScore ≥215 (≥93 %)")
    assert "infection on record" in card["detail"]
    assert "not validated after IEC therapy" not in card["detail"]


def test_covid_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, case("covid"))
    css = found(payload, "covid-css-2021")
    assert css["met"] is True
    assert css["clusters"] == {"I": "met", "II": "met", "III": "met"}
    card = hyper_card(payload)
    assert card["summary"].startswith("COVID-19 cytokine storm criteria met (Caricchio)")


def test_mas_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, case("mas"))
    assert found(payload, "mas-sjia-2016")["met"] is True
    assert hyper_card(payload)["summary"].startswith("MAS in sJIA likely")


def test_mas_needs_sjia(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    body = case("mas")
    body["prefetch"]["conditions"] = {"resourceType": "Bundle", "type": "searchset"}
    payload = evaluate(capsys, tmp_path, body)
    assert found(payload, "mas-sjia-2016")["met"] is False


def test_carhlh_request_is_display_only(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    payload = evaluate(capsys, tmp_path, case("carhlh"))
    assert found(payload, "carhlh-2018")["met"] is True
    assert all(EXT not in c.get("extension", {}) for c in payload["response"]["cards"])


def test_patient_user_gets_no_lab_orders(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    body = case("iechs")
    body["context"]["userId"] = "Patient/p-iechs-1"
    card = hyper_card(evaluate(capsys, tmp_path, body))
    assert "suggestions" not in card


@pytest.mark.parametrize(("name", "criteria"), [
    ("iechs", "iec-hs-2023"), ("hscore", "hscore-2014"), ("covid", "covid-css-2021"),
    ("mas", "mas-sjia-2016")])
def test_each_request_over_http(app: Flask, name: str, criteria: str) -> None:
    app.config["CLOCK"] = lambda: datetime.fromisoformat(NOW)
    resp = app.test_client().post("/cds-services/crs-patient-view", json=case(name))
    assert resp.status_code == 200
    body = resp.get_json()
    assert find_empty_values(body) == []
    (card,) = [c for c in body["cards"] if EXT in c.get("extension", {})]
    met = {a["criteria"]: a.get("met") for a in card["extension"][EXT]}
    assert met[criteria] is True
    assert len(card["summary"]) <= 139


def test_fhir_fallback_fetches_conditions(settings: Settings) -> None:
    """Without a conditions prefetch, the Condition search is fetched and read (sJIA -> MAS)."""
    body = case("mas")
    with FhirStub() as stub:
        stub.script("Condition", StubResponse(body=body["prefetch"]["conditions"]))
        body["fhirServer"] = stub.base_url
        del body["prefetch"]["conditions"]
        open_settings = dataclasses.replace(settings, allow_open_fhir_server=True)
        result = run_pipeline(SERVICES["crs-patient-view"], body, settings=open_settings,
                              rules=load_rules(), now=datetime.fromisoformat(NOW))
        assert any("/Condition" in r.path for r in stub.requests)
    mas = next(a for a in result.assessments if a["criteria"] == "mas-sjia-2016")
    assert mas["met"] is True
