"""Unit conversion into the canonical units of ``criteria.model.CANONICAL_UNITS``.

An explicit table, Decimal arithmetic, one entry per accepted unit; anything else is
unknown and the caller sets the value aside (clinical-criteria.md §4.5: never assume a
default unit). Unit strings are normalised first: micro sign to 'u', 'mcg' to 'ug',
UCUM annotations in braces removed (their text is returned for the D-dimer basis).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal

Convert = Callable[[Decimal], Decimal]


def _times(factor: str) -> Convert:
    f = Decimal(factor)
    return lambda v: v * f


def _divide(divisor: str) -> Convert:
    d = Decimal(divisor)
    return lambda v: v / d


def _fahrenheit(v: Decimal) -> Decimal:
    # §4.5: °C = (°F − 32) × 5/9 (100.4 °F = 38.0 °C)
    return (v - 32) * 5 / 9


_SAME = _times("1")
_RATE = {"/min": _SAME, "beats/min": _SAME, "breaths/min": _SAME, "bpm": _SAME}
_COUNT = {  # §4.5: 10*3/uL = 10*9/L = /nL; /uL and /mm3 divided by 1000
    "10*9/l": _SAME, "10^9/l": _SAME, "10*3/ul": _SAME, "10^3/ul": _SAME, "/nl": _SAME,
    "k/ul": _SAME, "10*3/mm3": _SAME, "/ul": _divide("1000"), "/mm3": _divide("1000"),
}
# 1 µkat/L = 60 U/L
_ENZYME = {"u/l": _SAME, "[iu]/l": _SAME, "iu/l": _SAME, "ukat/l": _times("60")}
# Monovalent ions: 1 mEq = 1 mmol (K+, Na+, Cl-, HCO3-).
_ION = {"mmol/l": _SAME, "meq/l": _SAME, "[meq]/l": _SAME}
_NG_ML = {"ng/ml": _SAME, "ug/l": _SAME}

# kind -> normalised unit -> conversion into the canonical unit (§4.5)
TABLE: Mapping[str, Mapping[str, Convert]] = {
    "temperature": {"cel": _SAME, "degc": _SAME, "c": _SAME, "[degf]": _fahrenheit,
                    "degf": _fahrenheit, "f": _fahrenheit},
    "heart_rate": _RATE,
    "respiratory_rate": _RATE,
    "systolic_bp": {"mm[hg]": _SAME, "mmhg": _SAME},
    "diastolic_bp": {"mm[hg]": _SAME, "mmhg": _SAME},
    "mean_arterial_pressure": {"mm[hg]": _SAME, "mmhg": _SAME},
    "spo2": {"%": _SAME},
    "fio2": {"%": _SAME, "1": _times("100")},  # §4.5: FiO2 as a fraction, 0.4 = 40 %
    "oxygen_flow": {"l/min": _SAME, "lpm": _SAME, "ml/min": _divide("1000")},
    "body_weight": {"kg": _SAME, "g": _divide("1000"), "[lb_av]": _times("0.45359237"),
                    "lb": _times("0.45359237"), "lbs": _times("0.45359237")},
    "body_height": {"cm": _SAME, "m": _times("100"), "[in_i]": _times("2.54")},
    "crp": {"mg/l": _SAME, "mg/dl": _times("10")},  # 1 mg/dL = 10 mg/L
    "ferritin": _NG_ML,
    "il6": {"pg/ml": _SAME, "ng/l": _SAME},
    "fibrinogen": {"mg/dl": _SAME, "g/l": _times("100")},  # 1 g/L = 100 mg/dL
    "triglycerides": {"mg/dl": _SAME, "mmol/l": _times("88.57")},
    "ldh": _ENZYME,
    "ast": _ENZYME,
    "alt": _ENZYME,
    "creatinine": {"mg/dl": _SAME, "umol/l": _divide("88.42")},  # µmol/L = mg/dL × 88.42
    "platelets": _COUNT,
    "wbc": _COUNT,
    "neutrophils": _COUNT,
    "lymphocytes": _COUNT,
    "haemoglobin": {"g/dl": _SAME, "g/l": _divide("10"), "mmol/l": _divide("0.6206")},
    "neutrophils_pct": {"%": _SAME},
    "lymphocytes_pct": {"%": _SAME},
    "bilirubin": {"mg/dl": _SAME},
    "d_dimer_feu": {**_NG_ML, "ug/ml": _times("1000"), "mg/l": _times("1000")},
    "d_dimer_ddu": {**_NG_ML, "ug/ml": _times("1000"), "mg/l": _times("1000")},
    "albumin": {"g/dl": _SAME, "g/l": _divide("10")},
    "sil2r": {"u/ml": _SAME, "[iu]/ml": _SAME},  # pg/mL cannot become U/mL (§4.3)
    "troponin_i": {**_NG_ML, "ng/l": _divide("1000"), "pg/ml": _divide("1000")},
    "potassium": _ION,
    "sodium": _ION,
    "chloride": _ION,
    "bicarbonate": _ION,
    "anion_gap": _ION,
    "bun": {"mg/dl": _SAME, "mmol/l": _times("2.8")},  # BUN mg/dL = urea mmol/L × 2.8
    "procalcitonin": _NG_ML,
}

_BRACES = re.compile(r"\{([^}]*)\}")


def normalise_unit(unit: str) -> tuple[str, str]:
    """Return (normalised unit, annotation text) for lookup in ``TABLE``."""
    annotation = " ".join(_BRACES.findall(unit))
    text = _BRACES.sub("", unit).replace("µ", "u").replace("μ", "u").replace("°", "deg")
    text = text.replace(" ", "").lower().replace("mcg", "ug")
    if not text and annotation:
        text = "1"  # a bare annotation such as {ratio} is dimensionless in UCUM
    return text, annotation


def convert(kind: str, value: Decimal, unit: str) -> Decimal | None:
    """Return the value in the kind's canonical unit, or None if the unit is not known."""
    table = TABLE.get(kind)
    if table is None:
        return None
    func = table.get(normalise_unit(unit)[0])
    return None if func is None else func(value)


def convert_observed(kind: str, value: Decimal, unit: str) -> tuple[Decimal, bool] | None:
    """Like ``convert``, also saying whether a factor was applied (the unit really changed)."""
    table = TABLE.get(kind)
    if table is None:
        return None
    func = table.get(normalise_unit(unit)[0])
    return None if func is None else (func(value), func is not _SAME)
