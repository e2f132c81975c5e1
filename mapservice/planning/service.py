"""Loading an area's grid, demand, offers and walking times from the database, and the
what-if: coverage with a scenario's changes applied, and its difference to the real state.

The expensive part (the walking times between offer locations and cells) is cached per area,
profile and data version (a fingerprint of offers, sites, census cells and networks), so the
what-if only searches from the scenario's new points.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.models import METRIC_SRID, WGS84, HypotheticalOffer, Scenario
from mapservice.planning.coverage import (
    PAIR_HORIZON_MIN,
    PLANNING_PHASES,
    Coverage,
    Supply,
    compute_coverage,
    phase_category_pairs,
    share_within,
)
from mapservice.planning.demand import (
    SubdistrictFacts,
    census_demand,
    density_from_attributes,
    estimate_demand,
    residential_share,
)
from mapservice.planning.grid import (
    Grid,
    assign_polygons,
    first_containing,
    grid_for_polygon,
    grid_for_polygons,
)
from mapservice.planning.routing import NetworkIndex, Pairs, Reach, Router, Snap, index_network
from mapservice.planning.twostep import SupplyDemand, supply_demand
from mapservice.validation import ParameterError
from mapservice.walking.graph import get_graph
from mapservice.walking.profiles import WalkSettings

TO_METRIC = Transformer.from_crs(WGS84, METRIC_SRID, always_xy=True)
MAX_CELLS = 200_000  # a whole city is ~30,000; beyond this a request is refused, not slowed
NEAREST_CACHE = 64  # groups of sites whose nearest-offer search is kept per area


@dataclass(frozen=True)
class AreaChoice:
    key: str
    name: str


def area_choices(session: Session) -> list[AreaChoice]:
    """The areas a planner can pick: quarters, the city, sub-districts, network extents."""
    rows = session.execute(
        text("SELECT kind, code, name FROM area ORDER BY kind = 'quarter' DESC, kind, code")
    ).all()
    choices = [
        AreaChoice(f"{'network' if kind == 'network_extent' else kind}:{code}", f"{name} ({code})")
        for kind, code, name in rows
    ]
    networks = session.execute(
        text("SELECT name FROM walk_network WHERE extent IS NOT NULL ORDER BY name")
    ).scalars()
    choices += [AreaChoice(f"network:{name}", f"Walking network {name}") for name in networks]
    if any(kind == "subdistrict" for kind, _c, _n in rows):
        choices.insert(
            sum(1 for kind, _c, _n in rows if kind == "quarter"),
            AreaChoice("city", "Whole city (all sub-districts)"),
        )
    return choices


def resolve_area(session: Session, key: str) -> tuple[str, str, BaseGeometry]:
    """(key, name, polygon in EPSG:25832) for ``quarter``, ``city`` or ``kind:code``."""
    if key == "city":
        row = session.execute(
            text(
                "SELECT 'Whole city', ST_AsBinary(ST_Transform(ST_Union(geom), 25832)) "
                "FROM area WHERE kind = 'subdistrict' HAVING count(*) > 0"
            )
        ).first()
    else:
        kind, _, code = key.partition(":")
        kind = {"network": "network_extent"}.get(kind, kind)
        if kind not in ("quarter", "subdistrict", "network_extent") or (
            kind != "quarter" and not code
        ):
            raise ParameterError(
                "area", "must be 'quarter', 'city', or kind:code (quarter, subdistrict, network)"
            )
        row = session.execute(
            text(
                "SELECT name, ST_AsBinary(ST_Transform(geom, 25832)) FROM area "
                "WHERE kind = :kind AND (:code = '' OR code = :code) ORDER BY id LIMIT 1"
            ),
            {"kind": kind, "code": code},
        ).first()
        if row is None and kind == "network_extent":
            # An imported walking network's own extent, by the network's name.
            row = session.execute(
                text(
                    "SELECT name, ST_AsBinary(ST_Transform(extent, 25832)) FROM walk_network "
                    "WHERE name = :code AND extent IS NOT NULL"
                ),
                {"code": code},
            ).first()
    if row is None:
        raise ParameterError("area", f"no area {key!r}")
    return key, str(row[0]), shapely.from_wkb(bytes(row[1]))


@dataclass
class PlanningBase:
    """Everything about an area that does not depend on a scenario."""

    area_key: str
    area_name: str
    profile: str
    grid: Grid
    cell_group: np.ndarray  # sub-district position per cell, -1 outside all
    subdistricts: list[SubdistrictFacts]
    demand: np.ndarray  # (phases, cells)
    demand_source: str
    router: Router
    cell_snap: Snap
    loc_x: np.ndarray
    loc_y: np.ndarray
    supply: Supply
    pairs: Pairs  # every pair within PAIR_HORIZON_MIN (estimated ones: the whole horizon)
    n_locations: int
    offer_titles: dict[int, str]
    timings: dict[str, float] = field(default_factory=dict)
    # Routed seconds per cell from the nearest of a group of sites, by the group (see
    # :meth:`nearest`); None where the pairs already hold every cell's nearest.
    _nearest: dict[bytes, np.ndarray | None] = field(default_factory=dict, repr=False)

    @property
    def estimated_cells(self) -> np.ndarray:
        """Cells no walking network reaches: all their times are estimates."""
        return self.cell_snap.network < 0

    def nearest(self, locations: np.ndarray) -> np.ndarray | None:
        """Routed seconds per cell from the nearest of ``locations`` (inf: none within the
        horizon), for the minutes beyond the pairs' horizon; None when there is nothing to
        add. Only the sites are searched from: service areas and a scenario's new points
        are in the pairs up to the whole horizon."""
        sites = np.unique(locations[locations < len(self.loc_x)])
        key = sites.tobytes()
        if key not in self._nearest:
            if len(self._nearest) >= NEAREST_CACHE:  # what-if groups: keep the newest few
                self._nearest.pop(next(iter(self._nearest)))
            self._nearest[key] = self._search_nearest([sites])[0]
        return self._nearest[key]

    def search_beyond_pairs(self, groups: list[np.ndarray], reach: Reach | None = None) -> None:
        """Search once for the nearest site of every group, together; skip the groups whose
        every cell on a network already has a routed pair (so its nearest). ``reach`` (from
        :meth:`Router.search` with these groups) lets wide groups start from its border."""
        routed = ~self.pairs.estimated & (self.pairs.loc < len(self.loc_x))
        on_network = self.cell_snap.network >= 0
        needed: list[int] = []
        for row, sites in enumerate(groups):
            key = sites.tobytes()
            if key in self._nearest:
                continue
            reached = np.zeros(len(self.grid), dtype=bool)
            reached[self.pairs.cell[routed & np.isin(self.pairs.loc, sites)]] = True
            if not len(sites) or not (on_network & ~reached).any():
                self._nearest[key] = None
            else:
                needed.append(row)
        if not needed or not self.router.networks:
            for row in needed:
                self._nearest[groups[row].tobytes()] = None
            return
        found = self.router.nearest(
            self.loc_x,
            self.loc_y,
            [groups[row] for row in needed],
            self.cell_snap,
            reach,
            needed if reach is not None else None,
        )
        for row, seconds in zip(needed, found, strict=True):
            self._nearest[groups[row].tobytes()] = seconds

    def _search_nearest(self, groups: list[np.ndarray]) -> list[np.ndarray | None]:
        if not self.router.networks or not groups:
            return [None] * len(groups)
        found = self.router.nearest(self.loc_x, self.loc_y, groups, self.cell_snap)
        return list(found)


@dataclass
class PlanningResult:
    base: PlanningBase
    supply: Supply
    pairs: Pairs
    n_locations: int
    coverage: Coverage
    scenario_id: int | None = None
    _fca: dict[tuple[str, int], SupplyDemand] = field(default_factory=dict)

    @property
    def grid(self) -> Grid:
        return self.base.grid

    @property
    def demand(self) -> np.ndarray:
        return self.base.demand

    def shares(self) -> np.ndarray:
        """(combos, thresholds): share of the phase's children within the time."""
        return share_within(self.coverage, self.base.demand)

    def shares_by_subdistrict(self) -> np.ndarray:
        """(combos, thresholds, sub-districts)."""
        return share_within(
            self.coverage, self.base.demand, self.base.cell_group, len(self.base.subdistricts)
        )

    def supply_demand(self, category: str, catchment_min: int) -> SupplyDemand:
        if catchment_min > PAIR_HORIZON_MIN:
            raise ValueError(f"the pairs reach {PAIR_HORIZON_MIN} minutes, not {catchment_min}")
        key = (category, catchment_min)
        if key not in self._fca:
            self._fca[key] = supply_demand(
                self.pairs, self.supply, self.base.demand, category, catchment_min
            )
        return self._fca[key]

    def cell_estimated(self, combo: int) -> np.ndarray:
        """Cells whose value is an estimate: off the network, or the nearest offer is."""
        return self.base.estimated_cells | self.coverage.estimated[combo]


