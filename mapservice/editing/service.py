"""Saving offers, sites and providers by hand (forms and the write API).

Every function checks the actor's permission first, writes a revision for each record it
changes, and leaves committing to the caller. A provider account that is not trusted does
not change offers: its save becomes a :class:`~mapservice.models.Proposal` (see
:mod:`mapservice.editing.proposals`), so nothing of it is public before an editor approves.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.editing import revisions
from mapservice.editing.offer_input import OfferInput, check_offer
from mapservice.editing.permissions import Actor, EditingError, Forbidden, require
from mapservice.editing.states import (
    PROVIDER_FIELDS,
    diff,
    offer_etag,
    offer_state,
    provider_state,
    site_state,
)
from mapservice.models import WGS84, Offer, Proposal, Provider, ScheduleSlot, Site
from mapservice.taxonomy import FACT_FIELDS
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings

EDITING_SOURCE = "editing"  # source_dataset of offers and sites made by hand
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class InvalidInput(EditingError):
    """Some fields are bad; ``errors`` maps each to its message. Nothing was written."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {value}" for key, value in self.errors.items()))


class Stale(EditingError):
    """The offer changed since the client read it (its ETag differs)."""


@dataclass(frozen=True)
class Outcome:
    """What a save did: changed the live ``offer``, or filed a ``proposal`` for review."""

    offer: Offer | None
    proposal: Proposal | None = None

    @property
    def live(self) -> bool:
        return self.proposal is None


def site_owner(session: Session, site: Site) -> int | None:
    """The provider whose offers alone are at ``site`` (None when shared or empty)."""
    owners = set(session.scalars(select(Offer.provider_id).where(Offer.site_id == site.id)))
    return owners.pop() if len(owners) == 1 else None


def save_offer(
    session: Session,
    actor: Actor,
    data: Mapping[str, Any],
    offer: Offer | None = None,
    *,
    if_match: str | None = None,
    walk: WalkSettings | None = None,
    today: dt.date | None = None,
    checked: bool = True,
) -> Outcome:
    """Create (``offer`` None) or change an offer from form or API ``data``.

    ``checked``: the person looked at the whole offer, so it counts as checked today (not
    so for a bare status change or ending).

    Raises :class:`Forbidden`, :class:`InvalidInput` (nothing written), :class:`Stale`.
    """
    if offer is not None:
        require(actor, "offer.edit", offer.provider_id)
        if if_match is not None and if_match.strip('"') != offer_etag(offer):
            raise Stale("the offer was changed since it was read")
    else:
        require(actor, "offer.create", _provider_of_new(actor, data))
    given = check_offer(data, offer_state(offer) if offer is not None else None)
    _check_references(session, actor, given, offer)
    if not given.ok:
        raise InvalidInput(given.errors)
    values = given.values
    if (
        offer is not None
        and offer.site is not None
        and values.get("wheelchair") == (offer.site.wheelchair)
    ):
        del values["wheelchair"]
    if offer is not None and not values:
        return Outcome(offer)  # sent back unchanged: nothing to write or to review
    if actor.role == "provider" and offer is None:
        values.setdefault("provider_id", actor.provider_id)
    if actor.reviewed:
        provider_id = offer.provider_id if offer is not None else actor.provider_id
        assert provider_id is not None
        proposal = Proposal(
            offer_id=offer.id if offer is not None else None,
            provider_id=provider_id,
            author=actor.name,
            data=values,
            base_etag=offer_etag(offer) if offer is not None else None,
            base_revision_id=revisions.latest_id(session),
            status="pending",
        )
        session.add(proposal)
        session.flush()
        return Outcome(offer, proposal)
    return Outcome(
        apply_values(session, values, offer, actor.name, walk=walk, today=today, checked=checked)
    )


def _provider_of_new(actor: Actor, data: Mapping[str, Any]) -> int | None:
    if actor.role == "provider":
        return actor.provider_id
    value = data.get("provider_id")
    return value if isinstance(value, int) else None


