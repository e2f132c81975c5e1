"""Reach queries: which offers a family reaches on foot. Free of Flask.

Where a point lies on an imported network, times come from one bounded graph search in
the worker's memory (:mod:`mapservice.walking.search`) to the sites' precomputed snaps.
Where no network covers it, or a site lies off every network, the time is estimated: straight-line
distance x detour factor at the profile's speed, and the answer says ``estimated``.
A point inside a network's extent but farther than the snapping distance from any usable
path (a field, a railway yard) is an error: routing it would be a guess presented as fact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import numpy as np
from pyproj import Transformer
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from mapservice.data_cache import DATA_VERSION_SQL
from mapservice.db import SentAhead
from mapservice.models import METRIC_SRID, WGS84, Offer
from mapservice.offer_snapshot import answers as snapshot_answers
from mapservice.offer_snapshot import offer_snapshot
from mapservice.queries import OfferFilter, offer_conditions, offer_feature
from mapservice.validation import ParameterError
from mapservice.walking.precompute import driver_connection
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.search import (
    ReachState,
    SearchSnap,
    estimated_seconds,
    latest_state,
    reach_state,
    routed_seconds,
    snap_xy,
)
from mapservice.walking.snap import distance_to_network

TO_WGS84 = Transformer.from_crs(METRIC_SRID, WGS84, always_xy=True)
TO_METRIC = Transformer.from_crs(WGS84, METRIC_SRID, always_xy=True)


@dataclass(frozen=True)
class Origin:
    """Where a query starts: on an edge, or (estimated) off every network."""

    lon: float
    lat: float
    snap_distance_m: float | None = None  # None: off every network, times are estimated

    @property
    def estimated(self) -> bool:
        return self.snap_distance_m is None


@dataclass(frozen=True)
class SiteTime:
    site_id: int
    seconds: float
    estimated: bool


def _refuse_if_covered(
    session: Session, lon: float, lat: float, profile: WalkProfile, settings: WalkSettings
) -> None:
    """Raise when a point that could not be snapped lies inside a network's area."""
    nearest = distance_to_network(session, lon, lat)
    if nearest is None:
        return
    if nearest <= settings.max_snap_m:
        why = (
            f"the paths within {settings.max_snap_m:.0f} m of it are cut off from the rest of "
            "the walking network" + ("" if profile.steps else " or reachable only by steps")
        )
    else:
        why = (
            f"it lies {nearest:.0f} m from the nearest path of the walking network, more than "
            f"the {settings.max_snap_m:.0f} m a route may start away from a path"
        )
    raise ParameterError(
        "lat",
        f"cannot route from lat={lat:.6f}, lon={lon:.6f}: {why}; "
        "choose a point on or next to a street or footpath",
    )


W = TypeVar("W")


def at_current_version(
    session: Session, settings: WalkSettings, work: Callable[[ReachState], W]
) -> tuple[int, ReachState, W]:
    """``work`` done on the worker's state of the data version the session sees; the
    version, that state, and what ``work`` returned.

    The version (the request's one statement: it keys the worker's graphs and site snaps,
    and the offer snapshot) is sent first and its answer read only after ``work`` ran on
    the state of the version read last, which it nearly always still is, so the round trip
    overlaps the work (:class:`SentAhead`). Only when the version read differs does
    ``work`` run again, on its state. ``work`` runs in memory and sends no statement.
    """
    guess = latest_state(session)
    with SentAhead(driver_connection(session), DATA_VERSION_SQL) as version_read:
        done = work(guess) if guess is not None else None
        raw = version_read.value()
    version = int(raw) if raw is not None else 0
    if guess is not None and guess.version == version:
        return version, guess, cast(W, done)
    state = reach_state(session, version, settings)
    return version, state, work(state)


def unsnapped_origin(
    session: Session, lon: float, lat: float, profile: WalkProfile, settings: WalkSettings
) -> Origin:
    """The origin of a point no usable path lies within the snapping distance of: off
    every network, its times are estimated.

    Raises :class:`ParameterError` (naming ``lat``) when the point lies inside a network's
    area but farther than the snapping distance from any path the profile can use.
    """
    _refuse_if_covered(session, lon, lat, profile, settings)
    return Origin(lon, lat)


def site_times(
    session: Session,
    lon: float,
    lat: float,
    minutes: float,
    profile: WalkProfile,
    settings: WalkSettings,
) -> tuple[Origin, list[SiteTime]]:
    """Where the point starts, and the sites reachable within ``minutes``, nearest first.

    Raises :class:`ParameterError` as :func:`unsnapped_origin` does.
    """
    origin, found, _version = _versioned_site_times(session, lon, lat, minutes, profile, settings)
    return origin, found


