"""Summary and detail (GitHub-Flavored Markdown, no raw HTML) of the order-sign cards."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Mapping

from cards import content, order_content
from cards.detail import evidence_table, note_line
from cards.view import md
from criteria.assessment import Evidence
from criteria.order_checks import OrderCheck
from criteria.preinfusion import LAB_NAMES, RANK, CheckResult

MAX_SUMMARY = 139
_MAX_NAME = 32
_UNITS = {"10*9/L": "×10⁹/L"}


def order_name(check: OrderCheck) -> str:
    """Return the product as shown: the order's display when short, else the ingredient."""
    product = check.order.product
    return product if product and len(product) <= _MAX_NAME else check.order.ingredient


def attention(check: OrderCheck) -> list[CheckResult]:
    """Return the checks that need attention, most severe first."""
    found = [r for r in check.results if RANK[r.status] >= RANK["unknown"]]
    return sorted(found, key=lambda r: -RANK[r.status])


def _head(check: OrderCheck, name: str) -> str:
    what = order_content.card_spec(check.criteria)["what"]
    if check.criteria == "tocilizumab-order":
        return "Tocilizumab order"
    worst = check.worst
    if worst == "critical":
        return f"Delay {name} {what}"
    if RANK[worst] >= RANK["unknown"]:
        return f"Before {name} {what}"
    return f"{name[0].upper()}{name[1:]} {what}: pre-infusion checks passed"


def _fits(text: str) -> str | None:
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= MAX_SUMMARY else None


def build_summary(check: OrderCheck) -> str:
    """Return a one-sentence summary of at most 139 characters, built to fit."""
    shorts = [r.short for r in attention(check) if r.short]
    for name in (order_name(check), check.order.ingredient):
        head = _head(check, name)
        for count in range(len(shorts), 0, -1):
            more = len(shorts) - count
            tail = f"; +{more} more" if more else ""
            found = _fits(f"{head}: {'; '.join(shorts[:count])}{tail}")
            if found:
                return found
        if not shorts and _fits(head):
            return head
    found = _fits(f"{_head(check, check.order.ingredient)}: {len(shorts)} checks need attention")
    if found:
        return found
    raise ValueError("order summary does not fit in 139 characters")


def _row(r: CheckResult) -> str:
    status = order_content.status_label(r.status)
    if RANK[r.status] >= RANK["fail"]:
        status = f"**{status}**"
    return f"| {md(order_content.check_label(r.check))} | {status} | {md(r.finding)} |"


def _evidence(check: OrderCheck) -> list[Evidence]:
    seen: dict[tuple[str, str], Evidence] = {}
    for r in check.results:
        for e in r.evidence:
            shown = dataclasses.replace(e, item=LAB_NAMES.get(e.item, e.item),
                                        unit=_UNITS.get(e.unit or "", e.unit))
            seen.setdefault((e.item, e.reference), shown)
    return sorted(seen.values(), key=lambda e: e.time)


def _gaps(check: OrderCheck, unavailable: Mapping[str, str]) -> list[str]:
    missing = dict.fromkeys(m for r in check.results for m in r.missing)
    notes = dict.fromkeys(a for r in check.results for a in r.assumptions)
    lines = [f"- Missing: {md(m)}" for m in missing]
    lines += [f"- Unavailable: {md(key)} ({md(why)})" for key, why in sorted(unavailable.items())]
    lines += [note_line(n) if not n.startswith("flag: ") else f"- Flag: {md(n[6:])}"
              for n in notes]
    return lines


def _reminders(check: OrderCheck) -> Iterable[str]:
    checks = {r.check for r in check.results}
    if check.criteria == "cart-preinfusion":
        yield from (order_content.point(k) for k in ("boxedWarning", "delay", "labelItems"))
    if check.criteria == "bispecific-preinfusion":
        yield order_content.point("bispecificActions")
    if "tocilizumab-readiness" in checks:
        yield order_content.point("readiness")
    if "easix" in checks:
        yield order_content.point("easix")
    if check.criteria == "tocilizumab-order":
        yield order_content.point("tocilizumabLimits")
        yield order_content.point("counted")
        yield from (content.point(n) for n in content.card_text()["tocilizumabNotes"])


def build_detail(check: OrderCheck, *, unavailable: Mapping[str, str],
                 suggestion_note: str | None) -> str:
    """Return the markdown detail: checks table, data used, gaps and the label reminders."""
    name = md(order_name(check))
    title = order_content.card_spec(check.criteria)["topic"]["display"]
    sections = [[f"**{md(title)}: {name}** ({md(check.order.reference)})"],
                ["| Check | Result | Finding |", "|---|---|---|",
                 *(_row(r) for r in check.results)],
                ["**Data used**", "", *evidence_table(_evidence(check))]]
    gaps = _gaps(check, unavailable)
    if gaps:
        sections.append(["**Data gaps, assumptions and rules applied**", "", *gaps])
    sections.append(["**Reminders**", "", *(f"- {line}" for line in _reminders(check))])
    if suggestion_note:
        sections.append([suggestion_note])
    return unicodedata.normalize("NFC", "\n\n".join("\n".join(s) for s in sections))
