"""The staff list of offers: search, filters and pages, for a whole city (900+ offers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from mapservice.editing.freshness import overdue_condition
from mapservice.editing.permissions import Actor, require
from mapservice.models import Area, Offer, Proposal, Provider, Site

PER_PAGE = 50


@dataclass(frozen=True)
class ListQuery:
    """Empty fields do not filter. ``page`` counts from 1."""

    text: str = ""
    category: str = ""
    provider_id: int | None = None
    status: str = ""
    area_id: int | None = None
    needs_review: bool = False
    overdue: bool = False
    page: int = 1


@dataclass(frozen=True)
class OfferPage:
    offers: list[Offer]
    total: int
    page: int
    pages: int
    pending: set[int]  # ids of listed offers with a proposal waiting


def _filtered(query: ListQuery, actor: Actor, months: int, today: dt.date | None) -> Select:
    statement = select(Offer)
    if actor.role == "provider":
        require(actor, "offer.edit", actor.provider_id)
        statement = statement.where(Offer.provider_id == actor.provider_id)
    else:
        require(actor, "proposal.review")
        if query.provider_id is not None:
            statement = statement.where(Offer.provider_id == query.provider_id)
    if query.text.strip():
        pattern = f"%{query.text.strip()}%"
        statement = statement.where(
            or_(
                Offer.title.ilike(pattern),
                Offer.description.ilike(pattern),
                Offer.site.has(or_(Site.name.ilike(pattern), Site.street.ilike(pattern))),
                Offer.provider.has(Provider.name.ilike(pattern)),
            )
        )
    if query.category:
        statement = statement.where(Offer.category == query.category)
    if query.status:
        statement = statement.where(Offer.status == query.status)
    if query.area_id is not None:
        area = select(Area.geom).where(Area.id == query.area_id).scalar_subquery()
        statement = statement.where(Offer.site.has(func.ST_Intersects(Site.geom, area)))
    if query.needs_review:
        pending = select(Proposal.offer_id).where(Proposal.status == "pending")
        statement = statement.where(Offer.id.in_(pending))
    if query.overdue:
        statement = statement.where(overdue_condition(months, today))
    return statement


def list_offers(
    session: Session,
    actor: Actor,
    query: ListQuery,
    *,
    overdue_months: int,
    today: dt.date | None = None,
) -> OfferPage:
    statement = _filtered(query, actor, overdue_months, today)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, query.page), pages)
    offers = list(
        session.scalars(
            statement.options(joinedload(Offer.site), joinedload(Offer.provider))
            .order_by(Offer.title, Offer.id)
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    ids = [offer.id for offer in offers]
    pending = set(
        session.scalars(
            select(Proposal.offer_id).where(
                Proposal.status == "pending", Proposal.offer_id.in_(ids)
            )
        )
    )
    return OfferPage(offers, total, page, pages, {i for i in pending if i is not None})


def providers(session: Session) -> list[Provider]:
    return list(session.scalars(select(Provider).order_by(Provider.name)))


def areas(session: Session) -> list[Area]:
    return list(
        session.scalars(
            select(Area).where(Area.kind.in_(("quarter", "subdistrict"))).order_by(Area.name)
        )
    )


def sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.name, Site.id)))
