"""In-memory snapshots of the active offers, for hot read paths (the reach query, the
family page).

Loading offers through the ORM costs more than the whole reach lookup, so requests that
already know which sites they want take the offers from a snapshot instead. The snapshots
are keyed by the database's data version (migration 0007): a number drawn from a sequence
whenever an offer, site, provider or schedule changes, and never reused, not even after a
rollback. A request that reads the version in its own transaction therefore sees exactly
the offers that transaction sees.

Two kinds: :class:`OfferSnapshot` (plain records with their GeoJSON, for the API) and
:class:`OfferRecords` (the ORM offers themselves, detached with site, provider and schedule
loaded, for the family page's list and map). Detached objects are shared between requests
and threads, so they are only ever read: never added to a session, never changed.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, TypeVar

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.data_cache import data_version, database_key
from mapservice.models import Offer, Site
from mapservice.queries import (
    OfferFilter,
    find_anchor_sites,
    find_offers,
    in_area_kind,
    offer_feature,
)


@dataclass(frozen=True)
class SnapshotOffer:
    """An active offer at a site, with what the snapshot can filter on."""

    id: int
    title: str
    site_id: int
    category: str
    age_min_months: int
    age_max_months: int
    languages: frozenset[str]
    cost_free: bool | None  # None: not known, so not "free" for the free-only filter
    feature: dict[str, Any]

    def fits(self, criteria: OfferFilter) -> bool:
        """The same test as :func:`mapservice.queries.offer_conditions` for what
        :func:`answers` admits."""
        if criteria.age_months is not None and not (
            self.age_min_months <= criteria.age_months < self.age_max_months
        ):
            return False
        if criteria.categories and self.category not in criteria.categories:
            return False
        if criteria.languages and not self.languages.intersection(criteria.languages):
            return False
        return not (criteria.free_only and self.cost_free is not True)


def answers(criteria: OfferFilter) -> bool:
    """Whether the snapshot can answer ``criteria`` (else ask the database)."""
    return (
        tuple(criteria.statuses) == ("active",)
        and criteria.bbox is None
        and criteria.weekday is None
        and criteria.daypart is None
        and criteria.on_date is None
    )


@dataclass(frozen=True)
class OfferSnapshot:
    version: int
    by_site: dict[int, tuple[SnapshotOffer, ...]]

    def at_sites(self, site_ids: Iterable[int], criteria: OfferFilter) -> list[SnapshotOffer]:
        return [
            offer
            for site_id in site_ids
            for offer in self.by_site.get(site_id, ())
            if offer.fits(criteria)
        ]


def _build(session: Session, version: int) -> OfferSnapshot:
    by_site: dict[int, list[SnapshotOffer]] = defaultdict(list)
    for offer in find_offers(session, OfferFilter()):
        if offer.site_id is None:
            continue
        by_site[offer.site_id].append(
            SnapshotOffer(
                id=offer.id,
                title=offer.title,
                site_id=offer.site_id,
                category=offer.category,
                age_min_months=offer.age_min_months,
                age_max_months=offer.age_max_months,
                languages=frozenset(offer.languages or ()),
                cost_free=offer.cost_free,
                feature=offer_feature(offer),
            )
        )
    return OfferSnapshot(version, {site: tuple(offers) for site, offers in by_site.items()})


_lock = threading.Lock()
# One snapshot per database (an app may talk to several in tests and benchmarks).
_snapshots: dict[str, OfferSnapshot] = {}


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


def _newest(
    cache: dict[str, V], session: Session, version: int, build: Callable[[Session, int], V]
) -> V:
    """``cache``'s value for the session's database at ``version``, built when missing.

    Only the newest version is kept: a value an older transaction builds is returned to it
    but must not evict the newer one other requests use.
    """
    key = database_key(session)
    found = cache.get(key)
    if found is not None and found.version == version:
        return found
    with _lock:
        found = cache.get(key)
        if found is None or found.version != version:
            found = build(session, version)
            current = cache.get(key)
            if current is None or current.version < version:
                cache[key] = found
    return found


def offer_snapshot(session: Session, version: int | None = None) -> OfferSnapshot:
    """The snapshot for the data version the session's transaction sees."""
    if version is None:
        version = data_version(session)
    return _newest(_snapshots, session, version, _build)


