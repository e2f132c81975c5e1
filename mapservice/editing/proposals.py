"""Providers' proposals: an editor approves one (it goes live) or declines it with a reason.

A provider account sees its own provider's proposals only; planners and outreach workers
see none. An approved proposal is applied as a revision whose author names both accounts.

A proposal is made against a version of the record (``base_revision_id``). When the record
changed since (another revision, other than a bare "still correct"), approving must not
overwrite that silently: :func:`approve` raises :class:`ProposalConflict` with what changed,
unless the editor confirms the version they looked at (``confirm_etag``, the record's ETag
now) — and may then approve only some of the proposed fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from mapservice.editing import revisions
from mapservice.editing.permissions import Actor, EditingError, require
from mapservice.editing.provider_details import apply_provider_values, check_provider
from mapservice.editing.service import apply_values
from mapservice.editing.states import offer_etag, provider_etag
from mapservice.models import Offer, Proposal, Provider, Revision, Site
from mapservice.walking.profiles import WalkSettings

# Changed by "still correct" alone: not a change of what a proposal is about.
_NOT_CONFLICTING = frozenset({"last_verified"})


@dataclass(frozen=True)
class Since:
    """One revision written after the proposal was made."""

    revision: Revision
    changes: dict[str, list[Any]]  # only the fields that matter
    overlapping: frozenset[str]  # fields the proposal would set too


class ProposalConflict(EditingError):
    """The record changed since the proposal was made; ``since`` says how, ``etag`` is the
    record's version now (send it back as ``confirm_etag`` to approve over it)."""

    def __init__(self, since: list[Since], etag: str) -> None:
        self.since = since
        self.etag = etag
        fields = sorted({name for item in since for name in item.changes})
        super().__init__(
            "the record was changed since the proposal was made "
            f"({', '.join(fields)}); look at the changes and approve again with confirm_etag"
        )


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
    return session.scalar(select(func.count(Proposal.id)).where(Proposal.status == "pending")) or 0


def current_etag(proposal: Proposal) -> str | None:
    """The version of the record the proposal changes, now (None: a new offer)."""
    if proposal.entity == "provider":
        return provider_etag(proposal.provider)
    return offer_etag(proposal.offer) if proposal.offer is not None else None


def changes_since(session: Session, proposal: Proposal) -> list[Since]:
    """What changed in the record since the proposal was made, oldest first."""
    if proposal.entity == "provider":
        found = revisions.since(
            session, "provider", proposal.provider_id, proposal.base_revision_id
        )
    elif proposal.offer is not None:
        found = revisions.since(session, "offer", proposal.offer.id, proposal.base_revision_id)
        site = proposal.offer.site
        if "wheelchair" in proposal.data and site is not None:
            # Wheelchair access is the site's: a change there is one the proposal overwrites.
            found += [
                revision
                for revision in revisions.since(session, "site", site.id, proposal.base_revision_id)
                if "wheelchair" in revision.changes
            ]
    else:
        return []
    proposed = set(proposal.data)
    result = []
    for revision in sorted(found, key=lambda r: r.id):
        changes = {
            name: pair
            for name, pair in revision.changes.items()
            if name not in _NOT_CONFLICTING and (revision.entity != "site" or name == "wheelchair")
        }
        if changes:
            result.append(Since(revision, changes, frozenset(changes) & proposed))
    return result


def _check_pending(proposal: Proposal, actor: Actor) -> None:
    require(actor, "proposal.review")
    if proposal.status != "pending":
        raise EditingError(f"the proposal was {proposal.status} already")


def _decide(proposal: Proposal, actor: Actor, status: str) -> None:
    proposal.status = status
    proposal.decided_by = actor.name
    proposal.decided_at = dt.datetime.now(dt.UTC)


def approve(
    session: Session,
    actor: Actor,
    proposal: Proposal,
    *,
    walk: WalkSettings | None = None,
    confirm_etag: str | None = None,
    fields: Collection[str] | None = None,
) -> Offer | Provider:
    """Put the proposal live; the offer (or provider) it created or changed.

    Raises :class:`ProposalConflict` when the record changed since the proposal was made
    and ``confirm_etag`` is not its version now. ``fields``: approve only these of the
    proposed fields (the rest is left as it is live).
    """
    _check_pending(proposal, actor)
    since = changes_since(session, proposal)
    if since:
        etag = current_etag(proposal)
        assert etag is not None
        if confirm_etag is None or confirm_etag.strip().removeprefix("W/").strip('"') != etag:
            raise ProposalConflict(since, etag)
    values = dict(proposal.data)
    if fields is not None:
        unknown = set(fields) - set(values)
        if unknown:
            raise EditingError(f"not proposed: {', '.join(sorted(unknown))}")
        values = {key: value for key, value in values.items() if key in fields}
        if not values:
            raise EditingError("no field chosen; decline the proposal instead")
    if proposal.entity == "provider":
        _fine, errors = check_provider(session, values, proposal.provider)
        if errors:
            raise EditingError("; ".join(errors.values()))
        _decide(proposal, actor, "approved")
        author = f"{proposal.author} (freigegeben von {actor.name})"
        return apply_provider_values(session, proposal.provider, values, author, "update")
    if "site_id" in values and session.get(Site, values["site_id"]) is None:
        raise EditingError("the proposal's site no longer exists; decline it")
    if proposal.offer is not None:
        # Fields approved over changes made since must still fit together (the age range).
        low = values.get("age_min_months", proposal.offer.age_min_months)
        high = values.get("age_max_months", proposal.offer.age_max_months)
        if low is not None and high is not None and low >= high:
            raise EditingError(
                f"the age range would be {low}-{high} months; approve both ages or decline it"
            )
    _decide(proposal, actor, "approved")
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
    _check_pending(proposal, actor)
    _decide(proposal, actor, "declined")
    proposal.reason = reason[:2000]
    session.flush()