# --- loading -------------------------------------------------------------------------------

_FINGERPRINT_SQL = text(
    """
    SELECT md5(concat_ws('|',
      (SELECT string_agg(concat_ws(',', o.id, o.status, o.category, o.age_min_months,
                                   o.age_max_months, o.capacity, o.site_id,
                                   md5(ST_AsBinary(o.service_area))), ';' ORDER BY o.id)
         FROM offer o),
      (SELECT string_agg(concat_ws(',', s.id, ST_AsText(s.geom)), ';' ORDER BY s.id)
         FROM site s),
      (SELECT concat_ws(',', count(*), max(id), sum(age_0_2 + age_2_4 + age_4_6 + age_6_10))
         FROM planning_census_cell),
      (SELECT string_agg(concat_ws(',', id, imported_at), ';' ORDER BY id) FROM walk_network),
      (SELECT string_agg(concat_ws(',', id, md5(ST_AsBinary(geom)),
                                   share_children_0_6_pct, share_children_6_18_pct,
                                   md5(attributes::text)), ';' ORDER BY id) FROM area)
    ))
    """
)


def data_fingerprint(session: Session) -> str:
    return str(session.execute(_FINGERPRINT_SQL).scalar_one())


_SubdistrictRows = tuple[list[SubdistrictFacts], list[BaseGeometry], float, bool]
_subdistrict_cache: dict[tuple[str, str], _SubdistrictRows] = {}


