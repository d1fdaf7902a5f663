"""Run the app under gunicorn (``crs-cds serve``)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from cds_service.settings import Settings

# A request allocates tens of thousands of short-lived objects (the parsed body, its
# resources, the timeline); with Python's default gen-0 threshold (700) that triggers many
# collections that re-scan the long-lived heap. Objects are freed by reference counting
# anyway; cycles are still collected, just less often (docs/performance.md).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Move start-up objects out of the collector's sight and collect young objects rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def gunicorn_options(host: str, port: int, workers: int, log_level: str) -> dict[str, Any]:
    """Return the gunicorn settings of the service (also used by the benchmark's peers)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": log_level.lower(),
    }


class AppServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """Gunicorn application that builds a WSGI app in each worker, then tunes its GC."""

    def __init__(self, options: dict[str, Any], factory: Callable[[], Any]) -> None:
        self.options = options
        self.factory = factory
        super().__init__()

    def load_config(self) -> None:
        """Apply bind address, workers and timeouts."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the app in the worker."""
        app = self.factory()
        tune_gc()
        return app


class GunicornServer(AppServer):
    """The service: the Flask app with the given settings in each worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__(gunicorn_options(settings.host, settings.port, settings.workers,
                                          settings.log_level), self._build)

    def _build(self) -> Any:
        from cds_service import create_app

        return create_app({"SETTINGS": self.settings})


def serve(settings: Settings) -> None:
    """Block serving requests until stopped."""
    from cds_service import close_app, create_app

    app = create_app({"SETTINGS": settings})  # fail fast on bad settings or data before forking
    close_app(app)  # no database connection may cross the fork
    GunicornServer(settings).run()
