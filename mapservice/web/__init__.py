"""Web adapters: one blueprint per audience. Views parse input and render; logic lives elsewhere."""

from __future__ import annotations

from flask import Flask

from mapservice.web import api, public


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
