"""Web adapters: one blueprint per audience. Views parse input and render; logic lives elsewhere."""

from __future__ import annotations

from flask import Flask, current_app

from mapservice.editing import freshness
from mapservice.models import Offer
from mapservice.web import (
    admin,
    api,
    api_docs,
    basemap,
    editing,
    hsds,
    ogcapi,
    outreach,
    planners,
    public,
    walking_api,
    write_api,
)


def offer_overdue(offer: Offer) -> bool:
    """Whether the public pages show the "ask the provider first" hint for ``offer``."""
    months = int(current_app.config.get("OVERDUE_MONTHS", freshness.DEFAULT_OVERDUE_MONTHS))
    return freshness.is_overdue(offer, months)


def register_blueprints(app: Flask) -> None:
    app.add_template_global(offer_overdue, "offer_overdue")
    app.register_blueprint(public.bp)
    app.register_blueprint(basemap.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(walking_api.bp, url_prefix="/api")
    app.register_blueprint(write_api.bp, url_prefix="/api")
    app.register_blueprint(api_docs.bp, url_prefix="/api")
    app.register_blueprint(planners.bp, url_prefix="/planners")
    app.register_blueprint(outreach.bp, url_prefix="/outreach")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(editing.bp, url_prefix="/editing")
    app.register_blueprint(ogcapi.bp, url_prefix="/ogcapi")
    app.register_blueprint(hsds.bp, url_prefix="/hsds")
