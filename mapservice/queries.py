"""Finding offers and sites, and turning them into GeoJSON. Free of Flask."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from mapservice.models import Area, Offer, ScheduleSlot, Site
from mapservice.taxonomy import categories
from mapservice.validation import (
    BBox,
    parse_age_months,
    parse_bbox,
    parse_categories,
    parse_flag,
    parse_languages,
)

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Parts of the day for "open on Tuesday morning": a slot counts if it overlaps the part.
DAYPARTS: dict[str, tuple[dt.time, dt.time]] = {
    "morning": (dt.time(6), dt.time(12)),
    "afternoon": (dt.time(12), dt.time(18)),
    "evening": (dt.time(18), dt.time(23, 59)),
}


@dataclass(frozen=True)
class OfferFilter:
    """What a family or a planner asks for. Empty fields do not filter."""

    age_months: int | None = None
    categories: tuple[str, ...] = ()
    bbox: BBox | None = None
    languages: tuple[str, ...] = ()
    free_only: bool = False
    weekday: int | None = None  # 0 = Monday
    daypart: str | None = None
    on_date: dt.date | None = None
    statuses: tuple[str, ...] = ("active",)
    site_ids: Sequence[int] | None = field(default=None)


def offer_conditions(criteria: OfferFilter) -> list[Any]:
    """SQL conditions on :class:`Offer` (joined with :class:`Site` where needed)."""
    conditions: list[Any] = []
    if criteria.statuses:
        conditions.append(Offer.status.in_(criteria.statuses))
    if criteria.age_months is not None:
        conditions.append(Offer.age_min_months <= criteria.age_months)
        conditions.append(Offer.age_max_months > criteria.age_months)
    if criteria.categories:
        conditions.append(Offer.category.in_(criteria.categories))
    if criteria.languages:
        conditions.append(Offer.languages.overlap(list(criteria.languages)))
    if criteria.free_only:
        # Only offers known to be free: "not known" (NULL) is not free.
        conditions.append(Offer.cost_free.is_(True))
    if criteria.site_ids is not None:
        conditions.append(Offer.site_id.in_(list(criteria.site_ids)))
    if criteria.bbox is not None:
        box = func.ST_MakeEnvelope(
            criteria.bbox.west, criteria.bbox.south, criteria.bbox.east, criteria.bbox.north, 4326
        )
        conditions.append(
            or_(
                Offer.site.has(func.ST_Intersects(Site.geom, box)),
                func.ST_Intersects(Offer.service_area, box),
            )
        )
    if criteria.weekday is not None or criteria.daypart is not None:
        conditions.append(Offer.schedule.any(_slot_conditions(criteria)))
    return conditions


def _slot_conditions(criteria: OfferFilter) -> Any:
    parts = []
    if criteria.weekday is not None:
        parts.append(ScheduleSlot.weekday == criteria.weekday)
    if criteria.daypart is not None:
        start, end = DAYPARTS[criteria.daypart]
        parts.append(and_(ScheduleSlot.start_time < end, ScheduleSlot.end_time > start))
    on = criteria.on_date or dt.date.today()
    parts.append(or_(ScheduleSlot.valid_from.is_(None), ScheduleSlot.valid_from <= on))
    parts.append(or_(ScheduleSlot.valid_to.is_(None), ScheduleSlot.valid_to >= on))
    return and_(*parts)


def offers_query(criteria: OfferFilter) -> Select[tuple[Offer]]:
    """Offers matching ``criteria`` with site, provider and schedule loaded."""
    return (
        select(Offer)
        .where(*offer_conditions(criteria))
        .options(joinedload(Offer.site), joinedload(Offer.provider), selectinload(Offer.schedule))
        .order_by(Offer.category, Offer.title, Offer.id)
    )


def find_offers(session: Session, criteria: OfferFilter) -> list[Offer]:
    return list(session.scalars(offers_query(criteria)).unique())


def in_area_kind(kind: str) -> Any:
    """An SQL condition: the offer's site, or its service area, lies in an area of ``kind``."""
    area = select(Area.id).where(Area.kind == kind)
    at_site = Offer.site.has(
        area.where(func.ST_Intersects(Area.geom, Site.geom)).exists().correlate(Site)
    )
    serves = area.where(func.ST_Intersects(Area.geom, Offer.service_area)).exists()
    return or_(at_site, serves.correlate(Offer))


