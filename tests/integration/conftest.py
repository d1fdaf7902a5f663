"""Fixtures of the integration tests: real FHIR stub servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.fhir_stub import FhirStub


@pytest.fixture
def stub() -> Iterator[FhirStub]:
    """The request's FHIR server."""
    with FhirStub() as server:
        yield server


@pytest.fixture
def other() -> Iterator[FhirStub]:
    """A second FHIR server on another port (another origin): it must never see the token."""
    with FhirStub() as server:
        yield server
