"""The public feature collections of the OGC API: offers, sites and areas.

Each collection knows its title, its filters (OGC "queryables" offered as query parameters),
its extent in CRS84 and how to fetch one page of features. The planners' collections live
in :mod:`mapservice.interop.ogcapi.planning`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from mapservice import queries
from mapservice.interop.ogcapi.params import Interval
from mapservice.models import Area, Offer, ScheduleSlot, Site
from mapservice.queries import OfferFilter
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS
from mapservice.validation import (
    BBox,
    parse_age_months,
    parse_categories,
    parse_choice,
    parse_flag,
    parse_languages,
)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class Queryable:
    """A property offered as a filter parameter on ``/items``."""

    name: str
    schema: dict[str, Any]
    description: str


@dataclass(frozen=True)
class ItemQuery:
    limit: int
    offset: int
    bbox: BBox | None
    interval: Interval | None
    args: Mapping[str, str]


@dataclass(frozen=True)
class Context:
    """What a collection may need besides the database session."""

    walk_settings: Any = None
    roles: frozenset[str] = field(default_factory=frozenset)


class Collection:
    """Base of a feature collection; subclasses fill in the data."""

    id: str = ""
    title: str = ""
    description: str = ""
    # Roles that may see the collection; empty: public.
    roles: tuple[str, ...] = ()
    queryables: tuple[Queryable, ...] = ()
    # Feature ids are database integers: others (and those beyond the range) answer 404.
    numeric_ids = True
    temporal_note: str = "Features have no time; datetime selects all of them."

    def visible_to(self, roles: frozenset[str]) -> bool:
        return not self.roles or bool(roles & set(self.roles))

    def extent(self, session: Session, context: Context) -> dict[str, Any]:
        box = self.bbox_of(session, context)
        return {"spatial": {"bbox": [box], "crs": CRS84}}

    def bbox_of(self, session: Session, context: Context) -> list[float]:
        raise NotImplementedError

    def page(
        self, session: Session, query: ItemQuery, context: Context
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of features and the number matched in all."""
        raise NotImplementedError

    def feature(self, session: Session, feature_id: str, context: Context) -> dict[str, Any] | None:
        raise NotImplementedError


def _box_of(session: Session, geometries: Any) -> list[float]:
    """``[west, south, east, north]`` of a subquery's geometries (rounded outwards to 1e-6)."""
    row = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(geometries.c.geom)),
            func.ST_YMin(func.ST_Extent(geometries.c.geom)),
            func.ST_XMax(func.ST_Extent(geometries.c.geom)),
            func.ST_YMax(func.ST_Extent(geometries.c.geom)),
        )
    ).one()
    if row[0] is None:
        return [-180.0, -90.0, 180.0, 90.0]
    west, south, east, north = (float(v) for v in row)
    return [
        round(west - 5e-7, 6),
        round(south - 5e-7, 6),
        round(east + 5e-7, 6),
        round(north + 5e-7, 6),
    ]


def _envelope(bbox: BBox) -> Any:
    return func.ST_MakeEnvelope(bbox.west, bbox.south, bbox.east, bbox.north, 4326)


class Offers(Collection):
    id = "offers"
    title = "Offers for families"
    description = (
        "Active offers of the network and the city's open data: a point at the offer's site, "
        "or the service area for offers that come to the family's home (welcome visit). "
        "Ages in months (upper bound exclusive). cost_free and registration_required are "
        "null where not known. datetime selects offers with a weekly time slot valid in that "
        "time (offers without dated slots always match)."
    )
    temporal_note = "Offers with a time slot valid in that time; undated offers always match."
    queryables = (
        Queryable(
            "age_months",
            {"type": "integer", "minimum": 0, "maximum": MAX_AGE_MONTHS - 1},
            "Offers for a child of this age in months.",
        ),
        Queryable(
            "category",
            {"type": "string", "enum": list(CATEGORY_KEYS)},
            "Category of the life-phase taxonomy; several comma-separated.",
        ),
        Queryable(
            "language",
            {"type": "string", "pattern": "^[a-z]{2}(,[a-z]{2})*$"},
            "Offers held in one of these languages (ISO 639-1, comma-separated).",
        ),
        Queryable(
            "free",
            {"type": "string", "enum": ["1", "0", "true", "false"]},
            "1: only offers known to be free of charge.",
        ),
    )

    def _conditions(self, query: ItemQuery) -> list[Any]:
        args = query.args
        criteria = OfferFilter(
            age_months=parse_age_months({"age_months": args.get("age_months", "")}),
            categories=parse_categories(args),
            bbox=query.bbox,
            languages=parse_languages(args),
            free_only=parse_flag(args, "free"),
        )
        conditions = queries.offer_conditions(criteria)
        if query.interval is not None:
            conditions.append(_valid_in(query.interval))
        return conditions

    def bbox_of(self, session: Session, context: Context) -> list[float]:
        sites = select(Site.geom.label("geom")).join(Offer).where(Offer.status == "active")
        areas = select(func.ST_Envelope(Offer.service_area).label("geom")).where(
            Offer.status == "active", Offer.service_area.is_not(None)
        )
        return _box_of(session, sites.union_all(areas).subquery())

    def page(
        self, session: Session, query: ItemQuery, context: Context
    ) -> tuple[list[dict[str, Any]], int]:
        conditions = self._conditions(query)
        matched = session.scalar(select(func.count(Offer.id)).where(*conditions)) or 0
        found = session.scalars(
            select(Offer)
            .where(*conditions)
            .options(
                joinedload(Offer.site), joinedload(Offer.provider), selectinload(Offer.schedule)
            )
            .order_by(Offer.id)
            .offset(query.offset)
            .limit(query.limit)
        ).unique()
        return [offer_feature(o) for o in found], matched

    def feature(self, session: Session, feature_id: str, context: Context) -> dict[str, Any] | None:
        offer = session.get(Offer, int(feature_id))
        if offer is None or offer.status != "active":
            return None
        return offer_feature(offer)