def find_offers_page(
    session: Session,
    criteria: OfferFilter,
    limit: int,
    *,
    offset: int = 0,
    first_in: str = "quarter",
) -> tuple[int, list[Offer]]:
    """How many offers match, and ``limit`` of them from the ``offset``-th: those in an area
    of kind ``first_in`` (the network's quarter) first, then the rest; each part by category
    and title. One count and one query of at most ``limit`` rows, however many match."""
    total = session.scalar(
        select(func.count()).select_from(Offer).where(*offer_conditions(criteria))
    )
    nearby_first = case((in_area_kind(first_in), 0), else_=1)
    query = (
        offers_query(criteria)
        .order_by(None)
        .order_by(nearby_first, Offer.category, Offer.title, Offer.id)
    )
    page = query.limit(limit).offset(offset)
    return int(total or 0), list(session.scalars(page).unique())


def _sites_query(bbox: BBox | None) -> Select[tuple[Site]]:
    query = select(Site)
    if bbox is not None:
        box = func.ST_MakeEnvelope(bbox.west, bbox.south, bbox.east, bbox.north, 4326)
        query = query.where(func.ST_Intersects(Site.geom, box))
    return query


def find_sites(session: Session, bbox: BBox | None = None) -> list[Site]:
    query = _sites_query(bbox).options(selectinload(Site.offers)).order_by(Site.name, Site.id)
    return list(session.scalars(query))


def find_sites_page(
    session: Session, bbox: BBox | None, limit: int, offset: int = 0
) -> tuple[int, list[Site]]:
    """How many sites lie in ``bbox`` (all without), and ``limit`` of them from the
    ``offset``-th, by name and id: one count and one query of at most ``limit`` rows."""
    total = session.scalar(select(func.count()).select_from(_sites_query(bbox).subquery()))
    query = _sites_query(bbox).options(selectinload(Site.offers)).order_by(Site.name, Site.id)
    return int(total or 0), list(session.scalars(query.limit(limit).offset(offset)))


def format_age_range(min_months: int, max_months: int) -> str:
    """``"0–2 years"``-style text; months where the bound is not whole years."""

    def one(months: int) -> str:
        return f"{months // 12}" if months % 12 == 0 else f"{months / 12:.1f}".rstrip("0")

    if max_months % 12 == 0 and min_months % 12 == 0:
        return f"{one(min_months)}–{one(max_months)} years"
    return f"{min_months}–{max_months} months"


def schedule_rows(slots: Iterable[ScheduleSlot]) -> list[dict[str, Any]]:
    return [
        {
            "weekday": WEEKDAY_KEYS[slot.weekday],
            "start": slot.start_time.strftime("%H:%M"),
            "end": slot.end_time.strftime("%H:%M"),
            "valid_from": slot.valid_from.isoformat() if slot.valid_from else None,
            "valid_to": slot.valid_to.isoformat() if slot.valid_to else None,
        }
        for slot in slots
    ]