def _subdistricts(session: Session) -> _SubdistrictRows:
    """All sub-districts (by code) with their polygons in EPSG:25832; the residential share.

    Kept per database and version of the rows (their ids and transaction ids, which any
    insert, update or delete changes): reading and transforming the city's 170 detailed
    polygons costs more than the rest of the loading.
    """
    version = str(
        session.execute(
            text(
                "SELECT concat(count(*), ';', string_agg(id || ':' || xmin::text, ',' ORDER BY id))"
                " FROM area WHERE kind = 'subdistrict'"
            )
        ).scalar_one()
    )
    key = (_database_url(session), version)
    found = _subdistrict_cache.get(key)
    if found is None:
        found = _read_subdistricts(session)
        if len(_subdistrict_cache) >= 8:
            _subdistrict_cache.clear()
        _subdistrict_cache[key] = found
    return found


def _database_url(session: Session) -> str:
    bind: object = session.get_bind()
    return str(getattr(getattr(bind, "engine", bind), "url", ""))


def _read_subdistricts(session: Session) -> _SubdistrictRows:
    rows = session.execute(
        text(
            "SELECT code, name, share_children_0_6_pct, share_children_6_18_pct, attributes, "
            "ST_Area(ST_Transform(geom, 25832)) / 10000.0, "
            "ST_AsBinary(ST_Transform(geom, 25832)) "
            "FROM area WHERE kind = 'subdistrict' ORDER BY code"
        )
    ).all()
    facts = [
        SubdistrictFacts(
            code=code,
            name=name,
            share_0_6_pct=young,
            share_6_18_pct=school,
            density_per_ha=density_from_attributes(attributes or {}),
            area_ha=float(area_ha),
        )
        for code, name, young, school, attributes, area_ha, _wkb in rows
    ]
    k, calibrated = residential_share(facts)
    polygons = list(shapely.from_wkb([bytes(row[6]) for row in rows])) if rows else []
    shapely.prepare(polygons)  # once, before the threads of the server share them
    return facts, polygons, k, calibrated