def offer_fits(offer: Offer, criteria: OfferFilter) -> bool:
    """:meth:`SnapshotOffer.fits` for an ORM offer (criteria the snapshots answer)."""
    if criteria.age_months is not None and not (
        offer.age_min_months <= criteria.age_months < offer.age_max_months
    ):
        return False
    if criteria.categories and offer.category not in criteria.categories:
        return False
    if criteria.languages and not set(offer.languages or ()).intersection(criteria.languages):
        return False
    return not (criteria.free_only and offer.cost_free is not True)


@dataclass(frozen=True)
class HomeVisit:
    """An offer that comes to the family's home, with the area it serves."""

    offer: Offer
    area: BaseGeometry  # prepared (shapely.prepare) for repeated point tests


@dataclass(frozen=True, eq=False)
class OfferRecords:
    """The active offers as detached ORM objects (site, provider, schedule loaded), in the
    order of :func:`mapservice.queries.find_offers` (category, title, id), with where each
    lies and the network's anchor sites. Read only."""

    version: int
    offers: tuple[Offer, ...]
    by_site: dict[int, tuple[Offer, ...]]
    home_visits: tuple[HomeVisit, ...]
    in_quarter: frozenset[int]  # ids of offers at a site in, or serving, the quarter
    anchors: tuple[Site, ...]
    site_points: dict[int, tuple[float, float]]  # site id -> (lat, lon)

    def at_site(self, site_id: int, criteria: OfferFilter) -> list[Offer]:
        return [offer for offer in self.by_site.get(site_id, ()) if offer_fits(offer, criteria)]

    def coming_home(self, lon: float, lat: float, criteria: OfferFilter) -> list[Offer]:
        """Offers that come to a home at (lon, lat): the point lies in their service area
        (the same few-centimetre box the SQL path intersects)."""
        eps = 1e-7
        here = shapely.box(lon - eps, lat - eps, lon + eps, lat + eps)
        return [
            visit.offer
            for visit in self.home_visits
            if offer_fits(visit.offer, criteria) and visit.area.intersects(here)
        ]

    @cached_property
    def quarter_first(self) -> tuple[Offer, ...]:
        """The offers, the quarter's first, then by category, title and id (the order of
        :func:`mapservice.queries.find_offers_page`)."""
        return tuple(sorted(self.offers, key=lambda offer: offer.id not in self.in_quarter))

    def fitting(self, criteria: OfferFilter, *, quarter_first: bool = True) -> list[Offer]:
        """All fitting offers in the order of :attr:`quarter_first` (else by category, title
        and id, as :func:`mapservice.queries.find_offers`)."""
        offers = self.quarter_first if quarter_first else self.offers
        return [offer for offer in offers if offer_fits(offer, criteria)]


def _build_records(session: Session, version: int) -> OfferRecords:
    # A session of its own on the request's connection: the same transaction (and so the
    # same data), but its own identity map, so the request's objects are not detached.
    with Session(bind=session.connection(), autoflush=False) as reader:
        offers = tuple(find_offers(reader, OfferFilter()))
        anchors = tuple(find_anchor_sites(reader))
        quarter = select(Offer.id).where(Offer.status == "active", in_area_kind("quarter"))
        in_quarter = frozenset(reader.scalars(quarter))
    by_site: dict[int, list[Offer]] = defaultdict(list)
    home_visits = []
    points: dict[int, tuple[float, float]] = {}
    for offer in offers:
        if offer.site is not None:
            by_site[offer.site.id].append(offer)
        elif offer.service_area is not None:
            area = to_shape(offer.service_area)
            shapely.prepare(area)
            home_visits.append(HomeVisit(offer, area))
    for site in [*(o.site for o in offers if o.site is not None), *anchors]:
        if site.id not in points:
            point = to_shape(site.geom)
            points[site.id] = (point.y, point.x)  # type: ignore[attr-defined]
    return OfferRecords(
        version=version,
        offers=offers,
        by_site={site: tuple(found) for site, found in by_site.items()},
        home_visits=tuple(home_visits),
        in_quarter=in_quarter,
        anchors=anchors,
        site_points=points,
    )


_records: dict[str, OfferRecords] = {}


def clear() -> None:
    """Forget every snapshot (for benchmarks measuring without caches)."""
    with _lock:
        _snapshots.clear()
        _records.clear()


def offer_records(session: Session, version: int) -> OfferRecords:
    """The family page's records for data version ``version``, which the session's
    transaction has read (built on the first request of a version, then shared)."""
    return _newest(_records, session, version, _build_records)
