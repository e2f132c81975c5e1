"""Web adapters: one blueprint per audience. Views parse input and render; logic lives elsewhere."""

from __future__ import annotations

from flask import Flask

from mapservice.web import (
    admin,
    api,
    api_docs,
    hsds,
    ogcapi,
    outreach,
    planners,
    public,
    walking_api,
)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(walking_api.bp, url_prefix="/api")
    app.register_blueprint(api_docs.bp, url_prefix="/api")
    app.register_blueprint(planners.bp, url_prefix="/planners")
    app.register_blueprint(outreach.bp, url_prefix="/outreach")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(ogcapi.bp, url_prefix="/ogcapi")
    app.register_blueprint(hsds.bp, url_prefix="/hsds")
