"""Editing views of sites and providers: their forms, histories and restores."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from mapservice.db import get_session
from mapservice.editing import listing
from mapservice.editing.permissions import require
from mapservice.editing.provider_details import DETAIL_FIELDS, save_provider_details
from mapservice.editing.restore import restore_provider, restore_site
from mapservice.editing.service import InvalidInput, save_provider, save_site
from mapservice.editing.states import provider_state, site_state
from mapservice.importers import records
from mapservice.importers.records import RowInvalid
from mapservice.interop.hsds.mapping import PROVIDER_KINDS_DE
from mapservice.models import PROVIDER_KINDS, WHEELCHAIR_VALUES, Provider, Site
from mapservice.walking.profiles import settings_from_config
from mapservice.web.editing import actor, bp
from mapservice.web.editing.history import history_page, restore_and_report
from mapservice.web.editing.messages import german, german_errors
from mapservice.web.editing.offers import WHEELCHAIR_LABELS

# --- sites ------------------------------------------------------------------------------------


def _site(site_id: int) -> Site:
    site = get_session().get(Site, site_id)
    if site is None:
        abort(404)
    return site


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
def site_edit(site_id: int) -> Any:
    session = get_session()
    site = _site(site_id)
    errors: dict[str, str] = {}
    raw = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST":
        values = _site_values(raw, errors)
        if not errors:
            save_site(session, actor(), site, values, walk=settings_from_config(current_app.config))
            session.commit()
            flash(f"„{site.name}“ gespeichert (Wegezeiten neu berechnet, falls verschoben).", "ok")
            return redirect(url_for("editing.site_edit", site_id=site_id))
    state = site_state(site)
    return (
        render_template(
            "editing/site_form.html",
            site=site,
            state=state,
            raw=raw,
            errors=errors,
            wheelchair_labels=WHEELCHAIR_LABELS,
            wheelchair_values=WHEELCHAIR_VALUES,
        ),
        400 if errors else 200,
    )


def _site_values(raw: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    checks = {
        "name": lambda v: records.required_text(v, "name"),
        "street": lambda v: records.text(v, "street", max_length=200),
        "house_number": lambda v: records.text(v, "house_number", max_length=20),
        "postcode": lambda v: records.text(v, "postcode", max_length=10),
        "city": lambda v: records.text(v, "city", max_length=100),
        "wheelchair": lambda v: records.choice(v, "wheelchair", WHEELCHAIR_VALUES),
    }
    for key, check in checks.items():
        try:
            values[key] = check(raw.get(key))
        except RowInvalid as exc:
            errors[key] = german(key, str(exc))
    try:
        lon, lat = records.coordinates(raw.get("lon"), raw.get("lat"))
        values["location"] = [round(lon, 7), round(lat, 7)]
    except RowInvalid as exc:
        errors["location"] = german("location", str(exc))
    return values


@bp.get("/sites/<int:site_id>/history")
def site_history(site_id: int) -> str:
    site = _site(site_id)
    require(actor(), "proposal.review")  # sites are shared: their history is the editors'
    return history_page("site", site.id, f"Ort: {site.name}", "site_id", "zum Ort")


@bp.post("/sites/<int:site_id>/restore/<int:revision_id>")
def site_restore(site_id: int, revision_id: int) -> BaseResponse:
    walk = settings_from_config(current_app.config)
    return restore_and_report(
        lambda: restore_site(get_session(), actor(), _site(site_id), revision_id, walk=walk),
        url_for("editing.site_history", site_id=site_id),
        lambda site: (
            f"„{site.name}“: Stand von Revision {revision_id} wiederhergestellt "
            "(Wegezeiten neu berechnet, falls der Ort sich bewegt hat)."
        ),
    )


# --- providers --------------------------------------------------------------------------------


def _provider(provider_id: int) -> Provider:
    provider = get_session().get(Provider, provider_id)
    if provider is None:
        abort(404)
    return provider


@bp.get("/providers")
def providers_list() -> Any:
    me = actor()
    if me.role == "provider":
        return redirect(url_for("editing.provider_edit", provider_id=me.provider_id))
    require(me, "provider.edit")
    return render_template("editing/providers.html", providers=listing.providers(get_session()))


@bp.route("/providers/<int:provider_id>", methods=["GET", "POST"])
def provider_edit(provider_id: int) -> Any:
    session = get_session()
    provider = _provider(provider_id)
    me = actor()
    require(me, "provider.details", provider.id)
    state = provider_state(provider)
    raw = {key: state[key] or "" for key in DETAIL_FIELDS}
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw = {key: request.form.get(key, "") for key in DETAIL_FIELDS}
        data: dict[str, Any] = dict(raw)
        if me.role != "provider":
            data["trusted"] = request.form.get("trusted") == "on"
        try:
            outcome = save_provider_details(session, me, provider, data)
        except InvalidInput as invalid:
            session.rollback()
            errors = german_errors(invalid.errors)
        else:
            session.commit()
            if outcome.proposal is not None:
                flash(
                    "Vorschlag gespeichert: die Angaben werden sichtbar, sobald die "
                    "Koordination sie freigibt.",
                    "ok",
                )
                return redirect(url_for("editing.proposals_list"))
            flash(f"„{provider.name}“ gespeichert.", "ok")
            return redirect(url_for("editing.provider_edit", provider_id=provider.id))
    return (
        render_template(
            "editing/provider_form.html",
            provider=provider,
            raw=raw,
            errors=errors,
            kinds=[(kind, PROVIDER_KINDS_DE.get(kind, kind)) for kind in PROVIDER_KINDS],
        ),
        400 if errors else 200,
    )


@bp.get("/providers/<int:provider_id>/history")
def provider_history(provider_id: int) -> str:
    provider = _provider(provider_id)
    require(actor(), "history.view", provider.id)
    return history_page(
        "provider", provider.id, f"Anbieter: {provider.name}", "provider_id", "zum Anbieter"
    )


@bp.post("/providers/<int:provider_id>/restore/<int:revision_id>")
def provider_restore(provider_id: int, revision_id: int) -> BaseResponse:
    return restore_and_report(
        lambda: restore_provider(get_session(), actor(), _provider(provider_id), revision_id),
        url_for("editing.provider_history", provider_id=provider_id),
        lambda provider: f"„{provider.name}“: Stand von Revision {revision_id} wiederhergestellt.",
    )


@bp.post("/providers/<int:provider_id>/trusted")
def provider_trusted(provider_id: int) -> BaseResponse:
    session = get_session()
    provider = _provider(provider_id)
    save_provider(session, actor(), provider, {"trusted": request.form.get("trusted") == "1"})
    session.commit()
    state = "vertrauenswürdig" if provider.trusted else "mit Freigabe"
    flash(f"„{provider.name}“: Änderungen jetzt {state}.", "ok")
    return redirect(request.referrer or url_for("editing.overdue"))
