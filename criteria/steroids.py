"""Corticosteroid suggestion for CRS by ASTCT grade, as data a card can render."""

# Source: NCCN Management of CAR T-cell-related toxicities CART-6/7 [V];
#   ASCO summary PMC10573998 [V2]; each product's own steroid table takes precedence [R]
# Table: clinical-criteria.md §3.2 (Corticosteroids for CRS)
# Confidence: V (grades 1-2), V2 (grades 3-4)
# Codes: dexamethasone, methylprednisolone (RxNorm [R], §4.4)

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from criteria.rules import RuleSet


@dataclass(frozen=True)
class SteroidAdvice:
    """One corticosteroid regimen for a CRS grade."""

    grade: int
    drug: str
    dose_mg: Decimal
    route: str
    frequency: str
    consider: bool  # "consider" rather than "give"
    condition: str | None  # e.g. "onset <72 h after infusion"
    course: str | None  # taper or escalation
    source: str
    confidence: str
    product_note: str = "each product's own steroid table takes precedence"

    def text(self) -> str:
        """Return one line for a card, e.g. "Dexamethasone 10 mg IV q6h"."""
        line = f"{self.drug.capitalize()} {self.dose_mg.normalize():f} mg {self.route} " \
               f"{self.frequency}"
        if self.consider:
            line = "Consider " + line[0].lower() + line[1:]
        if self.condition:
            line += f" if {self.condition}"
        return line + (f"; {self.course}" if self.course else "")


def steroid_for_grade(grade: int, rules: RuleSet) -> SteroidAdvice | None:
    """Return the corticosteroid regimen for an ASTCT CRS grade (None for grade 0 or unknown)."""
    name = f"steroids.crs.{grade}"
    if name not in rules.names():
        return None
    row = rules.table(name)
    return SteroidAdvice(grade, str(row["drug"]), Decimal(str(row["dose_mg"])), str(row["route"]),
                         str(row["frequency"]), bool(row["consider"]),
                         str(row["condition"]) or None, str(row["course"]) or None,
                         rules.source(name), rules.confidence(name))