def _versioned_site_times(
    session: Session,
    lon: float,
    lat: float,
    minutes: float,
    profile: WalkProfile,
    settings: WalkSettings,
) -> tuple[Origin, list[SiteTime], int]:
    """:func:`site_times`, plus the data version its answer belongs to.

    Routed: one bounded graph search from the point (:mod:`mapservice.walking.search`).
    Estimated: sites that cannot be routed for this profile (off every network, or new and
    not snapped yet), or every site when the point lies off every network.
    """
    limit = minutes * 60.0
    x, y = TO_METRIC.transform(lon, lat)

    def routed_from_point(state: ReachState) -> tuple[SearchSnap, np.ndarray, np.ndarray] | None:
        snap = snap_xy(state, x, y, profile.steps, settings.max_snap_m)
        if snap is None:
            return None
        return snap, *routed_seconds(state, snap, profile, limit)

    version, state, routed_found = at_current_version(session, settings, routed_from_point)
    if routed_found is None:
        origin = unsnapped_origin(session, lon, lat, profile, settings)
        ids, seconds = estimated_seconds(
            state.all_ids, state.all_xy, x, y, profile, settings, limit
        )
        flags = np.ones(len(ids), dtype=bool)
    else:
        snap, routed_ids, routed = routed_found
        origin = Origin(lon, lat, snap.distance_m)
        sites = state.sites_of(profile.key)
        guessed_ids, guessed = estimated_seconds(
            sites.unrouted_ids, sites.unrouted_xy, x, y, profile, settings, limit
        )
        ids = np.concatenate([routed_ids, guessed_ids])
        seconds = np.concatenate([routed, guessed])
        flags = np.zeros(len(ids), dtype=bool)
        flags[len(routed_ids) :] = True
    order = np.lexsort((ids, seconds))
    found = [
        SiteTime(site_id, time, estimated)
        for site_id, time, estimated in zip(
            ids[order].tolist(), seconds[order].tolist(), flags[order].tolist(), strict=True
        )
    ]
    return origin, found, version


@dataclass(frozen=True)
class ReachAnswer:
    origin: Origin
    offers: list[tuple[Offer, SiteTime]]

    @property
    def estimated(self) -> bool:
        return self.origin.estimated or any(time.estimated for _, time in self.offers)


def reachable_offers(
    session: Session,
    lon: float,
    lat: float,
    minutes: float,
    profile: WalkProfile,
    criteria: OfferFilter,
    settings: WalkSettings,
) -> ReachAnswer:
    """Fitting offers at sites reachable within ``minutes``, nearest first."""
    origin, found = site_times(session, lon, lat, minutes, profile, settings)
    times = {time.site_id: time for time in found}
    if not times:
        return ReachAnswer(origin, [])
    query = (
        select(Offer)
        .where(*offer_conditions(replace(criteria, site_ids=list(times))))
        .options(joinedload(Offer.site), joinedload(Offer.provider), joinedload(Offer.schedule))
    )
    pairs = [
        (offer, times[offer.site_id])
        for offer in session.scalars(query).unique()
        if offer.site_id is not None
    ]
    pairs.sort(key=lambda pair: (pair[1].seconds, pair[0].title, pair[0].id))
    return ReachAnswer(origin, pairs)


def reach_geojson(answer: ReachAnswer, minutes: float, profile: WalkProfile) -> dict[str, Any]:
    features = [offer_feature(offer, **_walking_properties(time)) for offer, time in answer.offers]
    return _reach_collection(features, answer.origin, answer.estimated, minutes, profile)


def reachable_geojson(
    session: Session,
    lon: float,
    lat: float,
    minutes: float,
    profile: WalkProfile,
    criteria: OfferFilter,
    settings: WalkSettings,
) -> dict[str, Any]:
    """:func:`reach_geojson` of :func:`reachable_offers`, with the offers taken from the
    in-memory snapshot where it can answer ``criteria``: one statement per request."""
    if not snapshot_answers(criteria):
        answer = reachable_offers(session, lon, lat, minutes, profile, criteria, settings)
        return reach_geojson(answer, minutes, profile)
    origin, found, version = _versioned_site_times(session, lon, lat, minutes, profile, settings)
    times = {time.site_id: time for time in found}
    offers = offer_snapshot(session, version).at_sites(times, criteria)
    pairs = sorted(
        ((offer, times[offer.site_id]) for offer in offers),
        key=lambda pair: (pair[1].seconds, pair[0].title, pair[0].id),
    )
    features = [
        {
            **offer.feature,
            "properties": offer.feature["properties"] | _walking_properties(time),
        }
        for offer, time in pairs
    ]
    estimated = origin.estimated or any(time.estimated for _, time in pairs)
    return _reach_collection(features, origin, estimated, minutes, profile)


def _walking_properties(time: SiteTime) -> dict[str, Any]:
    return {
        "walking_minutes": round(time.seconds / 60, 1),
        "walking_seconds": round(time.seconds, 1),
        "estimated": time.estimated,
    }


def _reach_collection(
    features: list[dict[str, Any]],
    origin: Origin,
    estimated: bool,
    minutes: float,
    profile: WalkProfile,
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": features,
        "minutes": minutes,
        "profile": profile.key,
        "speed_kmh": profile.speed_kmh,
        "estimated": estimated,
        "origin": {
            "lat": origin.lat,
            "lon": origin.lon,
            "on_network": not origin.estimated,
            "snap_distance_m": (
                None if origin.snap_distance_m is None else round(origin.snap_distance_m, 1)
            ),
        },
    }
