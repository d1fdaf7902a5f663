"""Vasopressor infusions: which run now, which count, and the ASTCT hypotension tier they set."""

# Source: Lee DW et al., BBMT 2019;25:625-638, doi:10.1016/j.bbmt.2018.12.758 (ASTCT CRS)
# Table: ASTCT CRS grading, hypotension column; clinical-criteria.md §1.1 item 6, §0 Defaults
# Confidence: V (grade wording: one vasopressor 3, multiple excluding vasopressin 4);
#   assumption (agent lists, 2 h entry gap, 2 h running age, 60 min overlap, vasopressin alone,
#   open period running, 72 h open-period maximum age)
# Codes: RxNorm norepinephrine 7512, epinephrine 3992, dopamine 3628, phenylephrine 8163,
#   vasopressin 11149, dobutamine 3616, milrinone 52769 (classified by fhir_mappers, §4.4)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from criteria.common import given
from criteria.model import DrugClass, DrugExposure, PatientTimeline
from criteria.rules import RuleSet

PRESSOR_CLASSES = (DrugClass.VASOPRESSOR, DrugClass.VASOPRESSIN_CLASS, DrugClass.INOTROPE,
                   DrugClass.OTHER_PRESSOR)
CHANGEOVER = "vasopressor changeover; grade 4 if both continue 60 min"


@dataclass(frozen=True)
class Infusion:
    """One continuous infusion of one agent: rate entries no further apart than the gap."""

    ingredient: str
    drug_class: DrugClass
    start: datetime
    last_seen: datetime  # latest entry, period end, or now while an open period runs
    running: bool
    open_period: bool  # running because an in-progress period has no end
    entries: tuple[DrugExposure, ...]
    stale_open: bool = False  # an open period past vasopressors.open_period_max_age ended it

    @property
    def latest(self) -> DrugExposure:
        """Return the latest rate entry."""
        return self.entries[-1]

    def overlap(self, other: Infusion, now: datetime) -> timedelta:
        """Return how long two infusions have run together up to now."""
        end = min(now if self.running else self.last_seen,
                  now if other.running else other.last_seen)
        return max(end - max(self.start, other.start), timedelta(0))


@dataclass(frozen=True)
class PressorFinding:
    """The running infusions and the ASTCT hypotension tier they set."""

    counted: tuple[Infusion, ...]  # running vasopressors, one per agent
    vasopressin_class: tuple[Infusion, ...]
    shown_only: tuple[Infusion, ...]  # inotropes and other agents: never counted
    boluses: tuple[DrugExposure, ...]  # non-continuous doses in the window: shown only
    concurrent: bool
    changeover: bool
    tier: int
    rule_keys: tuple[str, ...]  # constants that decided the tier
    stale: tuple[Infusion, ...] = ()  # open periods no longer counted as running (max age)


@dataclass(frozen=True)
class _Seen:
    """When one entry was last known to run, and how that is known."""

    time: datetime
    open_period: bool  # an in-progress period with no end (or an end after now) runs now
    ended: bool  # an explicit end, or an open period past its maximum age: not running


def _entry_end(entry: DrugExposure, now: datetime, rules: RuleSet) -> _Seen:
    """Return when an entry was last known to run (CC §0 Defaults, §1.1 item 6).

    An explicit end wins. An in-progress entry timed by an open effectivePeriod runs until now
    (``vasopressors.open_period_is_running``), for at most ``vasopressors.open_period_max_age``
    without a newer entry. Any other entry (an ``effectiveDateTime``) is a point in time: it
    runs while it is at most ``vasopressors.running_max_age`` old.
    """
    if entry.end is not None:
        return _Seen(min(entry.end, now), entry.end > now, entry.end <= now)
    if entry.status == "in-progress" and entry.period_open and \
            rules.flag("vasopressors.open_period_is_running"):
        cap = entry.start + rules.duration("vasopressors.open_period_max_age")
        return _Seen(now, True, False) if now <= cap else _Seen(cap, False, True)
    return _Seen(entry.start, False, False)


