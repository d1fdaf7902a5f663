"""Medication references, unmatched drugs and unreadable tocilizumab records.

- ``inline``: a ``medicationReference`` to ``Medication/<id>`` found in the prefetch (e.g.
  returned by ``_include``) is copied in as ``#contained`` so every mapper resolves it alike.
- ``unmatched``: a drug no table knows is reported with its code system and code only
  (clinical-criteria.md §4.4 matching rule 4), never its name.
- ``tocilizumab_unreadable``: a resource naming tocilizumab that was set aside (bad time,
  invalid, unknown status, ...) is reported, so the criteria can withhold a dose suggestion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from fhir_mappers.notes import Notes
from fhir_mappers.text import WordMatcher, codings, normalise

RESOLVED_ID = "crs-cds-prefetch-medication"
_MEDICATION = re.compile(r"(?:^|/)(Medication/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
# Set-aside reasons that are not "unreadable": the record was withdrawn or not given.
_DRUG_FIELDS = ("medicationCodeableConcept", "medicationReference", "contained", "code")
_LEGITIMATE = frozenset({"entered-in-error", "not-done", "cancelled", "revoked",
                         "status-not-used"})


def inline(raw: Mapping[str, Any], medications: Mapping[str, Mapping[str, Any]],
           *, replace_junk: bool = False) -> Mapping[str, Any]:
    """Return the resource with a referenced prefetch Medication copied in as ``#contained``.

    A ``contained`` that is not a list is left for validation to reject, unless
    ``replace_junk`` (used only to recognise the drug of a record set aside).
    """
    ref = raw.get("medicationReference")
    if not isinstance(ref, Mapping):
        return raw
    target = ref.get("reference")
    contained = raw.get("contained")
    if contained is not None and not isinstance(contained, list):
        if not replace_junk:
            return raw
        contained = None
    if not isinstance(target, str) or target.startswith("#") or not medications:
        return raw
    found = medications.get(target)
    if found is None and (tail := _MEDICATION.search(target)):
        found = medications.get(tail.group(1))
    if found is None:
        return raw
    return {**raw, "contained": [*(contained or []), {**found, "id": RESOLVED_ID}],
            "medicationReference": {**ref, "reference": f"#{RESOLVED_ID}"}}


def unmatched(concept: Any, raw: Mapping[str, Any], ref: str, notes: Notes) -> None:
    """Warn that a medication matched no drug; name its codes only, never its text."""
    codes = [f"{system or 'no-system'}|{code}"[:100] for system, code in codings(concept)][:3]
    if codes:
        message = f"medication not recognised; codes: {', '.join(codes)}"
    elif concept is None and raw.get("medicationReference") is not None:
        message = "medication reference could not be resolved"
    else:
        message = "medication has no code and its name is not recognised"
    notes.add("unmatched-medication", message, ref)


@cache
def _tocilizumab_words() -> WordMatcher:
    """Names and RxCUIs of tocilizumab, as whole words."""
    path = resources.files("fhir_mappers.data").joinpath("drugs.json")
    entry = json.loads(path.read_text(encoding="utf-8"))["ingredients"]["tocilizumab"]
    words = [*entry["names"], *entry.get("rxcui", {}), *entry["products"]]
    return WordMatcher((normalise(w), "tocilizumab") for w in words)


def names_tocilizumab(raw: Mapping[str, Any], match: Any) -> bool:
    """Return True if a resource matched tocilizumab, or its drug's text or codes name it."""
    if match is not None and getattr(match, "target", None) == "tocilizumab":
        return True
    fields = {k: raw.get(k) for k in _DRUG_FIELDS}
    try:
        text = normalise(json.dumps(fields, default=str))
    except (TypeError, ValueError, RecursionError):
        return False
    return _tocilizumab_words().find([text]) is not None


def tocilizumab_unreadable(items: Iterable[tuple[str, Mapping[str, Any], Any]],
                           kept: set[str], notes: Notes) -> None:
    """Warn about each tocilizumab resource (ref, raw, match) set aside as unreadable."""
    codes = notes.codes_by_reference()
    for ref, raw, match in items:
        found = codes.get(ref, set())
        if ref in kept or not found or found & _LEGITIMATE:
            continue  # mapped, too old (counted without a reference), or withdrawn
        if names_tocilizumab(raw, match):
            notes.add("tocilizumab-unreadable",
                      "a tocilizumab record was set aside; doses given cannot be counted", ref)
