"""CRS episodes: from the first fever after the index dose to 72 h after the last activity."""

# Source: project definition (assumption) of ASTCT's "once CRS has been treated"
#   (Lee DW et al., BBMT 2019, doi:10.1016/j.bbmt.2018.12.758; NCCN CART-6 wording)
# Table: clinical-criteria.md §0 Defaults (CRS episode), §1.1 item 2 (masking)
# Confidence: assumption (onset, 72 h close, masking agents given after onset only, an unknown
#   route counts as systemic); V (systemic drugs only: "a systemic corticosteroid")
# Codes: masking agents by DrugClass (tocilizumab, siltuximab, anakinra, corticosteroid,
#   antipyretic; §4.4), classified by fhir_mappers

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from criteria.common import given, in_window
from criteria.hypotension import assess_hypotension
from criteria.model import DrugClass, DrugExposure, Measurement, PatientTimeline
from criteria.oxygen import counted_o2_times
from criteria.rules import RuleSet
from criteria.vasopressors import infusions


@dataclass(frozen=True)
class EpisodeSpan:
    """One CRS episode: onset fever, last activity and the close time it implies."""

    onset: datetime
    onset_reading: Measurement
    last_activity: datetime
    close: datetime  # last activity + episode.close_after; in the future while open

    def is_open(self, now: datetime) -> bool:
        """Return whether the episode is still open at a time."""
        return self.onset <= now <= self.close


def activity(timeline: PatientTimeline, start: datetime, now: datetime, rules: RuleSet,
             treatment_start: datetime | None) -> list[tuple[datetime, datetime]]:
    """Return spans of hypotension, vasopressor infusion and counted O2 after start."""
    spans = [(e.reading.time, e.reading.time)
             for e in assess_hypotension(timeline, start, now, rules).events]
    for infusion in infusions(timeline, now, rules,
                              (DrugClass.VASOPRESSOR, DrugClass.VASOPRESSIN_CLASS)):
        end = now if infusion.running else infusion.last_seen
        if end >= start:
            spans.append((infusion.start, end))
    spans += [(t, t) for t in counted_o2_times(timeline, start, now, rules, treatment_start)]
    return spans


def find_episodes(timeline: PatientTimeline, start: datetime, now: datetime, rules: RuleSet,
                  treatment_start: datetime | None) -> list[EpisodeSpan]:
    """Return the CRS episodes opened by fevers after start, oldest first."""
    fever_min = rules.decimal("astct.fever_min")
    fevers = [m for m in in_window(timeline.series("temperature"), start, now)
              if m.value >= fever_min and m.time > start]
    spans = activity(timeline, start, now, rules, treatment_start)
    spans += [(m.time, m.time) for m in fevers]
    close_after = rules.duration("episode.close_after")
    episodes: list[EpisodeSpan] = []
    for fever in fevers:
        if episodes and fever.time <= episodes[-1].close:
            continue
        last = fever.time
        grown = True
        while grown:
            grown = False
            for begin, end in spans:
                if end > last and begin <= last + close_after and end >= fever.time:
                    last, grown = end, True
        episodes.append(EpisodeSpan(fever.time, fever, last, last + close_after))
    return episodes


def masking_drug(timeline: PatientTimeline, episode: EpisodeSpan, at: datetime,
                 rules: RuleSet) -> DrugExposure | None:
    """Return the first CRS treatment given after onset, within the episode, up to a time.

    Only a systemic drug masks fever (CC §1.1 item 2, "a systemic corticosteroid"): a route in
    ``astct.masking_excluded_routes`` (topical, ophthalmic, ...) never does. An unknown route
    (None) counts, since most MAR entries carry none; fhir_mappers sets the route when the
    product or text shows a local form (cream, eye drops, inhaler, ...).
    """
    classes = {DrugClass(c) for c in rules.strings("astct.masking_classes")}
    local = set(rules.strings("astct.masking_excluded_routes"))
    found = [d for d in timeline.drugs
             if d.drug_class in classes and given(d, rules) and d.route not in local
             and episode.onset < d.start <= min(at, episode.close)]
    return min(found, key=lambda d: d.start) if found else None
