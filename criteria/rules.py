"""Rule data: every threshold, window and assumption the criteria use, with its provenance.

Constants live in ``criteria/data/*.json``; each carries a type, value, unit, source and a
confidence tag (V, V2, R or assumption; clinical-criteria.md §0). Sites override them by
dotted name through ``load_rules(overrides)``; unknown names and ill-typed values are refused.

A decimal cut-off may also carry ``"printed": {"<UCUM unit>": "<value>"}``: the same cut-off
in every unit the source prints (clinical-criteria.md §0: compare in the observed unit when the
source prints it; otherwise convert). Overriding such a constant with a plain value clears the
printed alternates unless it restates the default (values are then converted into the
constant's unit, and the note says so); to keep them, override with a mapping of unit to value
that includes the constant's own unit, e.g. ``{"mg/dL": "360", "mmol/L": "4.06"}`` (only units
the default prints are accepted).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

CONFIDENCES = ("V", "V2", "R", "assumption")
TYPES = ("decimal", "int", "duration", "bool", "strings", "text", "table")
_DURATION_UNITS = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}

Value = Decimal | int | timedelta | bool | tuple[str, ...] | str | Mapping[str, Any]


@dataclass(frozen=True)
class RuleConstant:
    """One named constant with its provenance."""

    name: str
    type: str
    value: Value
    unit: str | None
    source: str
    confidence: str
    label: str
    overridden: bool = False
    # The same cut-off in each unit the source prints (UCUM unit -> value); decimals only.
    printed: Mapping[str, Decimal] = field(default_factory=dict)
    printed_cleared: bool = False  # a plain site override dropped the printed alternates

    def shown(self) -> str:
        """Return the value as a short text with its unit (e.g. "38.0 Cel", "72 h")."""
        if self.type == "duration" and isinstance(self.value, timedelta):
            unit = self.unit or "h"
            amount = Decimal(self.value / _DURATION_UNITS[unit])
            return f"{amount.normalize():f} {unit}"
        if isinstance(self.value, tuple):
            return ", ".join(self.value)
        if isinstance(self.value, bool):
            return "on" if self.value else "off"
        if isinstance(self.value, Mapping):
            return "table"
        return f"{self.value} {self.unit}" if self.unit else str(self.value)


class RuleSet:
    """Typed, read-only access to rule constants by dotted name."""

    def __init__(self, constants: Mapping[str, RuleConstant], version: str) -> None:
        self._constants = dict(constants)
        self.version = version

    def names(self) -> tuple[str, ...]:
        """Return every constant name, sorted."""
        return tuple(sorted(self._constants))

    def constant(self, name: str) -> RuleConstant:
        """Return one constant with its provenance; KeyError when unknown."""
        try:
            return self._constants[name]
        except KeyError:
            raise KeyError(f"unknown rule constant: {name}") from None

    def _typed(self, name: str, kind: str) -> Value:
        const = self.constant(name)
        if const.type != kind:
            raise TypeError(f"{name} is a {const.type}, not a {kind}")
        return const.value

    def decimal(self, name: str) -> Decimal:
        """Return a decimal constant."""
        value = self._typed(name, "decimal")
        if not isinstance(value, Decimal):
            raise TypeError(name)
        return value

    def integer(self, name: str) -> int:
        """Return an integer constant."""
        value = self._typed(name, "int")
        if not isinstance(value, int):
            raise TypeError(name)
        return value

    def duration(self, name: str) -> timedelta:
        """Return a duration constant."""
        value = self._typed(name, "duration")
        if not isinstance(value, timedelta):
            raise TypeError(name)
        return value

    def flag(self, name: str) -> bool:
        """Return a boolean constant."""
        value = self._typed(name, "bool")
        if not isinstance(value, bool):
            raise TypeError(name)
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        """Return a list-of-strings constant."""
        value = self._typed(name, "strings")
        if not isinstance(value, tuple):
            raise TypeError(name)
        return value

    def text(self, name: str) -> str:
        """Return a text constant."""
        value = self._typed(name, "text")
        if not isinstance(value, str):
            raise TypeError(name)
        return value

    def table(self, name: str) -> Mapping[str, Any]:
        """Return a table (JSON object) constant."""
        value = self._typed(name, "table")
        if not isinstance(value, Mapping):
            raise TypeError(name)
        return value

    def printed(self, name: str) -> Mapping[str, Decimal]:
        """Return the cut-off in each unit the source prints (UCUM unit -> value); may be empty."""
        const = self.constant(name)
        if const.type != "decimal":
            raise TypeError(f"{name} is a {const.type}, not a decimal")
        return const.printed

    def confidence(self, name: str) -> str:
        """Return the confidence tag of a constant."""
        return self.constant(name).confidence

    def source(self, name: str) -> str:
        """Return the source citation of a constant."""
        return self.constant(name).source

    def note(self, name: str) -> str:
        """Return the card/audit wording for a constant that affected a result."""
        const = self.constant(name)
        text = f"{const.label} ({name} = {const.shown()}"
        text += ", site setting)" if const.overridden else ")"
        if const.printed_cleared:
            text += f"; compared in {const.unit} only (printed units cleared by the site setting)"
        if const.confidence == "R":
            return f"unconfirmed threshold: {text}"
        if const.confidence == "assumption":
            return f"assumption: {text}"
        return text


def _parse(name: str, kind: str, raw: object, unit: str | None) -> Value:
    """Return a raw JSON or override value as the constant's type; ValueError naming the key."""
    bad = ValueError(f"rule {name}: {raw!r} is not a valid {kind}")
    if kind == "decimal":
        if isinstance(raw, bool) or not isinstance(raw, Decimal | int | float | str):
            raise bad
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise bad from None
        if not value.is_finite():
            raise bad
        return value
    if kind == "int":
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
        raise bad
    if kind == "duration":
        if isinstance(raw, timedelta):
            return raw
        if unit not in _DURATION_UNITS:
            raise ValueError(f"rule {name}: duration unit {unit!r} unknown")
        amount = _parse(name, "decimal", raw, None)
        if not isinstance(amount, Decimal) or amount < 0:
            raise bad
        return _DURATION_UNITS[unit] * float(amount)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0"):
            return raw.strip().lower() in ("true", "1")
        raise bad
    if kind == "strings":
        if isinstance(raw, str):
            return tuple(s.strip() for s in raw.split(",") if s.strip())
        if isinstance(raw, list | tuple) and all(isinstance(s, str) for s in raw):
            return tuple(raw)
        raise bad
    if kind == "text":
        if isinstance(raw, str):
            return raw
        raise bad
    if kind == "table" and isinstance(raw, Mapping):
        return dict(raw)
    raise bad


