"""Normalise FHIR references to the "Type/id" form the timeline uses."""

from __future__ import annotations

import re

# Relative ("MedicationRequest/so1"), absolute ("https://ehr/fhir/MedicationRequest/so1") and
# versioned (".../_history/2") literal references (FHIR R4 §2.3.0 References).
_REFERENCE = re.compile(
    r"(?:^|/)([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?/?")


def relative(reference: object) -> str | None:
    """Return "Type/id" of a literal reference, or None when it is not one."""
    if not isinstance(reference, str) or len(reference) > 2048:
        return None
    found = _REFERENCE.search(reference)
    if found is None or reference[found.end():]:
        return None
    return f"{found.group(1)}/{found.group(2)}"
