"""Read the card text files in cards/data/ (package data), each once per process."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> Mapping[str, Any]:
    """Return the parsed JSON file ``cards/data/<name>``."""
    raw = resources.files("cards").joinpath("data", name).read_text(encoding="utf-8")
    data: Mapping[str, Any] = json.loads(raw)
    return data
