"""Editing views: proposals and their review, overdue lists, sites, trusted providers."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from mapservice.db import get_session
from mapservice.editing import freshness, proposals
from mapservice.editing.permissions import EditingError, require
from mapservice.editing.service import save_provider, save_site
from mapservice.editing.states import offer_state, site_state
from mapservice.importers import records
from mapservice.importers.records import RowInvalid
from mapservice.models import WHEELCHAIR_VALUES, Proposal, Provider, Site
from mapservice.walking.profiles import settings_from_config
from mapservice.web.editing import actor, bp
from mapservice.web.editing.offers import WHEELCHAIR_LABELS, overdue_months


@bp.get("/proposals")
def proposals_list() -> str:
    status = request.args.get("status") or ("pending" if actor().role != "provider" else None)
    shown = proposals.visible_proposals(get_session(), actor(), status)
    return render_template("editing/proposals.html", proposals=shown, status=status)


def _proposal(proposal_id: int) -> Proposal:
    found = get_session().get(Proposal, proposal_id)
    if found is None:
        abort(404)
    if actor().role == "provider":
        require(actor(), "proposal.view", found.provider_id)
    else:
        require(actor(), "proposal.review")
    return found


@bp.get("/proposals/<int:proposal_id>")
def proposal_view(proposal_id: int) -> str:
    proposal = _proposal(proposal_id)
    current = offer_state(proposal.offer) if proposal.offer is not None else {}
    rows = [(key, current.get(key), value) for key, value in proposal.data.items()]
    return render_template("editing/proposal.html", proposal=proposal, rows=rows)


@bp.post("/proposals/<int:proposal_id>")
def proposal_decide(proposal_id: int) -> Any:
    session = get_session()
    proposal = _proposal(proposal_id)
    try:
        if request.form.get("decision") == "approve":
            offer = proposals.approve(
                session, actor(), proposal, walk=settings_from_config(current_app.config)
            )
            message = f"Freigegeben: „{offer.title}“ ist jetzt öffentlich."
        else:
            proposals.decline(session, actor(), proposal, request.form.get("reason", ""))
            message = "Abgelehnt; der Anbieter sieht die Begründung."
    except EditingError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("editing.proposal_view", proposal_id=proposal_id))
    session.commit()
    flash(message, "ok")
    return redirect(url_for("editing.proposals_list"))


@bp.get("/overdue")
def overdue() -> str:
    groups = freshness.overdue_by_provider(get_session(), actor(), overdue_months())
    return render_template("editing/overdue.html", groups=groups, months=overdue_months())


@bp.post("/confirm-all")
def confirm_all() -> BaseResponse:
    me = actor()
    require(me, "offer.confirm", me.provider_id)
    assert me.provider_id is not None
    session = get_session()
    count = freshness.confirm(session, me, freshness.provider_offers(session, me.provider_id))
    session.commit()
    flash(f"{count} Angebote als noch richtig bestätigt.", "ok")
    return redirect(url_for("editing.overdue"))


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
            errors[key] = str(exc)
    try:
        lon, lat = records.coordinates(raw.get("lon"), raw.get("lat"))
        values["location"] = [round(lon, 7), round(lat, 7)]
    except RowInvalid as exc:
        errors["location"] = str(exc)
    return values


@bp.post("/providers/<int:provider_id>/trusted")
def provider_trusted(provider_id: int) -> BaseResponse:
    session = get_session()
    provider = session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    save_provider(session, actor(), provider, {"trusted": request.form.get("trusted") == "1"})
    session.commit()
    state = "vertrauenswürdig" if provider.trusted else "mit Freigabe"
    flash(f"„{provider.name}“: Änderungen jetzt {state}.", "ok")
    return redirect(request.referrer or url_for("editing.overdue"))
