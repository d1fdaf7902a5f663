"""Rule data: every constant has a source and a confidence tag (clinical-criteria.md §0)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from criteria.rules import CONFIDENCES, RuleSet, load_rules


def test_every_constant_names_its_source_and_confidence(rules: RuleSet) -> None:
    for name in rules.names():
        const = rules.constant(name)
        assert const.source, name
        assert const.label, name
        assert const.confidence in CONFIDENCES, name


def test_typed_access(rules: RuleSet) -> None:
    assert rules.decimal("oxygen.low_flow_max") == Decimal("6.0")
    assert rules.integer("tocilizumab.max_per_episode") == 4
    assert rules.duration("episode.close_after") == timedelta(hours=72)
    assert rules.flag("screening.everyone") is False
    assert rules.strings("drugs.given_statuses") == ("completed", "in-progress")
    assert rules.table("oxygen.tiers")["cpap"] == 4


def test_defaults_table_windows_live_in_the_rules(rules: RuleSet) -> None:
    # §0 Defaults
    assert rules.duration("screening.car_t_window") == timedelta(days=30)
    assert rules.duration("screening.bispecific_window") == timedelta(days=14)
    assert rules.duration("astct.temperature_window") == timedelta(hours=24)
    assert rules.duration("oxygen.max_age") == timedelta(hours=12)
    assert rules.duration("vasopressors.entry_gap_max") == timedelta(hours=2)
    assert rules.duration("vasopressors.concurrent_min_overlap") == timedelta(minutes=60)
    assert rules.duration("weight.max_age") == timedelta(days=7)
    assert rules.duration("tocilizumab.window") == timedelta(hours=24)


def test_recalled_constants_are_worded_as_unconfirmed(rules: RuleSet) -> None:
    # §0: an [R] value that affects a result says "unconfirmed threshold"
    assert rules.confidence("lee.high_dose_sustained") == "R"
    assert rules.note("lee.high_dose_sustained").startswith("unconfirmed threshold:")
    assert rules.note("episode.close_after").startswith("assumption:")


def test_overrides_are_typed_and_change_the_version() -> None:
    default = load_rules()
    site = load_rules({"episode.close_after": 48, "oxygen.low_flow_max": "5.5",
                       "drugs.given_statuses": "completed"})
    assert site.duration("episode.close_after") == timedelta(hours=48)
    assert site.decimal("oxygen.low_flow_max") == Decimal("5.5")
    assert site.strings("drugs.given_statuses") == ("completed",)
    assert site.constant("episode.close_after").overridden is True
    assert site.version != default.version
    assert load_rules().version == default.version


@pytest.mark.parametrize(("key", "value"), [
    ("astct.fever_min", "hot"), ("astct.fever_min", True), ("tocilizumab.max_per_episode", 4.5),
    ("screening.everyone", "maybe"), ("episode.close_after", -1),
    ("oxygen.tiers", {"warp-drive": 9}), ("oxygen.tiers", {"cpap": "4"}),
    ("drugs.given_statuses", 3),
])
def test_ill_typed_override_is_refused_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        load_rules({key: value})


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ValueError, match="astct.fever_max"):
        load_rules({"astct.fever_max": 40})


def test_wrong_accessor_and_unknown_name(rules: RuleSet) -> None:
    with pytest.raises(TypeError):
        rules.integer("astct.fever_min")
    with pytest.raises(KeyError):
        rules.decimal("no.such.rule")
