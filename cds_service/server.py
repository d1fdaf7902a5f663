"""Run the app under gunicorn (``crs-cds serve``)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from cds_service.settings import Settings


class GunicornServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """Gunicorn application that builds the Flask app with the given settings in each worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        """Apply bind address, workers and timeouts."""
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "worker_class": "sync",
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,
            "loglevel": s.log_level.lower(),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the app in the worker."""
        from cds_service import create_app

        return create_app({"SETTINGS": self.settings})


def serve(settings: Settings) -> None:
    """Block serving requests until stopped."""
    from cds_service import create_app

    create_app({"SETTINGS": settings})  # fail fast on bad rule data before forking workers
    GunicornServer(settings).run()