def _near(parts: list[BaseGeometry], geoms: np.ndarray, radius: float) -> np.ndarray:
    """Bool per geometry: within ``radius`` metres of one of the area's parts (0: touching)."""
    found = np.zeros(len(geoms), dtype=bool)
    if not len(geoms) or not parts:
        return found
    if radius > 0:
        # Points inside a part are near at once (a cheap test); only the others measure
        # their distance to the detailed borders.
        points = np.flatnonzero(shapely.get_type_id(geoms) == 0)
        inside = first_containing(parts, shapely.get_x(geoms[points]), shapely.get_y(geoms[points]))
        found[points[inside >= 0]] = True
        rest = np.flatnonzero(~found)
        if len(rest):
            tree = shapely.STRtree(geoms[rest])
            _part, hits = tree.query(
                np.asarray(parts, dtype=object), predicate="dwithin", distance=radius
            )
            found[rest[hits]] = True
        return found
    tree = shapely.STRtree(geoms)
    _part, hits = tree.query(np.asarray(parts, dtype=object), predicate="intersects")
    found[hits] = True
    return found


def _networks(
    session: Session, parts: list[BaseGeometry], radius: float, steps: bool
) -> list[NetworkIndex]:
    """The networks that come within ``radius`` of the area: by their extent (the convex
    hull of their junctions) where known, else by their edges."""
    rows = session.execute(
        text(
            "SELECT n.id, n.imported_at, ST_AsBinary(ST_Transform(n.extent, 25832)) "
            "FROM walk_network n ORDER BY n.id"
        )
    ).all()
    chosen = []
    for network_id, version, extent in rows:
        if extent is not None:
            near = bool(_near(parts, np.array([shapely.from_wkb(bytes(extent))]), radius)[0])
        else:  # not finished by an import (e.g. written by hand): ask the edges
            near = any(
                session.execute(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM walk_edge e WHERE e.network_id = :id"
                        " AND ST_DWithin(e.geom, ST_GeomFromWKB(:area, 25832), :radius))"
                    ),
                    {"id": network_id, "area": shapely.to_wkb(part), "radius": radius},
                ).scalar_one()
                for part in parts
            )
        if near:
            chosen.append((network_id, version))
    return [_network_index(session, network_id, version, steps) for network_id, version in chosen]


_index_cache: dict[tuple[int, bool], tuple[object, NetworkIndex]] = {}


def _network_index(session: Session, network_id: int, version: object, steps: bool) -> NetworkIndex:
    graph = get_graph(session, network_id, version)  # type: ignore[arg-type]
    cached = _index_cache.get((id(graph), steps))
    if cached is not None and cached[0] is graph:
        return cached[1]
    index = index_network(graph, steps)
    _index_cache[(id(graph), steps)] = (graph, index)
    return index


def _offers(
    session: Session, parts: list[BaseGeometry], radius: float
) -> tuple[np.ndarray, np.ndarray, Supply, dict[int, str], list[tuple[int, BaseGeometry]]]:
    """Locations (sites within ``radius`` of the area) and the active offers at them;
    service-area offers whose area meets it. All active offers are read (a city's few
    thousand rows) and chosen here, against the area's parts, without a union in SQL."""
    everything = session.execute(
        text(
            "SELECT o.id, o.title, o.category, o.age_min_months, o.age_max_months, o.capacity,"
            " s.id, ST_X(ST_Transform(s.geom, 25832)), ST_Y(ST_Transform(s.geom, 25832)),"
            " CASE WHEN o.site_id IS NULL THEN ST_AsBinary(ST_Transform(o.service_area, 25832))"
            " END"
            " FROM offer o LEFT JOIN site s ON s.id = o.site_id"
            " WHERE o.status = 'active' AND (s.id IS NOT NULL"
            "  OR (o.site_id IS NULL AND o.service_area IS NOT NULL))"
            " ORDER BY o.id"
        )
    ).all()
    at_site = np.array([row[6] is not None for row in everything], dtype=bool)
    points = np.asarray(
        shapely.points(
            np.array([row[7] if row[6] is not None else 0.0 for row in everything], dtype=float),
            np.array([row[8] if row[6] is not None else 0.0 for row in everything], dtype=float),
        )
    )
    areas = np.array(
        [None if row[6] is not None else shapely.from_wkb(bytes(row[9])) for row in everything],
        dtype=object,
    )
    keep = np.zeros(len(everything), dtype=bool)
    keep[at_site] = _near(parts, points[at_site], radius)
    keep[~at_site] = _near(parts, areas[~at_site], 0.0)
    rows = [row for row, chosen in zip(everything, keep.tolist(), strict=True) if chosen]
    site_pos: dict[int, int] = {}
    xs: list[float] = []
    ys: list[float] = []
    loc: list[int] = []
    service_areas: list[tuple[int, BaseGeometry]] = []
    titles: dict[int, str] = {}
    for offer_id, title, _c, _a, _b, _cap, site_id, x, y, service_wkb in rows:
        titles[offer_id] = title
        if site_id is not None:
            if site_id not in site_pos:
                site_pos[site_id] = len(xs)
                xs.append(x)
                ys.append(y)
            loc.append(site_pos[site_id])
        else:
            loc.append(-1)  # filled below: service-area offers come after the sites
            service_areas.append((offer_id, shapely.from_wkb(bytes(service_wkb))))
    n_sites = len(xs)
    loc_arr = np.array(loc, dtype=np.int64)
    loc_arr[loc_arr < 0] = n_sites + np.arange(int((loc_arr < 0).sum()))
    supply = Supply(
        loc=loc_arr,
        category=np.array([row[2] for row in rows], dtype=object),
        age_min=np.array([row[3] for row in rows], dtype=np.int64),
        age_max=np.array([row[4] for row in rows], dtype=np.int64),
        capacity=np.array([np.nan if row[5] is None else row[5] for row in rows], dtype=float),
        offer_id=np.array([row[0] for row in rows], dtype=np.int64),
    )
    return np.array(xs, dtype=float), np.array(ys, dtype=float), supply, titles, service_areas


