"""Building an area's :class:`~mapservice.planning.results.PlanningBase` (grid, demand,
offers and walking times) from the database, and keeping it.

The expensive part (the walking times between offer locations and cells) is cached per area,
profile and data version (a fingerprint of offers, sites, census cells and networks), so the
what-if only searches from the scenario's new points.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

import numpy as np
import shapely
from sqlalchemy.orm import Session

from mapservice.planning.areas import all_subdistricts, resolve_area
from mapservice.planning.coverage import PAIR_HORIZON_MIN, Supply, phase_category_pairs
from mapservice.planning.demand import census_demand, estimate_demand
from mapservice.planning.grid import Grid, assign_polygons, grid_for_polygon, grid_for_polygons
from mapservice.planning.loading import (
    data_fingerprint,
    database_url,
    nearby_networks,
    nearby_offers,
    service_area_pairs,
)
from mapservice.planning.results import PlanningBase
from mapservice.planning.routing import Pairs, Router, Snap
from mapservice.validation import ParameterError
from mapservice.walking.profiles import WalkSettings

MAX_CELLS = 200_000  # a whole city is ~30,000; beyond this a request is refused, not slowed


def build_base(
    session: Session,
    area_key: str,
    settings: WalkSettings,
    profile_key: str,
    *,
    routed: bool = True,
) -> PlanningBase:
    """Grid, demand, offers and walking times of an area (uncached; see :func:`planning_base`).

    ``routed=False`` ignores the walking networks: every time is the straight-line estimate
    (to show planners what the routing changes, see :mod:`mapservice.planning.compare`).
    ``timings`` says where the time went, step by step.
    """
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    if profile_key not in settings.profiles:
        raise ParameterError("profile", f"unknown walking profile {profile_key!r}")
    profile = settings.profile(profile_key)
    all_facts, all_polygons, k, calibrated = all_subdistricts(session)
    if area_key == "city":
        # The city is the union of its sub-districts; its cells are found in them directly
        # (a union of the 170 detailed polygons costs more than all the rest).
        if not all_polygons:
            raise ParameterError("area", f"no area {area_key!r}")
        key, name, parts = "city", "Whole city", all_polygons
        clock.lap("area_s")
        grid, cell_group = grid_for_polygons(parts)
        meets = np.ones(len(all_polygons), dtype=bool)
    else:
        key, name, area = resolve_area(session, area_key)
        parts = [area]
        clock.lap("area_s")
        grid = grid_for_polygon(area)
        meets = shapely.intersects(np.asarray(all_polygons, dtype=object), area)
        cell_group = None
    if len(grid) > MAX_CELLS:
        raise ParameterError("area", f"{len(grid)} cells is more than {MAX_CELLS}")
    subdistricts = [fact for fact, hit in zip(all_facts, meets.tolist(), strict=True) if hit]
    polygons = [poly for poly, hit in zip(all_polygons, meets.tolist(), strict=True) if hit]
    if cell_group is None:
        cell_group = assign_polygons(grid, polygons)
    clock.lap("grid_s")
    census = census_demand(session, grid)
    if census is not None:
        demand, dataset = census
        demand_source = f"census grid {dataset!r}"
    else:
        demand = estimate_demand(grid, cell_group, subdistricts, k)
        demand_source = (
            f"estimate from sub-district shares and density, residential share k = {k:.3f}"
            + (" (calibrated on Innenstadt-Nord)" if calibrated else " (default)")
        )
    clock.lap("demand_s")
    radius = settings.max_seconds * profile.speed_mps
    networks = nearby_networks(session, parts, radius, profile.steps) if routed else []
    router = Router(
        networks,
        profile.speed_mps,
        settings.max_seconds,
        settings.detour_factor,
        settings.max_snap_m,
    )
    clock.lap("networks_s")
    loc_x, loc_y, supply, titles, service_areas = nearby_offers(session, parts, radius)
    clock.lap("offers_s")
    cell_snap = _cell_snap(router, grid)
    clock.lap("snap_s")
    combos = phase_category_pairs(supply)
    groups = _site_groups(supply, len(loc_x), combos)
    searched, reach = router.search(
        loc_x, loc_y, grid.x, grid.y, cell_snap, PAIR_HORIZON_MIN * 60.0, groups
    )
    pairs = Pairs.concat([searched, service_area_pairs(grid, len(loc_x), service_areas)])
    clock.lap("pairs_s")
    base = PlanningBase(
        area_key=key,
        area_name=name,
        profile=profile_key,
        grid=grid,
        cell_group=cell_group,
        subdistricts=subdistricts,
        demand=demand,
        demand_source=demand_source,
        router=router,
        cell_snap=cell_snap,
        loc_x=loc_x,
        loc_y=loc_y,
        supply=supply,
        pairs=pairs,
        n_locations=len(loc_x) + len(service_areas),
        offer_titles=titles,
        timings=timings,
    )
    base.search_beyond_pairs(groups, reach)
    clock.lap("nearest_s")
    timings["walking_s"] = sum(timings[k] for k in ("snap_s", "pairs_s", "nearest_s"))
    timings["total_s"] = clock.total()
    return base


_snap_cache: OrderedDict[tuple[object, ...], Snap] = OrderedDict()


def _cell_snap(router: Router, grid: Grid) -> Snap:
    """Where the cells meet the networks, kept per network version and grid."""
    key = (
        tuple((net.graph.network_id, net.graph.version, net.steps) for net in router.networks),
        router.max_snap_m,
        grid.size,
        hashlib.sha1(grid.e.tobytes() + grid.n.tobytes(), usedforsecurity=False).digest(),
    )
    with _cache_lock:
        found = _snap_cache.get(key)
    if found is None:
        found = router.snap(grid.x, grid.y)
        with _cache_lock:
            _snap_cache[key] = found
            while len(_snap_cache) > CACHE_SIZE:
                _snap_cache.popitem(last=False)
    return found


def _site_groups(supply: Supply, n_sites: int, combos: list[tuple[str, str]]) -> list[np.ndarray]:
    """The distinct groups of sites that the combinations fit (service areas left out)."""
    groups: dict[bytes, np.ndarray] = {}
    for phase, category in combos:
        sites = np.unique(supply.loc[supply.fits(phase, category)])
        sites = sites[sites < n_sites]
        groups.setdefault(sites.tobytes(), sites)
    return list(groups.values())


class _Clock:
    """Laps of a build, by name, into ``timings``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.started = self.mark = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.mark
        self.mark = now

    def total(self) -> float:
        return time.perf_counter() - self.started


_cache: OrderedDict[tuple[object, ...], PlanningBase] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 6


def planning_base(
    session: Session, area_key: str, settings: WalkSettings, profile_key: str
) -> PlanningBase:
    """:func:`build_base`, cached per database, area, profile, settings and data version."""
    key = (database_url(session), area_key, profile_key, repr(settings), data_fingerprint(session))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    base = build_base(session, area_key, settings, profile_key)
    with _cache_lock:
        _cache[key] = base
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return base
