"""Providers' proposals: an editor approves one (it goes live) or declines it with a reason.

A provider account sees its own provider's proposals only; planners and outreach workers
see none. An approved proposal is applied as a revision whose author names both accounts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from mapservice.editing.permissions import Actor, EditingError, require
from mapservice.editing.service import apply_values
from mapservice.models import Offer, Proposal, Site
from mapservice.walking.profiles import WalkSettings


def visible_proposals(
    session: Session, actor: Actor, status: str | None = None, offer_id: int | None = None
) -> list[Proposal]:
    """The proposals ``actor`` may see, newest first (a provider: its own provider's)."""
    if actor.role == "provider":
        require(actor, "proposal.view", actor.provider_id)
    else:
        require(actor, "proposal.review")
    query = (
        select(Proposal)
        .options(joinedload(Proposal.provider), joinedload(Proposal.offer))
        .order_by(Proposal.id.desc())
    )
    if actor.role == "provider":
        query = query.where(Proposal.provider_id == actor.provider_id)
    if status is not None:
        query = query.where(Proposal.status == status)
    if offer_id is not None:
        query = query.where(Proposal.offer_id == offer_id)
    return list(session.scalars(query))


def pending_count(session: Session) -> int:
    return len(list(session.scalars(select(Proposal.id).where(Proposal.status == "pending"))))


def _decide(proposal: Proposal, actor: Actor, status: str) -> None:
    require(actor, "proposal.review")
    if proposal.status != "pending":
        raise EditingError(f"the proposal was {proposal.status} already")
    proposal.status = status
    proposal.decided_by = actor.name
    proposal.decided_at = dt.datetime.now(dt.UTC)


def approve(
    session: Session, actor: Actor, proposal: Proposal, *, walk: WalkSettings | None = None
) -> Offer:
    """Put the proposal live; the offer it created or changed."""
    _decide(proposal, actor, "approved")
    values = dict(proposal.data)
    if "site_id" in values and session.get(Site, values["site_id"]) is None:
        raise EditingError("the proposal's site no longer exists; decline it")
    author = f"{proposal.author} (freigegeben von {actor.name})"
    offer = apply_values(session, values, proposal.offer, author, walk=walk)
    proposal.offer = offer
    session.flush()
    return offer


def decline(session: Session, actor: Actor, proposal: Proposal, reason: str) -> None:
    """Decline with a reason the provider reads."""
    reason = reason.strip()
    if not reason:
        raise EditingError("a declined proposal needs a reason for the provider")
    _decide(proposal, actor, "declined")
    proposal.reason = reason[:2000]
    session.flush()
