"""`crs-cds dev-token`: one step from a fresh checkout to an authenticated call."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest

from cds_service import close_app, create_app
from cds_service.auth.devtoken import DEV_ISSUER
from cds_service.cli import main
from cds_service.settings import Settings


def dev_token(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    assert main(["dev-token", *args]) == 0
    out, err = capsys.readouterr()
    return out.strip(), err


def test_dev_token_is_accepted_by_a_loopback_service_without_configuration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CDS_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings = Settings.from_env()
    assert settings.auth_required
    assert settings.trusted_clients_file == ""
    app = create_app({"SETTINGS": settings})
    try:
        c = app.test_client()
        assert c.get("/cds-services").status_code == 401
        token, notes = dev_token(capsys)
        assert c.get("/cds-services", headers={"Authorization": f"Bearer {token}"}
                     ).status_code == 200
        token, _ = dev_token(capsys, "--feedback", "crs-patient-view")
        resp = c.post("/cds-services/crs-patient-view/feedback",
                      headers={"Authorization": f"Bearer {token}"},
                      json={"feedback": [{"card": "c", "outcome": "overridden",
                                          "outcomeTimestamp": "2026-11-21T10:00:00Z"}]})
        assert resp.status_code == 200
    finally:
        close_app(app)
    header, claims = jwt.get_unverified_header(token), jwt.decode(
        token, options={"verify_signature": False})
    assert header["alg"] == "ES384"
    assert claims["iss"] == DEV_ISSUER
    assert claims["exp"] - claims["iat"] == 300
    assert "DEVELOPMENT AID" in notes
    entry = json.loads(notes[notes.index("Clients-file entry:\n") + 20:])
    assert entry["iss"] == DEV_ISSUER
    assert "d" not in entry["jwks"]["keys"][0]  # the public key only
    key = tmp_path / "instance" / "dev-signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_dev_clients_file_is_not_trusted_off_loopback(tmp_path: Path) -> None:
    from cds_service.settings import SettingsError

    with pytest.raises(SettingsError, match="CDS_TRUSTED_CLIENTS_FILE"):
        Settings.from_mapping({"host": "0.0.0.0", "public_base_url": "https://cds.test",
                               "instance_dir": str(tmp_path)})


def test_dev_token_lifetime_is_bounded(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CDS_INSTANCE_DIR", str(tmp_path))
    assert main(["dev-token", "--lifetime", "99999"]) == 2
    assert "--lifetime" in capsys.readouterr().err
