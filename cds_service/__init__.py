"""CDS Hooks 2.0 HTTP edge: app factory, blueprints, settings, validation, data access."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from cds_service.settings import Settings, SettingsError


def load_rule_set(settings: Settings) -> Any:
    """Load the clinical rule data, with the site's overrides file if one is configured."""
    from criteria.rules import load_rules

    overrides: dict[str, object] = {}
    if settings.rule_overrides_file:
        with open(settings.rule_overrides_file, encoding="utf-8") as fh:
            overrides = json.load(fh)
    return load_rules(overrides)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the Flask app; ``config`` may hold SETTINGS, RULES or any Flask key."""
    app = Flask(__name__, static_folder=None)  # JSON only: no /static route
    app.config.from_mapping(config or {})
    settings = app.config.get("SETTINGS") or Settings.from_env()
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = None  # checked by read_json_body, with a JSON 413
    if app.config.get("RULES") is None:
        app.config["RULES"] = load_rule_set(settings)

    from cds_service import auth, db, http, logs
    from cds_service.blueprints import discovery, feedback, hooks, openapi, ops
    from cds_service.db.audit import PatientHasher, load_hash_key

    logs.init_app(app, settings.log_level)  # first: its timer starts before the other hooks
    http.install(app)
    for bp in (discovery.bp, hooks.bp, feedback.bp, ops.bp, openapi.bp):
        app.register_blueprint(bp)

    @app.before_request
    def answer_preflight() -> Response | None:
        """Answer CORS preflight on every known route with 204, before authentication."""
        if request.method == "OPTIONS" and request.url_rule is not None:
            return Response(status=204)
        return None

    database = db.init_app(app, settings)
    auth.init_app(app, settings, database)
    try:  # once, at start-up: a missing or short key stops start-up, not each request
        app.extensions["crs_cds_hasher"] = PatientHasher(load_hash_key(settings))
    except (ValueError, OSError) as exc:
        raise SettingsError(f"audit patient-hash key unusable: {exc}") from None
    return app


def close_app(app: Flask) -> None:
    """Release the app's database and replay-store connections (tests, shutdown)."""
    from cds_service import auth, db

    auth.close(app)
    db.get_db(app).dispose()