def _merge_table(name: str, default: Mapping[str, Any], raw: object) -> Mapping[str, Any]:
    """Return a table override merged over its default; keys and value types must match."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"rule {name}: {raw!r} is not a valid table")
    merged = dict(default)
    for key, value in raw.items():
        if key not in default:
            raise ValueError(f"rule {name}: unknown entry {key!r}")
        if type(value) is not type(default[key]):
            raise ValueError(f"rule {name}.{key}: {value!r} has the wrong type")
        merged[key] = value
    return merged


def _printed(name: str, raw: object, value: Value, unit: str | None,
             allowed: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
    """Return a validated printed-units map; its entry in the constant's own unit must agree."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"rule {name}: printed must be a non-empty object of unit to value")
    out: dict[str, Decimal] = {}
    for key, amount in raw.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"rule {name}: printed unit {key!r} is not a unit")
        if allowed is not None and key not in allowed and key != unit:
            raise ValueError(f"rule {name}: the source prints no cut-off in {key!r}")
        parsed = _parse(f"{name}.printed[{key}]", "decimal", amount, None)
        assert isinstance(parsed, Decimal)
        out[key] = parsed
    if unit in out and out[unit] != value:
        raise ValueError(f"rule {name}: printed {unit} {out[unit]} disagrees with value {value}")
    return out


def _override(name: str, const: RuleConstant, raw: object) -> RuleConstant:
    """Return a constant with a site override applied (see the module docstring)."""
    if isinstance(const.value, Mapping):
        return replace(const, value=_merge_table(name, const.value, raw), overridden=True)
    if const.printed and isinstance(raw, Mapping):
        if const.unit not in raw:
            raise ValueError(f"rule {name}: a unit map must include {const.unit!r}")
        value = _parse(name, const.type, raw[const.unit], const.unit)
        printed = _printed(name, raw, value, const.unit, const.printed)
        return replace(const, value=value, printed=printed, overridden=True)
    value = _parse(name, const.type, raw, const.unit)
    if value == const.value:  # the default restated: its printed units still hold
        return replace(const, value=value, overridden=True)
    return replace(const, value=value, overridden=True, printed={},
                   printed_cleared=bool(const.printed))


def _read_files() -> list[tuple[str, str]]:
    folder = resources.files("criteria").joinpath("data")
    files = [f for f in folder.iterdir() if f.name.endswith(".json")]
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in files)


def _constants(files: list[tuple[str, str]]) -> dict[str, RuleConstant]:
    out: dict[str, RuleConstant] = {}
    for filename, text in files:
        for name, spec in json.loads(text)["constants"].items():
            if name in out:
                raise ValueError(f"rule {name}: defined twice ({filename})")
            kind, confidence = spec["type"], spec["confidence"]
            if kind not in TYPES or confidence not in CONFIDENCES:
                raise ValueError(f"rule {name}: bad type or confidence in {filename}")
            unit = spec.get("unit")
            value = _parse(name, kind, spec["value"], unit)
            printed: dict[str, Decimal] = {}
            if "printed" in spec:
                if kind != "decimal":
                    raise ValueError(f"rule {name}: printed units are for decimal cut-offs only")
                printed = _printed(name, spec["printed"], value, unit)
            out[name] = RuleConstant(
                name=name, type=kind, value=value, unit=unit,
                source=spec["source"], confidence=confidence, label=spec["label"],
                printed=printed)
    return out


def load_rules(overrides: Mapping[str, object] | None = None) -> RuleSet:
    """Load the rule data and apply site overrides; ValueError names any bad key."""
    files = _read_files()
    constants = _constants(files)
    digest = hashlib.sha256()
    for filename, text in files:
        digest.update(filename.encode() + b"\0" + text.encode() + b"\0")
    version = digest.hexdigest()[:12]
    if overrides:
        for name in sorted(overrides):
            if name not in constants:
                raise ValueError(f"unknown rule override: {name}")
            constants[name] = _override(name, constants[name], overrides[name])
        shown = json.dumps({n: constants[n].shown() if constants[n].type != "table"
                            else constants[n].value for n in sorted(overrides)}
                           | {f"{n}.printed": constants[n].printed for n in sorted(overrides)
                              if constants[n].printed},
                           sort_keys=True, default=str)
        version += "+" + hashlib.sha256(shown.encode()).hexdigest()[:8]
    return RuleSet(constants, version)
