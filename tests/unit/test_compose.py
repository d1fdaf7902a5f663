"""docker-compose.yml describes a secured production stack (Docker does not run in CI)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cds_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed compose file."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_services_and_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"crs-cds", "migrate", "postgres", "redis"}
    app = services["crs-cds"]
    assert app["command"][:2] == ["crs-cds", "serve"]
    assert {k: v["condition"] for k, v in app["depends_on"].items()} == {
        "postgres": "service_healthy", "redis": "service_healthy",
        "migrate": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["crs-cds", "db", "upgrade"]


@pytest.mark.parametrize("name", ["crs-cds", "postgres", "redis"])
def test_long_running_services_have_health_checks(compose: dict[str, Any], name: str) -> None:
    check = compose["services"][name]["healthcheck"]
    assert check["test"]
    assert check["interval"]
    assert check["retries"]
    if name == "crs-cds":
        assert "/readyz" in " ".join(check["test"])


def test_environment_is_a_valid_secured_production_configuration(compose: dict[str, Any],
                                                                  tmp_path: Path) -> None:
    app = compose["services"]["crs-cds"]
    env = {k: str(v) for k, v in app["environment"].items()}
    assert env["CDS_AUTH_REQUIRED"] == "true"
    assert env["CDS_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["CDS_DATABASE_URL"]
    assert env["CDS_REDIS_URL"] == "redis://redis:6379/0"
    mounted = [v.split(":")[-2] for v in app["volumes"]]
    assert env["CDS_TRUSTED_CLIENTS_FILE"] in mounted
    for secret in ("CDS_AUDIT_HASH_KEY", "CDS_PUBLIC_BASE_URL"):
        assert re.fullmatch(r"\$\{[A-Z_]+:\?.+\}", env[secret]), f"{secret} must be required"
    assert "POSTGRES_PASSWORD:?" in env["CDS_DATABASE_URL"]

    # Substitute the operator's values, then the settings must validate as they would at start.
    clients = tmp_path / "clients.json"
    clients.write_text('{"clients": []}')
    values = {"CDS_PUBLIC_BASE_URL": "https://cds.example.org", "POSTGRES_PASSWORD": "pw",
              "CDS_AUDIT_HASH_KEY": "s" * 40}
    resolved = {k: re.sub(r"\$\{([A-Z_]+)(:\?[^}]*)?\}", lambda m: values[m.group(1)], v)
                for k, v in env.items()}
    resolved["CDS_TRUSTED_CLIENTS_FILE"] = str(clients)
    resolved["CDS_HOST"] = "0.0.0.0"  # the command's --host
    settings = Settings.from_env(resolved)
    assert settings.auth_required
    assert not settings.loopback
