"""Tocilizumab for CRS: weight-based dose and the repeat limits (8 h, 3 per 24 h, 4 per episode)."""

# Source: Actemra label (CAR-T CRS, age >= 2 y) [R wording]; Kymriah 2018 label [V];
#   NCCN Management of CAR T-cell-related toxicities CART-6/9 [V2]
# Table: clinical-criteria.md §3.1 (dose, cap, repeat, counted doses), §0 Defaults (Dosing
#   weight, Tocilizumab limits)
# Confidence: V (12 mg/kg <30 kg, 800 mg cap, 8 h, 4 total); V2 (8 mg/kg, 3 per 24 h);
#   R (no labelled dose under 2 y; bispecific 8 mg/kg override); assumption (no episode open)
# Codes: tocilizumab RxCUI 612865 and products §4.4 (classified by fhir_mappers)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from criteria.common import dosing_weight, given, require_aware, say_duration, say_number
from criteria.model import DrugClass, DrugExposure, DrugSource, Measurement, PatientTimeline
from criteria.rules import RuleSet
from criteria.screening import iec_doses


@dataclass(frozen=True)
class TocilizumabCheck:
    """Whether a tocilizumab dose may be given now, the dose, and why not."""

    allowed: bool
    dose_mg: Decimal | None
    mg_per_kg: Decimal | None
    weight: Measurement | None
    blocks: tuple[str, ...]
    flags: tuple[str, ...]
    prior_doses: tuple[DrugExposure, ...]
    counted_24h: int
    counted_episode: int
    capped: bool
    assumptions: tuple[str, ...] = ()
    limit_blocks: tuple[str, ...] = ()  # the repeat limits only (8 h, 24 h window, episode)


def counted_doses(timeline: PatientTimeline, now: datetime,
                  rules: RuleSet) -> tuple[DrugExposure, ...]:
    """Return prior tocilizumab doses: given administrations, and signed orders not yet charted."""
    drugs = [d for d in timeline.drugs_of(DrugClass.TOCILIZUMAB) if d.start <= now]
    given_doses = [d for d in drugs if given(d, rules)]
    charted = {d.request_reference for d in given_doses if d.request_reference}
    orders = [d for d in drugs if d.source is DrugSource.ORDER
              and d.status in rules.strings("tocilizumab.order_statuses")
              and d.reference not in charted]
    return tuple(sorted(given_doses + orders, key=lambda d: d.start))


def _dose(timeline: PatientTimeline, now: datetime, rules: RuleSet,
          weight: Measurement) -> tuple[Decimal, Decimal, bool, list[str]]:
    """Return dose (mg), mg/kg, capped, and the rule keys that applied."""
    keys: list[str] = []
    light = weight.value < rules.decimal("tocilizumab.weight_split")
    per_kg = rules.decimal("tocilizumab.mg_per_kg_light" if light else "tocilizumab.mg_per_kg")
    doses = iec_doses(timeline, now, rules)
    if light and doses and doses[-1].drug_class is DrugClass.BISPECIFIC and rules.flag(
            "tocilizumab.bispecific_8mg_light"):
        per_kg = rules.decimal("tocilizumab.mg_per_kg")
        keys.append("tocilizumab.bispecific_8mg_light")
    dose = per_kg * weight.value
    cap = rules.decimal("tocilizumab.cap")
    return min(dose, cap), per_kg, dose > cap, keys


def check_tocilizumab(timeline: PatientTimeline, now: datetime, rules: RuleSet,
                      episode_onset: datetime | None) -> TocilizumabCheck:
    """Return whether a tocilizumab dose is allowed now, with the dose and plain-language blocks."""
    require_aware(now)
    blocks: list[str] = []
    flags: list[str] = []
    keys: list[str] = []
    age = timeline.age_years(now)
    too_young = age is not None and age < rules.integer("tocilizumab.min_age")
    if too_young:
        blocks.append(f"no labelled tocilizumab dose under {rules.integer('tocilizumab.min_age')}"
                      " years")
        keys.append("tocilizumab.min_age")
    elif age is None:
        flags.append("birth date missing: age limit (2 years) not checked")
    weight, weight_flag = dosing_weight(timeline, now, rules)
    dose = per_kg = None
    capped = False
    if weight_flag:
        flags.append(weight_flag)
        keys.append("weight.max_age")
    if weight is None:
        blocks.append(f"weight missing (none in the last "
                      f"{rules.constant('weight.flagged_max_age').shown()}); no dose")
    elif not too_young:
        dose, per_kg, capped, dose_keys = _dose(timeline, now, rules, weight)
        keys += dose_keys
        if capped:
            flags.append(f"{say_number(per_kg * weight.value)} mg capped at "
                         f"{say_number(rules.decimal('tocilizumab.cap'))} mg")
    prior = counted_doses(timeline, now, rules)
    before_limits = len(blocks)
    if prior and now - prior[-1].start < rules.duration("tocilizumab.min_interval"):
        need = rules.constant("tocilizumab.min_interval").shown()
        blocks.append(f"last dose {say_duration(now - prior[-1].start)} ago; at least {need} "
                      "required")
    window = rules.duration("tocilizumab.window")
    in_window = sum(1 for d in prior if now - window <= d.start <= now)
    most = rules.integer("tocilizumab.max_in_window")
    if in_window >= most:
        span = rules.constant("tocilizumab.window").shown()
        blocks.append(f"{in_window} doses in the last {span} (closed window); at most {most}")
    since = episode_onset
    if since is None:
        doses = iec_doses(timeline, now, rules)
        since = doses[-1].start if doses else None
        flags.append("no CRS episode open: doses counted from the index dose" if since
                     else "no CRS episode open and no index dose: all doses counted")
        keys.append("tocilizumab.max_per_episode")
    in_episode = sum(1 for d in prior if since is None or d.start >= since)
    limit_key = "tocilizumab.max_per_episode"
    if rules.flag("tocilizumab.shortage_mode"):
        limit_key = "tocilizumab.shortage_max_per_episode"
        keys.append("tocilizumab.shortage_mode")
        flags.append("shortage mode: consider siltuximab or anakinra for the next dose")
    per_episode = rules.integer(limit_key)
    if in_episode >= per_episode:
        blocks.append(f"{in_episode} doses in this CRS episode; at most {per_episode}")
    elif in_episode == per_episode - 1 and not blocks:
        flags.append(f"this would be dose {per_episode} of {per_episode}, the last in this episode")
    notes = [rules.note(k) for k in dict.fromkeys(keys)]
    if episode_onset is None:
        notes.append("assumption: with no CRS episode open, doses are counted from the index "
                     "dose (clinical-criteria.md §3.1)")
    return TocilizumabCheck(not blocks and dose is not None, dose, per_kg, weight, tuple(blocks),
                            tuple(flags), prior, in_window, in_episode, capped, tuple(notes),
                            tuple(blocks[before_limits:]))