def _check_references(
    session: Session, actor: Actor, checked: OfferInput, offer: Offer | None
) -> None:
    """Site and provider must exist; a provider account keeps to its own provider and sites."""
    values, errors = checked.values, checked.errors
    if "site_id" in values and session.get(Site, values["site_id"]) is None:
        errors["site_id"] = f"no site with id {values['site_id']}"
    if (
        values.get("provider_id") is not None
        and session.get(Provider, values["provider_id"]) is None
    ):
        errors["provider_id"] = f"no provider with id {values['provider_id']}"
    if actor.role != "provider":
        return
    if "provider_id" in values and values["provider_id"] != actor.provider_id:
        errors["provider_id"] = "a provider account keeps its offers with its own provider"
    if "wheelchair" in values:
        site_id = values.get("site_id", offer.site_id if offer is not None else None)
        site = session.get(Site, site_id) if site_id is not None else None
        shared = site is not None and site_owner(session, site) != actor.provider_id
        if site is not None and site.wheelchair != values["wheelchair"] and shared:
            errors["wheelchair"] = "this site is shared with other providers; ask an editor"


def apply_values(
    session: Session,
    values: Mapping[str, Any],
    offer: Offer | None,
    author: str,
    *,
    action: str | None = None,
    walk: WalkSettings | None = None,
    today: dt.date | None = None,
    checked: bool = True,
) -> Offer:
    """Write checked ``values`` to ``offer`` (a new one when None) with revisions.

    A person saving an offer has looked at it, so it counts as checked ``today``.
    """
    created = offer is None
    # Sites first: writing a site flushes, and a new offer must not be flushed half-made.
    site, moved = _site_for(session, values, offer, author)
    if offer is None:
        offer = Offer(
            source_dataset=EDITING_SOURCE,
            source_id=uuid.uuid4().hex,
            status="active",
            languages=[],
            translations={},
            cost_free=None,  # not known until someone says
            registration_required=None,
            no_school_holidays=False,
            is_example=False,
        )
        before: dict[str, Any] = {}
    else:
        before = offer_state(offer)
    with session.no_autoflush:
        if site is not None:
            offer.site = site
        for name, value in values.items():
            if name in ("new_site", "site_id", "wheelchair"):
                continue
            if name == "schedule":
                offer.schedule = [_slot(row) for row in value]
            elif name == "provider_id":
                offer.provider = session.get(Provider, value) if value is not None else None
            else:
                if name in FACT_FIELDS and value != getattr(offer, name):
                    # An editor's word replaces the category's general rule.
                    offer.taxonomy_facts = [f for f in offer.taxonomy_facts or [] if f != name]
                setattr(offer, name, value)
        if checked or created:
            offer.last_verified = today or dt.date.today()
        session.add(offer)
    session.flush()
    session.refresh(offer)
    changes = diff(before, offer_state(offer))
    kind = action or ("create" if created else "update")
    revisions.record(session, "offer", offer.id, author, changes, kind)
    if moved:
        refresh_reach(session, walk, site_ids=moved)
    return offer


def _site_for(
    session: Session, values: Mapping[str, Any], offer: Offer | None, author: str
) -> tuple[Site | None, list[int]]:
    """The site ``values`` choose (None: keep the offer's), after creating a new one or
    changing its wheelchair access; and the ids of sites whose walking times to compute."""
    if "new_site" in values:
        made = create_site(session, values["new_site"], author, values.get("wheelchair"))
        return made, [made.id]
    site = session.get(Site, values["site_id"]) if "site_id" in values else None
    target = site or (offer.site if offer is not None else None)
    if "wheelchair" in values and target is not None:
        change_site(session, target, {"wheelchair": values["wheelchair"]}, author)
    return site, []


