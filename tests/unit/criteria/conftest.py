"""Fixtures for the criteria specs."""

from __future__ import annotations

import pytest

from criteria.rules import RuleSet, load_rules


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    """Return the default rule set."""
    return load_rules()
