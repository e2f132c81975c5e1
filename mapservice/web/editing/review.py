"""Editing views: proposals and their review (also against a record changed since), overdue
lists and "still correct"."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from mapservice.db import get_session
from mapservice.editing import freshness, proposals
from mapservice.editing.permissions import EditingError, Forbidden, require
from mapservice.editing.states import offer_state, provider_state
from mapservice.models import Proposal, Provider
from mapservice.walking.profiles import settings_from_config
from mapservice.web.editing import actor, bp
from mapservice.web.editing.messages import LABELS
from mapservice.web.editing.offers import overdue_months


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


def _live_state(proposal: Proposal) -> dict[str, Any]:
    """The record as it is public now (empty for a new offer)."""
    if proposal.entity == "provider":
        return provider_state(proposal.provider)
    if proposal.offer is None:
        return {}
    state = offer_state(proposal.offer)
    state["wheelchair"] = proposal.offer.site.wheelchair if proposal.offer.site else None
    return state


@bp.get("/proposals/<int:proposal_id>")
def proposal_view(proposal_id: int) -> str:
    proposal = _proposal(proposal_id)
    current = _live_state(proposal)
    pending = proposal.status == "pending"
    since = proposals.changes_since(get_session(), proposal) if pending else []
    changed = {name for item in since for name in item.overlapping}
    rows = [(key, current.get(key), value, key in changed) for key, value in proposal.data.items()]
    return render_template(
        "editing/proposal.html",
        proposal=proposal,
        rows=rows,
        since=since,
        etag=proposals.current_etag(proposal) if since else None,
    )


_GERMAN_REFUSALS = (
    ("no field chosen", "Kein Feld ausgewählt. Zum Ablehnen bitte „Ablehnen“ nutzen."),
    ("needs a reason", "Zum Ablehnen bitte eine Begründung für den Anbieter schreiben."),
    ("already", "Über diesen Vorschlag wurde schon entschieden."),
    ("site no longer exists", "Den Ort des Vorschlags gibt es nicht mehr: bitte ablehnen."),
    (
        "age range would be",
        "So passt das Alter nicht zusammen („bis unter“ wäre nicht höher als „von“): "
        "beide Altersfelder freigeben oder ablehnen.",
    ),
    ("not proposed", "Nur vorgeschlagene Felder können freigegeben werden."),
)


def _refusal(error: EditingError) -> str:
    if isinstance(error, proposals.ProposalConflict):
        fields = sorted({LABELS.get(n, n) for item in error.since for n in item.changes})
        return (
            "Nicht freigegeben: der Eintrag wurde seit dem Vorschlag geändert "
            f"({', '.join(fields)}). Bitte die Änderungen unten ansehen und dann bewusst "
            "entscheiden: die gewählten Felder freigeben oder den Vorschlag ablehnen."
        )
    for needle, text in _GERMAN_REFUSALS:
        if needle in str(error):
            return text
    return f"Nicht möglich: {error}"


@bp.post("/proposals/<int:proposal_id>")
def proposal_decide(proposal_id: int) -> Any:
    session = get_session()
    proposal = _proposal(proposal_id)
    decision = request.form.get("decision")
    try:
        if decision == "approve":
            fields = request.form.getlist("field") if request.form.get("choose") else None
            record = proposals.approve(
                session,
                actor(),
                proposal,
                walk=settings_from_config(current_app.config),
                confirm_etag=request.form.get("confirm_etag") or None,
                fields=fields,
            )
            name = record.name if isinstance(record, Provider) else record.title
            message = f"Freigegeben: „{name}“ ist jetzt öffentlich."
        else:
            reason = request.form.get("reason", "")
            if decision == "decline_changed" and not reason.strip():
                reason = (
                    "Der Eintrag wurde inzwischen geändert. Bitte den aktuellen Stand "
                    "ansehen und die Änderung neu vorschlagen."
                )
            proposals.decline(session, actor(), proposal, reason)
            message = "Abgelehnt; der Anbieter sieht die Begründung."
    except Forbidden:
        raise
    except EditingError as error:
        session.rollback()
        flash(_refusal(error), "error")
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
