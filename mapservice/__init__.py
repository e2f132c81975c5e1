"""mapservice: an offer map for local family-support networks."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask_compress import Compress

from mapservice import auth, cli, db, i18n, logs
from mapservice.config import PROJECT_ROOT, Defaults
from mapservice.walking.profiles import settings_from_config
from mapservice.web import converters, errors, parameters, ratelimit, register_blueprints, security


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Settings come from :class:`mapservice.config.Defaults`, then ``MAPSERVICE_*``
    environment variables, then ``test_config``.
    """
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("MAPSERVICE")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    # A walking setting out of its range stops the start, not the first walking request.
    settings_from_config(app.config)
    security.init_app(app)
    logs.init_app(app)
    db.init_app(app)
    Compress(app)
    i18n.init_app(app)
    auth.init_app(app)
    cli.init_app(app)
    converters.init_app(app)  # before any route is added
    register_blueprints(app)
    errors.init_app(app)
    ratelimit.init_app(app)
    parameters.init_app(app)  # runs before every other before_request
    return app


def _instance_secret(instance: Path) -> str:
    """A random secret kept with the instance, so sessions survive restarts."""
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