def _service_area_pairs(
    grid: Grid, first_loc: int, service_areas: list[tuple[int, BaseGeometry]]
) -> Pairs:
    """Offers that come to the family: cells inside their service area are reached at once."""
    parts = []
    for position, (_offer, polygon) in enumerate(service_areas):
        inside = np.flatnonzero(shapely.contains_xy(polygon, grid.x, grid.y))
        parts.append(
            Pairs(
                np.full(len(inside), first_loc + position, dtype=np.int64),
                inside.astype(np.int64),
                np.zeros(len(inside)),
                np.zeros(len(inside), dtype=bool),
            )
        )
    return Pairs.concat(parts)


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
    all_facts, all_polygons, k, calibrated = _subdistricts(session)
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
    networks = _networks(session, parts, radius, profile.steps) if routed else []
    router = Router(
        networks,
        profile.speed_mps,
        settings.max_seconds,
        settings.detour_factor,
        settings.max_snap_m,
    )
    clock.lap("networks_s")
    loc_x, loc_y, supply, titles, service_areas = _offers(session, parts, radius)
    clock.lap("offers_s")
    cell_snap = _cell_snap(router, grid)
    clock.lap("snap_s")
    combos = phase_category_pairs(supply)
    groups = _site_groups(supply, len(loc_x), combos)
    searched, reach = router.search(
        loc_x, loc_y, grid.x, grid.y, cell_snap, PAIR_HORIZON_MIN * 60.0, groups
    )
    pairs = Pairs.concat([searched, _service_area_pairs(grid, len(loc_x), service_areas)])
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
    key = (_database_url(session), area_key, profile_key, repr(settings), data_fingerprint(session))
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


def coverage_result(base: PlanningBase) -> PlanningResult:
    combos = phase_category_pairs(base.supply)
    coverage = compute_coverage(
        base.pairs,
        base.supply,
        len(base.grid),
        base.n_locations,
        combos,
        nearest=base.nearest,
    )
    return PlanningResult(base, base.supply, base.pairs, base.n_locations, coverage)


# --- what-if -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A scenario's change in plain values (see :class:`mapservice.models.HypotheticalOffer`)."""

    id: int
    action: str
    category: str
    age_min_months: int
    age_max_months: int
    capacity: int | None
    replaces_offer_id: int | None
    x: float | None  # EPSG:25832
    y: float | None


def changes_of(scenario: Scenario) -> list[Change]:
    """The scenario's changes with their points in EPSG:25832."""
    from_points = [change for change in scenario.changes if change.geom is not None]
    points = [to_shape(c.geom) for c in from_points if c.geom is not None]
    lon = np.array([shapely.get_x(p) for p in points], dtype=float)
    lat = np.array([shapely.get_y(p) for p in points], dtype=float)
    xs, ys = _to_metric(lon, lat)
    at = {c.id: (float(x), float(y)) for c, x, y in zip(from_points, xs, ys, strict=True)}
    return [_change(c, at.get(c.id)) for c in scenario.changes]


