"""Editing views: the offer list and the offer form, duplicate, end, confirm, history."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from werkzeug.wrappers import Response as BaseResponse

from mapservice import geocode
from mapservice.db import get_session
from mapservice.editing import freshness, listing, proposals
from mapservice.editing.offer_input import check_offer
from mapservice.editing.permissions import require
from mapservice.editing.restore import restore_offer
from mapservice.editing.service import (
    InvalidInput,
    Outcome,
    duplicate_offer,
    end_offer,
    save_offer,
)
from mapservice.editing.states import offer_state
from mapservice.models import OFFER_STATUSES, WHEELCHAIR_VALUES, Offer
from mapservice.taxonomy import categories
from mapservice.walking.profiles import settings_from_config
from mapservice.web.editing import actor, bp
from mapservice.web.editing.forms import (
    TRANSLATED,
    WEEKDAY_LABELS,
    WEEKDAYS,
    OfferForm,
    data_from_form,
    form_from_post,
    form_from_state,
    life_phases,
)
from mapservice.web.editing.history import history_page
from mapservice.web.editing.messages import german_errors

WHEELCHAIR_LABELS = {
    "yes": "ja",
    "limited": "eingeschränkt",
    "no": "nein",
    "unknown": "nicht bekannt",
}
STATUS_LABELS = {"active": "aktiv", "paused": "pausiert", "ended": "beendet"}
_HOUSE_NUMBER = re.compile(r"^(?P<street>.*?)\s+(?P<number>\d+\s*[a-zA-Z]?)$")


def overdue_months() -> int:
    return int(current_app.config.get("OVERDUE_MONTHS", freshness.DEFAULT_OVERDUE_MONTHS))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("/")
def index() -> str:
    session = get_session()
    query = listing.ListQuery(
        text=request.args.get("q", "")[:200],
        category=request.args.get("category", "")
        if request.args.get("category") in categories()
        else "",
        provider_id=_int_arg("provider"),
        status=request.args.get("status", "")
        if request.args.get("status") in OFFER_STATUSES
        else "",
        area_id=_int_arg("area"),
        needs_review=request.args.get("review") == "1",
        overdue=request.args.get("overdue") == "1",
        page=_int_arg("page") or 1,
    )
    page = listing.list_offers(session, actor(), query, overdue_months=overdue_months())
    chosen = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "editing/index.html",
        page=page,
        chosen=chosen,
        categories=categories(),
        statuses=STATUS_LABELS,
        providers=listing.providers(session) if actor().role != "provider" else [],
        areas=listing.areas(session),
        overdue=lambda offer: freshness.is_overdue(offer, overdue_months()),
        pending=proposals.pending_count(session) if actor().role != "provider" else None,
    )


def _offer(offer_id: int) -> Offer:
    offer = get_session().get(Offer, offer_id)
    if offer is None:
        abort(404)
    return offer


def _render_form(form: OfferForm, offer: Offer | None, status: int = 200, **extra: Any) -> Any:
    session = get_session()
    sites = listing.sites(session)
    min_months = _form_months(form, "age_min")
    max_months = _form_months(form, "age_max")
    return (
        render_template(
            "editing/offer_form.html",
            form=form,
            offer=offer,
            categories=categories(),
            statuses=STATUS_LABELS,
            wheelchair_labels=WHEELCHAIR_LABELS,
            wheelchair_values=WHEELCHAIR_VALUES,
            weekdays=list(zip(WEEKDAYS, WEEKDAY_LABELS, strict=True)),
            translated=TRANSLATED,
            sites=sites,
            site_points=[
                {"id": site.id, "name": site.name, "lat": point.y, "lon": point.x}
                for site in sites
                for point in [to_shape(site.geom)]
                if isinstance(point, Point)
            ],
            providers=listing.providers(session),
            phases=life_phases(min_months, max_months),
            pending=(
                proposals.visible_proposals(session, actor(), "pending", offer.id)
                if offer is not None
                else []
            ),
            **extra,
        ),
        status,
    )


def _form_months(form: OfferForm, prefix: str) -> int | None:
    years, rest = form.value(f"{prefix}_years"), form.value(f"{prefix}_rest")
    if (years or "0").isdigit() and (rest or "0").isdigit() and (years or rest):
        return int(years or 0) * 12 + int(rest or 0)
    return None


@bp.route("/offers/new", methods=["GET", "POST"])
def offer_new() -> Any:
    if request.method == "GET":
        form = form_from_state({"status": "active"})
        if actor().provider_id is not None:
            form.raw["provider_id"] = str(actor().provider_id)
        return _render_form(form, None)
    return _handle_post(None)


@bp.route("/offers/<int:offer_id>", methods=["GET", "POST"])
def offer_edit(offer_id: int) -> Any:
    offer = _offer(offer_id)
    require(actor(), "offer.edit", offer.provider_id)
    if request.method == "GET":
        wheelchair = offer.site.wheelchair if offer.site is not None else None
        return _render_form(form_from_state(offer_state(offer), wheelchair), offer)
    return _handle_post(offer)


def _handle_post(offer: Offer | None) -> Any:
    session = get_session()
    action = request.form.get("action", "save")
    form = form_from_post(request.form, add_row=action == "add_row")
    if action == "add_row":
        return _render_form(form, offer)
    if action == "find_address":
        places = geocode.search(session, form.value("address_query"))
        if not places:
            form.errors["address_query"] = (
                "Keine Adresse gefunden. Anders schreiben oder auf der Karte klicken."
            )
        return _render_form(form, offer, places=places)
    if action.startswith("pick:"):
        _pick_place(form, action.removeprefix("pick:"))
        return _render_form(form, offer)
    me = actor()
    data, errors = data_from_form(form, provider_fixed=me.role == "provider")
    if errors:
        # Every field's message at once: the domain's for the fields the form found fine.
        checked = check_offer(
            {key: value for key, value in data.items() if key not in errors},
            offer_state(offer) if offer is not None else None,
        )
        form.errors = german_errors(checked.errors) | errors
        return _render_form(form, offer, 400)
    try:
        outcome = save_offer(
            session, me, data, offer, walk=settings_from_config(current_app.config)
        )
    except InvalidInput as invalid:
        session.rollback()
        form.errors = german_errors(invalid.errors)
        return _render_form(form, offer, 400)
    session.commit()
    return _after_save(outcome)


def _pick_place(form: OfferForm, value: str) -> None:
    """Fill the new site's fields from an address search hit (``lat|lon|label``)."""
    parts = value.split("|", 2)
    if len(parts) != 3:
        return
    lat, lon, label = parts
    form.raw.update({"site_mode": "address", "site_lat": lat, "site_lon": lon})
    street_part, _, town = label.partition(",")
    found = _HOUSE_NUMBER.match(street_part.strip())
    form.raw["site_street"] = found["street"] if found else street_part.strip()
    form.raw["site_house_number"] = found["number"] if found else ""
    town = town.strip()
    if town[:5].isdigit():
        form.raw["site_postcode"], _, form.raw["site_city"] = town.partition(" ")
    elif town:
        form.raw["site_city"] = town
    form.raw.setdefault("site_city", "Dortmund")


