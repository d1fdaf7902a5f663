"""CRS episode, masking by treatment and the episode view (clinical-criteria.md §1.1 item 2, §0)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from criteria.crs import assess_crs
from criteria.model import DrugClass, OxygenModality, PatientTimeline
from criteria.report import NOT_CRS
from criteria.rules import RuleSet
from tests.unit.criteria.builders import Patient, day, hours, minutes

ONSET = day(2, 8)


def onset_fever() -> Patient:
    return Patient().car_t().temp(ONSET, "38.9").bp(ONSET, 120)


def test_section_1_1_example_2_fever_masked_then_episode_closed(rules: RuleSet) -> None:
    # §1.1 example 2: Day 2 T 38.9 (onset), acetaminophen 1 h later; day 3 afebrile 26 h with
    # norepinephrine -> 3 "fever masked"; NE stops day 4 noon; day 9 new NE -> 0 (closed day 7 noon)
    patient = (onset_fever().acetaminophen(ONSET + hours(1))
               .temp(day(3, 6), "37.2").infusion("norepinephrine", day(3, 9), end=day(4, 12))
               .temp(day(9, 6), "37.0").o2(day(9, 9), OxygenModality.ROOM_AIR))
    day3 = assess_crs(patient.build(), day(3, 10), rules)
    assert day3.astct.grade == 3
    assert day3.astct.met is True
    assert day3.episode is not None
    assert day3.episode.masked_by is not None
    assert day3.episode.masked_by.ingredient == "acetaminophen"
    assert "fever masked by acetaminophen at 2025-03-05T09:00:00Z" in day3.astct.extra["flags"]
    assert any("episode.close_after" in a for a in day3.astct.assumptions)

    day9 = assess_crs(patient.infusion("norepinephrine", day(9, 8)).build(), day(9, 10), rules)
    assert day9.astct.grade == 0
    assert day9.astct.met is False
    assert day9.episode is None
    assert NOT_CRS in day9.astct.extra["flags"]
    assert "CRS episode closed at 2025-03-10T12:00:00Z" in day9.astct.extra["flags"]


def test_premedication_before_onset_never_masks_fever(rules: RuleSet) -> None:
    # §1.1 item 2: premedication or prophylaxis given before onset never sets masking
    timeline = (onset_fever().acetaminophen(ONSET - hours(1)).temp(day(3, 6), "37.2")
                .infusion("norepinephrine", day(3, 9)).build())
    result = assess_crs(timeline, day(3, 10), rules)
    assert (result.astct.met, result.astct.grade) == (False, 0)


def test_treatment_at_the_onset_minute_does_not_mask_one_minute_later_does(rules: RuleSet) -> None:
    # §1.1 item 2: "starting after onset", strictly
    def graded(given_at: datetime) -> int | None:
        timeline = (onset_fever().drug(DrugClass.CORTICOSTEROID, "dexamethasone", given_at)
                    .temp(day(3, 6), "37.2").infusion("norepinephrine", day(3, 9)).build())
        return assess_crs(timeline, day(3, 10), rules).astct.grade
    assert graded(ONSET) == 0
    assert graded(ONSET + minutes(1)) == 3


def test_masked_with_no_hypotension_or_hypoxia_is_no_active_crs(rules: RuleSet) -> None:
    # §1.1 item 2: masked, no hypotension or hypoxia -> "no active CRS" (0), not grade 1
    timeline = (onset_fever().tocilizumab(ONSET + hours(2)).temp(day(3, 9), "37.1")
                .o2(day(3, 9), OxygenModality.ROOM_AIR).build())
    result = assess_crs(timeline, day(3, 10), rules)
    assert (result.astct.met, result.astct.grade) == (False, 0)
    assert "no active CRS" in result.astct.extra["flags"]


def test_masked_and_no_temperature_is_still_graded_by_hypoxia(rules: RuleSet) -> None:
    # §1.1 item 2: once treated, hypotension and hypoxia drive the grade
    timeline = (onset_fever().drug(DrugClass.ANAKINRA, "anakinra", ONSET + hours(3))
                .o2(day(3, 9), OxygenModality.LOW_FLOW_CANNULA, "3").build())
    result = assess_crs(timeline, day(3, 10), rules)
    assert (result.astct.met, result.astct.grade) == (True, 2)


def test_episode_closes_72_h_after_the_last_activity(rules: RuleSet) -> None:
    # §0 Defaults: episode runs to 72 h after the last fever, hypotension or counted O2
    def graded(pressor_start: datetime) -> int | None:
        timeline = (onset_fever().acetaminophen(ONSET + hours(1)).temp(day(5, 6), "37.0")
                    .infusion("norepinephrine", pressor_start).build())
        return assess_crs(timeline, day(5, 9), rules).astct.grade
    assert graded(ONSET + hours(72)) == 3
    assert graded(ONSET + hours(72) + minutes(1)) == 0


def test_a_fever_after_closure_opens_a_new_episode_with_nothing_carried_over(
        rules: RuleSet) -> None:
    # §1.1 item 2: a fever after an episode closes opens a new one; nothing carries over
    timeline = (onset_fever().tocilizumab(ONSET + hours(1)).temp(day(6, 8), "38.4")
                .temp(day(7, 9), "37.3").infusion("norepinephrine", day(7, 9)).build())
    result = assess_crs(timeline, day(7, 10), rules)
    assert result.episode is not None
    assert result.episode.onset == day(6, 8)
    assert result.episode.masked_by is None
    # afebrile for 26 h; the tocilizumab of the first episode does not mask this one
    assert (result.astct.met, result.astct.grade) == (False, 0)


def test_episode_view_onset_peak_current_trend_and_day(rules: RuleSet) -> None:
    # Issue 4 episode view: onset, peak grade, current grade, trend, day +N
    timeline = (onset_fever().acetaminophen(ONSET + hours(1))
                .infusion("norepinephrine", ONSET + hours(2), end=ONSET + hours(12))
                .temp(day(3, 5), "37.4").o2(day(3, 5), OxygenModality.ROOM_AIR).build())
    result = assess_crs(timeline, day(3, 6), rules)
    episode = result.episode
    assert episode is not None
    assert (episode.onset, episode.peak_grade, episode.current_grade) == (ONSET, 3, 1)
    assert episode.trend == "resolving"
    assert episode.day_post_index == 3
    assert result.astct.peak_grade == 3
    assert result.astct.to_json()["episode"]["dayPostIndex"] == 3


def test_rising_grade(rules: RuleSet) -> None:
    # Issue 4 episode view: trend compares the current grade with the grade 12 h ago
    timeline = onset_fever().o2(ONSET + hours(5), OxygenModality.FACEMASK).build()
    result = assess_crs(timeline, ONSET + hours(6), rules)
    assert result.episode is not None
    assert result.episode.trend == "rising"


def test_stable_grade(rules: RuleSet) -> None:
    timeline = onset_fever().temp(ONSET + hours(13), "38.2").build()
    result = assess_crs(timeline, ONSET + hours(14), rules)
    assert result.episode is not None
    assert result.episode.trend == "stable"


def _masked_course(route: str | None) -> PatientTimeline:
    """Onset fever, a corticosteroid by some route 1 h later, afebrile hypotension on day 3."""
    patient = onset_fever().drug(DrugClass.CORTICOSTEROID, "hydrocortisone", ONSET + hours(1))
    patient.drugs[-1] = replace(patient.drugs[-1], route=route)
    return (patient.temp(day(3, 6), "37.2").bp(day(3, 9), 82).bp(day(3, 9, 30), 80)
            .infusion("norepinephrine", day(3, 9)).build())


@pytest.mark.parametrize("route", ["topical", "ophthalmic", "otic", "inhaled", "nasal"])
def test_a_non_systemic_steroid_never_masks_fever(rules: RuleSet, route: str) -> None:
    # §1.1 item 2: masking needs "a systemic corticosteroid" (antipyretics and anti-cytokine
    # drugs by any systemic route); a cream, eye or ear drops, an inhaler or a nasal spray does
    # not (astct.masking_excluded_routes). Review A5, repro r04.
    result = assess_crs(_masked_course(route), day(3, 10), rules)
    assert (result.astct.met, result.astct.grade) == (False, 0)
    assert NOT_CRS in result.astct.extra["flags"]


@pytest.mark.parametrize("route", ["systemic", None])
def test_a_systemic_or_route_unknown_steroid_masks_fever(rules: RuleSet,
                                                         route: str | None) -> None:
    # §1.1 item 2; an unknown route counts (most MAR entries carry none; assumption)
    result = assess_crs(_masked_course(route), day(3, 10), rules)
    assert (result.astct.met, result.astct.grade) == (True, 3)
    assert result.episode is not None
    assert result.episode.masked_by is not None