def _to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = TO_METRIC.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _change(c: HypotheticalOffer, xy: tuple[float, float] | None) -> Change:
    return Change(
        id=c.id,
        action=c.action,
        category=c.category,
        age_min_months=c.age_min_months,
        age_max_months=c.age_max_months,
        capacity=c.capacity,
        replaces_offer_id=c.replaces_offer_id,
        x=xy[0] if xy else None,
        y=xy[1] if xy else None,
    )


def apply_changes(base: PlanningBase, changes: list[Change]) -> PlanningResult:
    """Coverage with the changes: removed/moved offers taken out, new points searched from."""
    removed = np.array(
        [c.replaces_offer_id for c in changes if c.action in ("remove", "move")], dtype=np.int64
    )
    keep = ~np.isin(base.supply.offer_id, removed)
    placed = [c for c in changes if c.action in ("add", "move") and c.x is not None]
    first = base.n_locations
    new_x = np.array([c.x for c in placed], dtype=float)
    new_y = np.array([c.y for c in placed], dtype=float)
    extra = base.router.pairs(new_x, new_y, base.grid.x, base.grid.y, base.cell_snap).shifted(first)
    supply = Supply(
        loc=np.concatenate([base.supply.loc[keep], first + np.arange(len(placed))]),
        category=np.concatenate(
            [base.supply.category[keep], np.array([c.category for c in placed], dtype=object)]
        ),
        age_min=np.concatenate(
            [base.supply.age_min[keep], np.array([c.age_min_months for c in placed], np.int64)]
        ),
        age_max=np.concatenate(
            [base.supply.age_max[keep], np.array([c.age_max_months for c in placed], np.int64)]
        ),
        capacity=np.concatenate(
            [
                base.supply.capacity[keep],
                np.array([np.nan if c.capacity is None else c.capacity for c in placed], float),
            ]
        ),
        offer_id=np.concatenate(
            [base.supply.offer_id[keep], np.array([-c.id for c in placed], np.int64)]
        ),
    )
    pairs = Pairs.concat([base.pairs, extra]) if len(extra) else base.pairs
    n_locations = first + len(placed)
    combos = phase_category_pairs(base.supply)
    for combo in phase_category_pairs(supply):
        if combo not in combos:
            combos.append(combo)
    coverage = compute_coverage(
        pairs, supply, len(base.grid), n_locations, combos, nearest=base.nearest
    )
    return PlanningResult(base, supply, pairs, n_locations, coverage)


@dataclass(frozen=True)
class Delta:
    """Scenario minus real state, per combination."""

    combos: list[tuple[str, str]]
    minutes: np.ndarray  # (combos, cells): change of minutes to the nearest; nan = unchanged/none
    newly_within: np.ndarray  # (combos, thresholds, cells) int: +1 gained, -1 lost
    shares: np.ndarray  # (combos, thresholds) change of the share of children within
    children_gained: np.ndarray  # (combos, thresholds)


def delta(before: PlanningResult, after: PlanningResult) -> Delta:
    combos = after.coverage.combos
    index = [before.coverage.combos.index(c) if c in before.coverage.combos else -1 for c in combos]
    n = len(before.grid)
    shape = (len(combos), n)
    old_minutes = np.full(shape, np.nan)
    old_shares = np.zeros((len(combos), len(after.coverage.thresholds)))
    before_shares = before.shares()
    for i, j in enumerate(index):
        if j >= 0:
            old_minutes[i] = before.coverage.minutes[j]
            old_shares[i] = np.nan_to_num(before_shares[j])
    horizon = after.base.router.horizon_s / 60.0
    old = np.nan_to_num(old_minutes, nan=horizon)
    new = np.nan_to_num(after.coverage.minutes, nan=horizon)
    change = new - old
    minutes = np.where(np.abs(change) > 1e-9, change, np.nan)
    thresholds = np.array(after.coverage.thresholds, dtype=float)
    gained = (new[:, None, :] <= thresholds[None, :, None]).astype(np.int8) - (
        old[:, None, :] <= thresholds[None, :, None]
    ).astype(np.int8)
    phase_pos = [PLANNING_PHASES.index(phase) for phase, _c in combos]
    children = after.base.demand[phase_pos]  # (combos, cells)
    children_gained = (gained * children[:, None, :]).sum(axis=2)
    shares = np.nan_to_num(after.shares()) - old_shares
    return Delta(combos, minutes, gained, shares, children_gained)