def _valid_in(interval: Interval) -> Any:
    """Offers with a slot valid in ``interval``, or with no dated slot at all."""
    parts = []
    if interval.end is not None:
        end = interval.end.date()
        parts.append(or_(ScheduleSlot.valid_from.is_(None), ScheduleSlot.valid_from <= end))
    if interval.start is not None:
        start = interval.start.date()
        parts.append(or_(ScheduleSlot.valid_to.is_(None), ScheduleSlot.valid_to >= start))
    dated = or_(ScheduleSlot.valid_from.is_not(None), ScheduleSlot.valid_to.is_not(None))
    return or_(Offer.schedule.any(and_(*parts)), not_(Offer.schedule.any(dated)))


def offer_feature(offer: Offer) -> dict[str, Any]:
    """The API's offer Feature, flattened for GIS tools (no nested objects but lists)."""
    feature = queries.offer_feature(offer)
    properties = dict(feature["properties"])
    source = properties.pop("source")
    properties.pop("translations", None)
    properties["source_dataset"] = source["dataset"]
    properties["source_id"] = source["id"]
    properties["schedule"] = [
        f"{row['weekday']} {row['start']}-{row['end']}"
        + (
            f" ({row['valid_from'] or ''}..{row['valid_to'] or ''})"
            if row["valid_from"] or row["valid_to"]
            else ""
        )
        for row in properties["schedule"]
    ]
    feature["properties"] = properties
    return feature


class Sites(Collection):
    id = "sites"
    title = "Sites"
    description = (
        "Places where offers happen (day-care centres, schools, family centres, playgrounds), "
        "with the number of offers there. wheelchair is 'unknown' where no source says."
    )

    def bbox_of(self, session: Session, context: Context) -> list[float]:
        return _box_of(session, select(Site.geom.label("geom")).subquery())

    def page(
        self, session: Session, query: ItemQuery, context: Context
    ) -> tuple[list[dict[str, Any]], int]:
        conditions = (
            [] if query.bbox is None else [func.ST_Intersects(Site.geom, _envelope(query.bbox))]
        )
        matched = session.scalar(select(func.count(Site.id)).where(*conditions)) or 0
        found = session.scalars(
            select(Site)
            .where(*conditions)
            .options(selectinload(Site.offers))
            .order_by(Site.id)
            .offset(query.offset)
            .limit(query.limit)
        )
        return [_flat_site(queries.site_feature(site)) for site in found], matched

    def feature(self, session: Session, feature_id: str, context: Context) -> dict[str, Any] | None:
        site = session.get(Site, int(feature_id))
        return None if site is None else _flat_site(queries.site_feature(site))


def _flat_site(feature: dict[str, Any]) -> dict[str, Any]:
    properties = dict(feature["properties"])
    source = properties.pop("source")
    properties["source_dataset"] = source["dataset"]
    properties["source_id"] = source["id"]
    return feature | {"properties": properties}


AREA_KINDS = ("quarter", "subdistrict")


class Areas(Collection):
    id = "areas"
    title = "Quarter and sub-districts"
    description = (
        "The quarter Brunnenstraße / Hannibalviertel (an approximation: the union of "
        "sub-districts 052 and 061) and Dortmund's statistical sub-districts with the share "
        "of children 0–6 and 6–18 (percent of residents, city open data 2024; null where "
        "not published)."
    )
    queryables = (
        Queryable("kind", {"type": "string", "enum": list(AREA_KINDS)}, "quarter or subdistrict"),
    )

    def _conditions(self, query: ItemQuery) -> list[Any]:
        kind = parse_choice(query.args, "kind", AREA_KINDS)
        conditions: list[Any] = [Area.kind.in_([kind] if kind else AREA_KINDS)]
        if query.bbox is not None:
            conditions.append(func.ST_Intersects(Area.geom, _envelope(query.bbox)))
        return conditions

    def bbox_of(self, session: Session, context: Context) -> list[float]:
        subquery = select(Area.geom.label("geom")).where(Area.kind.in_(AREA_KINDS)).subquery()
        return _box_of(session, subquery)

    def _select(self) -> Any:
        return select(
            Area.id,
            Area.kind,
            Area.code,
            Area.name,
            Area.share_children_0_6_pct,
            Area.share_children_6_18_pct,
            Area.source_dataset,
            func.ST_AsGeoJSON(Area.geom, 6),
        )

    def page(
        self, session: Session, query: ItemQuery, context: Context
    ) -> tuple[list[dict[str, Any]], int]:
        conditions = self._conditions(query)
        matched = session.scalar(select(func.count(Area.id)).where(*conditions)) or 0
        rows = session.execute(
            self._select()
            .where(*conditions)
            .order_by(Area.id)
            .offset(query.offset)
            .limit(query.limit)
        )
        return [_area_feature(row) for row in rows], matched

    def feature(self, session: Session, feature_id: str, context: Context) -> dict[str, Any] | None:
        row = session.execute(
            self._select().where(Area.id == int(feature_id), Area.kind.in_(AREA_KINDS))
        ).first()
        return None if row is None else _area_feature(row)


def _area_feature(row: Any) -> dict[str, Any]:
    area_id, kind, code, name, share_0_6, share_6_18, source, geometry = row
    return {
        "type": "Feature",
        "id": area_id,
        "geometry": json.loads(geometry),
        "properties": {
            "kind": kind,
            "code": code,
            "name": name,
            "share_children_0_6_pct": share_0_6,
            "share_children_6_18_pct": share_6_18,
            "source_dataset": source,
        },
    }
