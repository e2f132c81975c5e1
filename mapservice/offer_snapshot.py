"""An in-memory snapshot of the active offers, for hot read paths (the reach query).

Loading offers through the ORM costs more than the whole reach lookup, so requests that
already know which sites they want take the offers from a snapshot instead. The snapshot
is keyed by the database's data version (migration 0007): a number drawn from a sequence
whenever an offer, site, provider or schedule changes, and never reused, not even after a
rollback. A request that reads the version in its own transaction therefore sees exactly
the offers that transaction sees.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.queries import OfferFilter, find_offers, offer_feature

VERSION_SQL = text("SELECT n FROM data_version WHERE id = 1")


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


def offer_snapshot(session: Session, version: int | None = None) -> OfferSnapshot:
    """The snapshot for the data version the session's transaction sees."""
    if version is None:
        version = int(session.execute(VERSION_SQL).scalar_one())
    bind = session.get_bind()
    key = bind.engine.url.render_as_string(hide_password=True)
    snapshot = _snapshots.get(key)
    if snapshot is not None and snapshot.version == version:
        return snapshot
    with _lock:
        snapshot = _snapshots.get(key)
        if snapshot is None or snapshot.version != version:
            snapshot = _build(session, version)
            # Keep the newest version: an older transaction must not evict it.
            current = _snapshots.get(key)
            if current is None or current.version < version:
                _snapshots[key] = snapshot
    return snapshot
