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

    def items(self) -> tuple[MappingWarning, ...]:
        """Return the warnings recorded so far (bulk counts excluded)."""
        return tuple(self._items)

    def extend(self, items: tuple[MappingWarning, ...]) -> None:
        """Record warnings already made (replayed from a memo), in order."""
        self._items.extend(items)

    def codes_by_reference(self) -> dict[str | None, set[str]]:
        """Return the codes of the warnings recorded so far, by reference."""
        found: dict[str | None, set[str]] = {}
        for item in self._items:
            found.setdefault(item.reference, set()).add(item.code)
        return found

    def absorb(self, other: Notes) -> None:
        """Add another sink's warnings and counts, skipping warnings already recorded."""
        known = set(self._items)
        for item in other._items:
            if item not in known:
                known.add(item)
                self._items.append(item)
        for key, n in other._counts.items():
            self._counts[key] = self._counts.get(key, 0) + n

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