def offer_properties(offer: Offer) -> dict[str, Any]:
    """Everything a client shows of an offer (plain data; escaping is the renderer's job)."""
    site = offer.site
    category = categories()[offer.category]
    return {
        "id": offer.id,
        "title": offer.title,
        "description": offer.description,
        "category": offer.category,
        "category_label": category.label_de,
        "age_min_months": offer.age_min_months,
        "age_max_months": offer.age_max_months,
        "languages": list(offer.languages or []),
        "cost_free": offer.cost_free,
        "cost_text": offer.cost_text,
        "registration_required": offer.registration_required,
        # cost_free / registration_required are true, false or null (= not known); the
        # fields listed here hold the category's general rule in NRW, not the source's word.
        "taxonomy_facts": sorted(offer.taxonomy_facts or []),
        "contact": offer.contact,
        "capacity": offer.capacity,
        "status": offer.status,
        "last_verified": offer.last_verified.isoformat() if offer.last_verified else None,
        "schedule": schedule_rows(offer.schedule),
        "no_school_holidays": offer.no_school_holidays,
        "provider": offer.provider.name if offer.provider else None,
        "provider_id": offer.provider_id,
        "site_id": site.id if site else None,
        "site_name": site.name if site else None,
        "address": site.address if site else None,
        "is_anchor": bool(site and site.is_anchor),
        "wheelchair": site.wheelchair if site else "unknown",
        "comes_home": site is None,
        "is_example": offer.is_example,
        "source": {"dataset": offer.source_dataset, "id": offer.source_id},
        "translations": offer.translations or {},
    }


def offer_feature(offer: Offer, **extra: Any) -> dict[str, Any]:
    """An RFC 7946 Feature: the site's point, or the service area for home visits."""
    if offer.site is not None:
        geometry = to_shape(offer.site.geom).__geo_interface__
    elif offer.service_area is not None:
        geometry = to_shape(offer.service_area).__geo_interface__
    else:  # pragma: no cover - excluded by a database constraint
        geometry = None
    properties = offer_properties(offer) | extra
    return {"type": "Feature", "id": offer.id, "geometry": geometry, "properties": properties}


def site_feature(site: Site) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": site.id,
        "geometry": to_shape(site.geom).__geo_interface__,
        "properties": {
            "id": site.id,
            "name": site.name,
            "address": site.address,
            "is_anchor": site.is_anchor,
            "wheelchair": site.wheelchair,
            "subdistrict_code": site.subdistrict_code,
            "offer_count": len(site.offers),
            "source": {"dataset": site.source_dataset, "id": site.source_id},
        },
    }


def feature_collection(features: Iterable[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **members}


def offer_filter_from_args(args: Mapping[str, str]) -> OfferFilter:
    """The family's filter from query parameters (``age_months``/``age_years``/``birth_month``,
    ``category``, ``bbox``, ``language``, ``free``); raises ``ParameterError``."""
    return OfferFilter(
        age_months=parse_age_months(args),
        categories=parse_categories(args),
        bbox=parse_bbox(args),
        languages=parse_languages(args),
        free_only=parse_flag(args, "free"),
    )


def find_anchor_sites(session: Session) -> list[Site]:
    """The network's anchor sites, shown on the map whatever the filter."""
    return list(session.scalars(select(Site).where(Site.is_anchor).order_by(Site.name, Site.id)))


def offer_languages(session: Session) -> list[str]:
    """Language codes that active offers are held in, for a filter's choices."""
    code = func.unnest(Offer.languages)
    query = select(code).where(Offer.status == "active").distinct()
    return sorted(session.scalars(query))


def area_features(
    session: Session,
    kind: str,
    *,
    near: BBox | None = None,
    tolerance_deg: float = 0.00002,
    precision: int = 5,
) -> list[dict[str, Any]]:
    """Areas of ``kind`` as GeoJSON Features, simplified for display.

    ``tolerance_deg`` (about 2 m) and ``precision`` (5 decimals, about 1 m) keep the page
    light; the outlines are for orientation, not for measuring.
    """
    shape = func.ST_AsGeoJSON(func.ST_SimplifyPreserveTopology(Area.geom, tolerance_deg), precision)
    query = select(Area.id, Area.code, Area.name, Area.source_dataset, shape).where(
        Area.kind == kind
    )
    if near is not None:
        box = func.ST_MakeEnvelope(near.west, near.south, near.east, near.north, 4326)
        query = query.where(func.ST_Intersects(Area.geom, box))
    return [
        {
            "type": "Feature",
            "id": area_id,
            "geometry": json.loads(geometry),
            "properties": {"kind": kind, "code": code, "name": name, "source_dataset": source},
        }
        for area_id, code, name, source, geometry in session.execute(query.order_by(Area.code))
    ]
