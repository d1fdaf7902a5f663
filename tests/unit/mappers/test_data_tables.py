"""Code tables: provenance on every entry, valid targets, the tocilizumab build check."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from criteria.model import CANONICAL_UNITS, DrugClass
from fhir_mappers.codes import (
    RXNORM,
    condition_concepts,
    drug_ingredient,
    observation_kind,
    tables,
)
from fhir_mappers.oxygen import _FIXED
from fhir_mappers.units import TABLE

TAGS = {"V", "V2", "R"}


def _data(name: str) -> Any:
    return json.loads(resources.files("fhir_mappers.data").joinpath(name).read_text("utf-8"))


def test_loinc_kinds_have_source_tags_and_units() -> None:
    data = _data("loinc.json")
    for kind, entry in data["kinds"].items():
        assert kind in CANONICAL_UNITS
        assert kind in TABLE
        assert entry["source"]
        assert set(entry["codes"].values()) <= TAGS
    for entry in data["special"].values():
        assert entry["source"]
        assert set(entry["codes"].values()) <= TAGS


def test_no_code_in_two_kinds() -> None:
    seen: dict[str, str] = {}
    for group in ("kinds", "special"):
        for kind, entry in _data("loinc.json")[group].items():
            for code in entry["codes"]:
                assert code not in seen, (code, seen.get(code), kind)
                seen[code] = kind
    assert "1863-0" not in seen  # anion gap 4 includes potassium (§4.3)


def test_drug_entries_have_source_confidence_and_known_class() -> None:
    for entry in _data("drugs.json")["ingredients"].values():
        assert entry["source"]
        assert entry["confidence"] in TAGS
        DrugClass(entry["class"])
        assert set(entry.get("rxcui", {}).values()) | set(entry["products"].values()) <= TAGS


def test_device_classes_are_known() -> None:
    data = _data("oxygen_devices.json")
    known = set(_FIXED) | {"nasal-cannula", "high-flow-cannula", "room-air"}
    assert {e["class"] for e in data["snomed"].values()} <= known
    assert set(data["names"]["entries"].values()) <= known
    assert all(e["confidence"] in TAGS for e in data["snomed"].values())


def test_every_tocilizumab_code_and_name_maps_to_tocilizumab() -> None:
    """§4.4 rule 3: originator and biosimilars all count toward the §3.1 limits."""
    entry = _data("drugs.json")["ingredients"]["tocilizumab"]
    for code in [*entry["rxcui"], *entry["products"]]:
        found = drug_ingredient({"coding": [{"system": RXNORM, "code": code}]})
        assert found is not None
        assert found.target == "tocilizumab"
    for text in ["Actemra", "RoActemra 20 mg/mL", "TOFIDENCE", "Tyenne", "Avtozma",
                 "tocilizumab-bavi", "tocilizumab-aazg 162 mg", "tocilizumab-anoh"]:
        found = drug_ingredient({"text": text})
        assert found is not None
        assert (found.target, found.by_text) == ("tocilizumab", True)


@pytest.mark.parametrize(
    ("text", "ingredient"),
    [
        ("teclistamab-cqyv 153 mg SC", "teclistamab"),
        ("EPKINLY (epcoritamab-bysp)", "epcoritamab"),
        ("tisagenlecleucel (Kymriah) IV", "tisagenlecleucel"),
        ("Cilta-cel infusion", "ciltacabtagene autoleucel"),
        ("Levophed 16 mg/250 mL", "norepinephrine"),
        ("Solu-Medrol 1 g", "methylprednisolone"),
        ("Giapreza", "angiotensin ii"),
    ],
)
def test_name_matching(text: str, ingredient: str) -> None:
    found = drug_ingredient({"text": text})
    assert found is not None
    assert found.target == ingredient


def test_names_match_whole_words_only() -> None:
    assert drug_ingredient({"text": "dopaminergic agent"}) is None
    assert observation_kind({"text": "CRP interpretation comment"}) is None


def test_condition_codes_and_text() -> None:
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    assert condition_concepts({"coding": [{"system": icd, "code": "M08.29"}]}) == ({"sjia"}, False)
    assert condition_concepts({"coding": [{"system": icd, "code": "M08.3"}]}) == (set(), True)
    assert condition_concepts({"text": "Graft-versus-host disease"}) == ({"gvhd"}, True)


def test_tables_are_cached() -> None:
    assert tables() is tables()


def test_route_table_has_sources_and_known_categories() -> None:
    from fhir_mappers.routes import ROUTES

    data = _data("routes.json")
    for group in ("snomed", "route_text", "drug_text"):
        assert data[group]["source"]
    assert {e["route"] for e in data["snomed"]["codes"].values()} <= set(ROUTES)
    assert set(data["route_text"]["entries"].values()) <= set(ROUTES)
    assert set(data["drug_text"]["entries"].values()) <= set(ROUTES)


def test_fluid_boluses_are_name_only_and_flagged_by_text() -> None:
    drugs = _data("drugs.json")["ingredients"]
    fluids = {i for i, e in drugs.items() if e["class"] == DrugClass.FLUID_BOLUS.value}
    assert {"sodium chloride 0.9%", "lactated ringer's", "plasma-lyte", "albumin"} <= fluids
    for name in fluids:
        assert not drugs[name]["products"]
        assert not drugs[name].get("rxcui")
