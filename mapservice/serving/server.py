"""The production server: gunicorn with ``gthread`` workers, run from ``mapservice serve``.

The command prepares the database once, in the parent process (migrations, the bundled
data into an empty database), and hands gunicorn a factory. Every worker calls it after
the fork, so each process has its own app and its own database engines: a connection is
never shared between processes. ``GUNICORN_CMD_ARGS`` still applies on top, for anything
the ``MAPSERVICE_*`` settings do not cover.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from mapservice.db import read_only
from mapservice.serving.settings import ServerSettings
from mapservice.walking.profiles import settings_from_config
from mapservice.walking.search import warm_up

logger = logging.getLogger(__name__)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn: skip
                self.cfg.set(key, value)
        # Like gunicorn's own command: GUNICORN_CMD_ARGS overrides the defaults above.
        env_args = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
        for key, value in vars(env_args).items():
            if value is not None and key != "args":
                self.cfg.set(key.lower(), value)

    def load(self) -> Flask:
        app = self.factory()
        # The walking graphs load in the background while the worker already serves: a
        # reach request arriving meanwhile waits for the same load instead of starting one.
        threading.Thread(target=_warm_up, args=(app,), name="walking-warm-up", daemon=True).start()
        return app


def _warm_up(app: Flask) -> None:
    try:
        with app.app_context():
            settings = settings_from_config(app.config)
            read_only(lambda session: warm_up(session, settings))
    except Exception:  # the first reach request loads them instead
        logger.exception("loading the walking graphs at the worker's start failed")


def serve(factory: Callable[[], Flask], settings: ServerSettings) -> None:
    """Run until stopped (SIGINT/SIGTERM stop gracefully, SIGHUP reloads the workers)."""
    GunicornServer(factory, settings.gunicorn_options()).run()
