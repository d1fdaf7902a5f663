"""Collects mapping warnings; messages name codes and reasons, never values or ids."""

from __future__ import annotations

from criteria.model import MappingWarning


class Notes:
    """An append-only list of warnings, with per-reason counters for bulk skips."""

    def __init__(self) -> None:
        self._items: list[MappingWarning] = []
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, code: str, message: str, reference: str | None = None) -> None:
        """Record one warning about a resource (or part of one)."""
        self._items.append(MappingWarning(code=code, message=message, reference=reference))

    def count(self, code: str, what: str) -> None:
        """Count a quiet bulk skip; reported once per reason by ``warnings``."""
        self._counts[(code, what)] = self._counts.get((code, what), 0) + 1

    def warnings(self) -> tuple[MappingWarning, ...]:
        """Return all warnings, bulk counts last."""
        bulk = [
            MappingWarning(code=code, message=f"{n} {what} skipped")
            for (code, what), n in self._counts.items()
        ]
        return (*self._items, *bulk)
