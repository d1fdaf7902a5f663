"""The app factory: importing creates no app; defaults and overrides apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cds_service
from cds_service import close_app, create_app
from cds_service.settings import Settings


def test_importing_the_package_creates_no_app() -> None:
    assert not any(type(v).__name__ == "Flask" for v in vars(cds_service).values())


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("CDS_PORT", "9091")
    app = create_app()
    assert app.config["SETTINGS"].port == 9091
    assert app.config["RULES"] is not None
    assert not app.testing


def test_overrides_win(settings: Settings) -> None:
    app = create_app({"SETTINGS": settings, "TESTING": True})
    assert app.testing
    assert app.config["SETTINGS"] is settings


def test_rule_overrides_file_is_applied(tmp_path: Path, settings: Settings) -> None:
    import dataclasses
    from decimal import Decimal

    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"astct.fever_min": "38.5"}))
    app = create_app({"SETTINGS": dataclasses.replace(settings,
                                                      rule_overrides_file=str(overrides))})
    rules = app.config["RULES"]
    assert rules.decimal("astct.fever_min") == Decimal("38.5")
    assert "site setting" in rules.note("astct.fever_min")
    close_app(app)


def test_an_unknown_rule_override_stops_start_up(tmp_path: Path, settings: Settings) -> None:
    import dataclasses

    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"not.a.rule": 1}))
    with pytest.raises(ValueError, match=r"not\.a\.rule"):
        create_app({"SETTINGS": dataclasses.replace(settings, rule_overrides_file=str(overrides))})


def test_an_unusable_audit_key_stops_start_up(settings: Settings) -> None:
    # The keyed patient hash is checked once at start-up (docs/audit.md), not on each request.
    from cds_service.db.audit import key_file_for
    from cds_service.settings import SettingsError

    path = key_file_for(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("short")
    with pytest.raises(SettingsError, match="patient-hash key"):
        create_app({"SETTINGS": settings})
