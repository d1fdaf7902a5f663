"""Settings come from CDS_* variables and invalid ones stop start-up, naming the variable."""

from __future__ import annotations

import pytest

from cds_service.settings import Settings, SettingsError


def test_defaults_suit_local_development() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.base_url == "http://127.0.0.1:8080"
    assert s.database_url.startswith("sqlite:///")
    assert s.max_body_bytes == 5_000_000
    assert s.cors_origins == ("*",)
    assert s.allow_open_fhir_server is False


def test_environment_overrides_are_typed() -> None:
    s = Settings.from_env({
        "CDS_PORT": "9090", "CDS_ALLOW_OPEN_FHIR_SERVER": "true",
        "CDS_ALLOWED_HTTP_FHIR_HOSTS": "127.0.0.1:8081, localhost",
        "CDS_FHIR_TOTAL_BUDGET": "2.5", "CDS_PUBLIC_BASE_URL": "https://cds.example.org/",
    })
    assert s.port == 9090
    assert s.allow_open_fhir_server is True
    assert s.allowed_http_fhir_hosts == ("127.0.0.1:8081", "localhost")
    assert s.fhir_total_budget == 2.5
    assert s.base_url == "https://cds.example.org"


@pytest.mark.parametrize(("env", "named"), [
    ({"CDS_PORT": "eighty"}, "CDS_PORT"),
    ({"CDS_PORT": "70000"}, "CDS_PORT"),
    ({"CDS_ALLOW_OPEN_FHIR_SERVER": "maybe"}, "CDS_ALLOW_OPEN_FHIR_SERVER"),
    ({"CDS_FHIR_READ_TIMEOUT": "0"}, "CDS_FHIR_READ_TIMEOUT"),
    ({"CDS_DATABASE_URL": "mysql://x"}, "CDS_DATABASE_URL"),
    ({"CDS_PUBLIC_BASE_URL": "cds.example.org"}, "CDS_PUBLIC_BASE_URL"),
    ({"CDS_LOG_LEVEL": "LOUD"}, "CDS_LOG_LEVEL"),
    ({"CDS_RULE_OVERRIDES_FILE": "/nonexistent/overrides.json"}, "CDS_RULE_OVERRIDES_FILE"),
])
def test_invalid_setting_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_unknown_setting_in_mapping_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting"):
        Settings.from_mapping({"colour": "blue"})
