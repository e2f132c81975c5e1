"""Restoring an offer, a site or a provider as it was after an earlier revision.

Editors only. A restore writes back the fields that differ from now, as a revision of its
own (``restore``), so it can itself be undone. Restoring a site's position recomputes its
walking times in the same transaction, as moving it does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mapservice.editing import revisions
from mapservice.editing.permissions import Actor, EditingError, NotFound, require
from mapservice.editing.provider_details import apply_provider_values, check_provider
from mapservice.editing.service import apply_values, change_site
from mapservice.editing.states import State, offer_state, provider_state, site_state
from mapservice.models import Offer, Provider, Site
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings

# Kept as they are now: when it was last checked is not a state to go back to.
_KEPT = frozenset({"last_verified", "is_example"})


def _earlier(
    session: Session, entity: str, entity_id: int, current: State, revision_id: int
) -> dict[str, Any]:
    """The fields that differ between now and right after ``revision_id``."""
    history = revisions.history(session, entity, entity_id)
    try:
        state = revisions.state_after(current, history, revision_id)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    return {
        key: value for key, value in state.items() if key not in _KEPT and current.get(key) != value
    }


def restore_offer(session: Session, actor: Actor, offer: Offer, revision_id: int) -> Offer:
    """Write back the offer as it was after ``revision_id`` (a new revision)."""
    require(actor, "offer.restore", offer.provider_id)
    values = _earlier(session, "offer", offer.id, offer_state(offer), revision_id)
    if values.get("site_id") is not None and session.get(Site, values["site_id"]) is None:
        raise EditingError("the site of that revision no longer exists")
    return apply_values(session, values, offer, actor.name, action="restore", checked=False)


def restore_site(
    session: Session,
    actor: Actor,
    site: Site,
    revision_id: int,
    *,
    walk: WalkSettings | None = None,
) -> Site:
    """Write back the site as it was after ``revision_id``; a move back recomputes its
    walking times at once."""
    require(actor, "site.restore")
    values = _earlier(session, "site", site.id, site_state(site), revision_id)
    if values.get("location", "") is None:
        raise EditingError("that revision has no position of the site")
    if change_site(session, site, values, actor.name, action="restore"):
        refresh_reach(session, walk, site_ids=[site.id])
    return site


def restore_provider(
    session: Session, actor: Actor, provider: Provider, revision_id: int
) -> Provider:
    """Write back the provider's details as they were after ``revision_id``."""
    require(actor, "provider.restore")
    values = _earlier(session, "provider", provider.id, provider_state(provider), revision_id)
    _values, errors = check_provider(session, values, provider)
    if errors:
        raise EditingError("; ".join(errors.values()))
    return apply_provider_values(session, provider, values, actor.name, "restore")