def _slot(row: Mapping[str, Any]) -> ScheduleSlot:
    return ScheduleSlot(
        weekday=WEEKDAYS.index(row["weekday"]),
        start_time=dt.time.fromisoformat(row["start"]),
        end_time=dt.time.fromisoformat(row["end"]),
        valid_from=dt.date.fromisoformat(row["valid_from"]) if row.get("valid_from") else None,
        valid_to=dt.date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
    )


def create_site(
    session: Session, data: Mapping[str, Any], author: str, wheelchair: str | None = None
) -> Site:
    """A new site from checked ``new_site`` values; its walking times are the caller's."""
    site = Site(
        name=data["name"],
        street=data.get("street"),
        house_number=data.get("house_number"),
        postcode=data.get("postcode"),
        city=data.get("city"),
        geom=from_shape(Point(data["lon"], data["lat"]), srid=WGS84),
        wheelchair=wheelchair or "unknown",
        is_anchor=False,
        location_approximate=False,
        source_dataset=EDITING_SOURCE,
        source_id=uuid.uuid4().hex,
    )
    session.add(site)
    session.flush()
    created = {key: [None, value] for key, value in site_state(site).items() if value is not None}
    revisions.record(session, "site", site.id, author, created, "create")
    return site


def change_site(
    session: Session,
    site: Site,
    values: Mapping[str, Any],
    author: str,
    action: str = "update",
) -> bool:
    """Set site fields (``location`` as ``[lon, lat]``) with a revision; whether it moved."""
    before = site_state(site)
    for name, value in values.items():
        if name == "location":
            site.geom = from_shape(Point(value[0], value[1]), srid=WGS84)
        else:
            setattr(site, name, value)
    session.flush()
    session.refresh(site)
    changes = diff(before, site_state(site))
    revisions.record(session, "site", site.id, author, changes, action)
    return "location" in changes


def save_site(
    session: Session,
    actor: Actor,
    site: Site,
    values: Mapping[str, Any],
    *,
    walk: WalkSettings | None = None,
) -> Site:
    """Change a site's name, address, wheelchair access or position (``location``).

    Moving it recomputes its walking times in the same transaction. Editors may change any
    site; a trusted provider only a site where all offers are its own.
    """
    require(actor, "site.edit", site_owner(session, site))
    if actor.reviewed:
        raise Forbidden("a provider's change of a site goes through a proposal of an offer")
    if change_site(session, site, values, actor.name):
        refresh_reach(session, walk, site_ids=[site.id])
    return site


def end_offer(
    session: Session, actor: Actor, offer: Offer, *, if_match: str | None = None
) -> Outcome:
    """End an offer: off the public map, kept with its history (never deleted)."""
    require(actor, "offer.end", offer.provider_id)
    return save_offer(session, actor, {"status": "ended"}, offer, if_match=if_match, checked=False)


def duplicate_offer(session: Session, actor: Actor, offer: Offer) -> Outcome:
    """The same offer once more (to be moved to a second site or time); an example stays one."""
    data = {
        key: value
        for key, value in offer_state(offer).items()
        if key not in ("last_verified", "is_example")
    }
    data["title"] = f"{offer.title} (Kopie)"[:300]
    outcome = save_offer(session, actor, data)
    if outcome.offer is not None and offer.is_example:
        outcome.offer.is_example = True
    return outcome


def save_provider(
    session: Session, actor: Actor, provider: Provider, values: Mapping[str, Any]
) -> Provider:
    """Change a provider's fields (editors): name, kind, contact, website, ``trusted``."""
    require(actor, "provider.edit")
    before = provider_state(provider)
    for name, value in values.items():
        if name not in PROVIDER_FIELDS:
            raise InvalidInput({name: f"unknown field {name!r}"})
        setattr(provider, name, value)
    session.flush()
    revisions.record(
        session, "provider", provider.id, actor.name, diff(before, provider_state(provider))
    )
    return provider
