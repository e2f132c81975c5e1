"""Admins' pages (role ``admin``): offers, sites' anchor flag, import/export, users.

``GET /admin/``                         offers, filterable by ``status``, ``category``, ``source``
``POST /admin/offers/<id>/status``      set ``new_status`` (active/paused/ended)
``POST /admin/offers/<id>/verified``    set ``last_verified`` to today
``POST /admin/sites/<id>/anchor``       toggle the anchor flag
``POST /admin/import``                  upload a GeoJSON/CSV exchange file (all or nothing)
``GET /admin/export.geojson|.csv``      everything in the exchange format
``GET/POST /admin/users``               list and add accounts

Every POST needs the CSRF token (the app-wide CSRFProtect). The views only parse and
render; :mod:`mapservice.admin` changes the data.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from mapservice import admin
from mapservice.auth import AccountError, check_roles, create_user
from mapservice.db import get_session
from mapservice.editing import freshness, listing
from mapservice.editing.permissions import Actor
from mapservice.editing.service import save_offer, save_site
from mapservice.importers.exchange.format import FORMATS
from mapservice.importers.records import ImportFailed
from mapservice.models import OFFER_STATUSES, USER_ROLES, Offer, Provider, Site
from mapservice.queries import find_anchor_sites
from mapservice.taxonomy import categories
from mapservice.walking.profiles import settings_from_config

bp = Blueprint("admin", __name__)
FILTERS = ("status", "category", "source")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@bp.before_request
def _admins_only() -> Any:
    return check_roles(("admin",))


def _actor() -> Actor:
    return Actor.of(current_user._get_current_object())


def _filters(args: Any) -> dict[str, str]:
    return {key: args.get(key, "") for key in FILTERS if args.get(key)}


def _back() -> BaseResponse:
    """To the list, with the filters the form came from."""
    chosen: dict[str, Any] = _filters(request.form)
    return redirect(url_for("admin.index", **chosen))


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


@bp.get("/")
def index() -> tuple[str, int]:
    session = get_session()
    chosen = _filters(request.args)
    if chosen.get("status", "") not in ("", *OFFER_STATUSES):
        abort(400, description="unknown status")
    listing = admin.list_offers(session, **chosen)
    return _page(
        "admin/index.html",
        listing=listing,
        chosen=chosen,
        statuses=OFFER_STATUSES,
        categories=categories(),
        sources=admin.offer_sources(session),
        anchors=find_anchor_sites(session),
        formats=FORMATS,
    )


def _offer(offer_id: int) -> Offer:
    offer = get_session().get(Offer, offer_id)
    if offer is None:
        abort(404)
    return offer


@bp.post("/offers/<int:offer_id>/status")
def offer_status(offer_id: int) -> BaseResponse:
    offer = _offer(offer_id)
    new_status = request.form.get("new_status", "")
    if new_status not in OFFER_STATUSES:
        abort(400, description=f"status must be one of {', '.join(OFFER_STATUSES)}")
    # Through the editing domain, so the change is a revision like any other.
    save_offer(get_session(), _actor(), {"status": new_status}, offer, checked=False)
    get_session().commit()
    flash(f"„{offer.title}“: Status {offer.status}.", "ok")
    return _back()


@bp.post("/offers/<int:offer_id>/verified")
def offer_verified(offer_id: int) -> BaseResponse:
    offer = _offer(offer_id)
    freshness.confirm(get_session(), _actor(), [offer])
    get_session().commit()
    flash(f"„{offer.title}“: heute geprüft.", "ok")
    return _back()


@bp.post("/sites/<int:site_id>/anchor")
def site_anchor(site_id: int) -> BaseResponse:
    site = get_session().get(Site, site_id)
    if site is None:
        abort(404)
    save_site(get_session(), _actor(), site, {"is_anchor": not site.is_anchor})
    now = site.is_anchor
    get_session().commit()
    flash(f"„{site.name}“ ist {'jetzt' if now else 'nicht mehr'} Anlaufstelle.", "ok")
    return _back()


@bp.post("/import")
def import_upload() -> tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page("admin/import.html", 400, errors=[], problem="Bitte eine Datei wählen.")
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _page("admin/import.html", 400, errors=[], problem="Die Datei ist zu groß.")
    session = get_session()
    settings = settings_from_config(current_app.config)
    try:
        result = admin.import_upload(session, upload.filename, content, settings)
    except ImportFailed as exc:
        session.rollback()
        return _page("admin/import.html", 400, errors=exc.errors, filename=upload.filename)
    except ValueError as exc:
        session.rollback()
        return _page("admin/import.html", 400, errors=[], problem=str(exc))
    session.commit()
    return _page(
        "admin/import.html", counts=result.counts, walking=result.walking, filename=upload.filename
    )


@bp.get("/export.<kind>")
def export(kind: str) -> Response:
    if kind not in FORMATS:
        abort(404)
    data = admin.export_bytes(get_session(), kind)
    mimetype = "application/geo+json" if kind == "geojson" else "text/csv; charset=utf-8"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="angebote.{kind}"'
    return response


@bp.route("/users", methods=["GET", "POST"])
def users() -> tuple[str, int]:
    session = get_session()
    problem = None
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        provider_id = request.form.get("provider_id", "")
        provider = session.get(Provider, int(provider_id)) if provider_id.isdigit() else None
        try:
            user = create_user(
                session,
                email,
                request.form.get("password", ""),
                request.form.get("role", ""),
                provider,
            )
        except AccountError as exc:
            session.rollback()
            problem, status = str(exc), 400
        else:
            session.commit()
            flash(f"Konto {user.email} ({user.role}) angelegt.", "ok")
    return _page(
        "admin/users.html",
        status,
        users=admin.list_users(session),
        providers=listing.providers(session),
        roles=USER_ROLES,
        problem=problem,
    )