def _after_save(outcome: Outcome) -> BaseResponse:
    if outcome.proposal is not None:
        flash(
            "Vorschlag gespeichert: er wird sichtbar, sobald die Koordination ihn freigibt.", "ok"
        )
        return redirect(url_for("editing.proposals_list"))
    assert outcome.offer is not None
    flash(f"„{outcome.offer.title}“ gespeichert.", "ok")
    return redirect(url_for("editing.offer_edit", offer_id=outcome.offer.id))


@bp.post("/offers/<int:offer_id>/duplicate")
def offer_duplicate(offer_id: int) -> BaseResponse:
    outcome = duplicate_offer(get_session(), actor(), _offer(offer_id))
    get_session().commit()
    return _after_save(outcome)


@bp.post("/offers/<int:offer_id>/end")
def offer_end(offer_id: int) -> BaseResponse:
    outcome = end_offer(get_session(), actor(), _offer(offer_id))
    get_session().commit()
    if outcome.live:
        flash(
            "Angebot beendet: es ist nicht mehr auf der Karte und bleibt in der Geschichte.", "ok"
        )
        return redirect(url_for("editing.offer_edit", offer_id=offer_id))
    return _after_save(outcome)


@bp.post("/offers/<int:offer_id>/confirm")
def offer_confirm(offer_id: int) -> BaseResponse:
    offer = _offer(offer_id)
    freshness.confirm(get_session(), actor(), [offer])
    get_session().commit()
    flash(f"„{offer.title}“: als noch richtig bestätigt.", "ok")
    return redirect(request.referrer or url_for("editing.index"))


@bp.get("/offers/<int:offer_id>/history")
def offer_history(offer_id: int) -> str:
    offer = _offer(offer_id)
    require(actor(), "history.view", offer.provider_id)
    return history_page("offer", offer.id, offer.title, "offer_id", "zum Angebot")


@bp.post("/offers/<int:offer_id>/restore/<int:revision_id>")
def offer_restore(offer_id: int, revision_id: int) -> BaseResponse:
    offer = restore_offer(get_session(), actor(), _offer(offer_id), revision_id)
    get_session().commit()
    flash(f"„{offer.title}“: Stand von Revision {revision_id} wiederhergestellt.", "ok")
    return redirect(url_for("editing.offer_history", offer_id=offer_id))
