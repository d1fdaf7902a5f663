"""Mutations of valid JSON: drop a member, replace it with junk, or add an unknown one."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the paths of every member below a dict/list (for mutations)."""
    out: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        out.append((*path, key))
        out.extend(_paths(value, (*path, key)))
    return out


def _mutate(node: Any, ops: list[tuple[str, int, Any]]) -> Any:
    """Apply mutations: drop a member, replace it with junk, or add an unknown member."""
    node = json.loads(json.dumps(node))
    for op, index, value in ops:
        paths = _paths(node)
        if not paths:
            break
        *parent_path, last = paths[index % len(paths)]
        parent = node
        for step in parent_path:
            parent = parent[step]
        if op == "drop":
            del parent[last]
        elif op == "junk":
            parent[last] = value
        elif isinstance(parent, dict):
            parent[f"x{index % 7}"] = value
    return node


def mutations(junk: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, int, Any]]]:
    """Return up to two mutations, each with its junk value."""
    return st.lists(st.tuples(st.sampled_from(["drop", "junk", "extra"]),
                              st.integers(0, 10_000), junk), max_size=2)


def near(valid: st.SearchStrategy[Any],
         junk: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Return valid values with up to two mutations each."""
    return st.builds(_mutate, valid, mutations(junk))
