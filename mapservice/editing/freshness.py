"""Freshness: when an offer was last checked, which are overdue, and "still correct".

An offer is overdue when it was never checked or last checked more than
``MAPSERVICE_OVERDUE_MONTHS`` months ago (default 6); ended offers are never overdue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, joinedload

from mapservice.editing import revisions
from mapservice.editing.permissions import Actor, require
from mapservice.models import Offer, Provider

DEFAULT_OVERDUE_MONTHS = 6


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the month's last day if shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def overdue_since(months: int, today: dt.date | None = None) -> dt.date:
    """Offers last checked before this day are overdue."""
    return months_before(today or dt.date.today(), months)


def is_overdue(offer: Offer, months: int, today: dt.date | None = None) -> bool:
    if offer.status == "ended":
        return False
    return offer.last_verified is None or offer.last_verified < overdue_since(months, today)


def overdue_condition(months: int, today: dt.date | None = None) -> ColumnElement[bool]:
    return and_(
        Offer.status != "ended",
        or_(Offer.last_verified.is_(None), Offer.last_verified < overdue_since(months, today)),
    )


@dataclass(frozen=True)
class ProviderOverdue:
    provider: Provider | None  # None: offers without a provider
    offers: list[Offer]


def overdue_by_provider(
    session: Session, actor: Actor, months: int, today: dt.date | None = None
) -> list[ProviderOverdue]:
    """Overdue offers grouped by provider (a provider account: its own only)."""
    query = (
        select(Offer)
        .where(overdue_condition(months, today))
        .options(joinedload(Offer.provider), joinedload(Offer.site))
        .order_by(Offer.provider_id.nulls_last(), Offer.last_verified.nulls_first(), Offer.title)
    )
    if actor.role == "provider":
        require(actor, "offer.confirm", actor.provider_id)
        query = query.where(Offer.provider_id == actor.provider_id)
    else:
        require(actor, "proposal.review")
    groups: dict[int | None, ProviderOverdue] = {}
    for offer in session.scalars(query):
        group = groups.setdefault(offer.provider_id, ProviderOverdue(offer.provider, []))
        group.offers.append(offer)
    return list(groups.values())


def confirm(
    session: Session, actor: Actor, offers: Iterable[Offer], today: dt.date | None = None
) -> int:
    """Mark offers as checked today without changing anything else ("still correct").

    Goes live at once for providers too: it confirms what editors already approved.
    Returns how many offers were confirmed.
    """
    day = today or dt.date.today()
    count = 0
    changes: list[revisions.Change] = []
    for offer in offers:
        require(actor, "offer.confirm", offer.provider_id)
        old = offer.last_verified
        offer.last_verified = day
        count += 1
        if old != day:
            changes.append(
                revisions.Change(
                    "offer",
                    offer.id,
                    "update",
                    {"last_verified": [old.isoformat() if old else None, day.isoformat()]},
                )
            )
    session.flush()
    revisions.record_many(session, actor.name, changes)
    return count


def provider_offers(session: Session, provider_id: int) -> list[Offer]:
    """A provider's offers that are not ended (for "all still correct")."""
    return list(
        session.scalars(
            select(Offer).where(Offer.provider_id == provider_id, Offer.status != "ended")
        )
    )