def _stale(entry: DrugExposure, seen: _Seen) -> bool:
    return entry.end is None and seen.ended


def infusions(timeline: PatientTimeline, now: datetime, rules: RuleSet,
              classes: tuple[DrugClass, ...] = PRESSOR_CLASSES) -> list[Infusion]:
    """Return every infusion of the given classes up to now, chained per agent."""
    gap = rules.duration("vasopressors.entry_gap_max")
    entries = sorted((d for d in timeline.drugs_of(*classes)
                      if d.is_continuous and given(d, rules) and d.start <= now),
                     key=lambda d: (d.ingredient, d.start))
    chains: list[list[DrugExposure]] = []
    reach = now  # latest time the current chain was seen running
    for entry in entries:
        current = chains[-1] if chains else None
        ends = _entry_end(entry, now, rules).time
        if current and current[0].ingredient == entry.ingredient and entry.start - reach <= gap:
            current.append(entry)
            reach = max(reach, ends)
        else:
            chains.append([entry])
            reach = ends
    out = []
    max_age = rules.duration("vasopressors.running_max_age")
    for chain in chains:
        last, entry = max(((_entry_end(e, now, rules), e) for e in chain),
                          key=lambda pair: pair[0].time)
        running = last.open_period or (not last.ended and now - last.time <= max_age)
        out.append(Infusion(chain[0].ingredient, chain[0].drug_class, chain[0].start,
                            last.time, running, last.open_period and running, tuple(chain),
                            _stale(entry, last)))
    return sorted(out, key=lambda i: i.start)


def _one_per_agent(running: list[Infusion]) -> tuple[Infusion, ...]:
    by_agent: dict[str, Infusion] = {}
    for infusion in running:
        if infusion.ingredient not in by_agent:  # sorted by start: keep the earliest
            by_agent[infusion.ingredient] = infusion
    return tuple(by_agent.values())


def assess_pressors(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                    chains: list[Infusion] | None = None) -> PressorFinding:
    """Return the running infusions and the ASTCT hypotension tier from vasopressors.

    ``chains`` are the infusions at ``now`` when the caller already has them.
    """
    if chains is None:
        chains = infusions(timeline, now, rules)
    running = [i for i in chains if i.running]
    window = rules.duration("astct.temperature_window")
    counted = _one_per_agent([i for i in running if i.drug_class is DrugClass.VASOPRESSOR])
    vasopressin = _one_per_agent([i for i in running
                                  if i.drug_class is DrugClass.VASOPRESSIN_CLASS])
    shown = _one_per_agent([i for i in running if i.drug_class in
                            (DrugClass.INOTROPE, DrugClass.OTHER_PRESSOR)])
    boluses = tuple(d for d in timeline.drugs_of(*PRESSOR_CLASSES)
                    if not d.is_continuous and given(d, rules) and now - window <= d.start <= now)
    keys: list[str] = []
    if any(i.open_period for i in counted + vasopressin):
        keys.append("vasopressors.open_period_is_running")
    stale = tuple(i for i in chains if i.stale_open and not i.running and i.drug_class in
                  (DrugClass.VASOPRESSOR, DrugClass.VASOPRESSIN_CLASS))
    if stale:
        keys.append("vasopressors.open_period_max_age")
    min_overlap = rules.duration("vasopressors.concurrent_min_overlap")
    concurrent = any(a.overlap(b, now) >= min_overlap
                     for n, a in enumerate(counted) for b in counted[n + 1:])
    changeover = len(counted) >= 2 and not concurrent
    if len(counted) >= 2:
        keys.append("vasopressors.concurrent_min_overlap")
        tier = 4 if concurrent else 3
    elif counted:
        tier = 3
    elif vasopressin:
        tier = rules.integer("astct.vasopressin_alone_tier")
        keys.append("astct.vasopressin_alone_tier")
    elif shown:
        tier = rules.integer("astct.inotrope_alone_tier")
        keys.append("astct.inotrope_alone_tier")
    else:
        tier = 0
    return PressorFinding(counted, vasopressin, shown, boluses, concurrent, changeover, tier,
                          tuple(keys), stale)
