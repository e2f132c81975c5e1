"""Loading an area's grid, demand, offers and walking times from the database, and the
what-if: coverage with a scenario's changes applied, and its difference to the real state.

The expensive part (the walking times between offer locations and cells) is cached per area,
profile and data version (a fingerprint of offers, sites, census cells and networks), so the
what-if only searches from the scenario's new points.
"""

from __future__ import annotations

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
    PLANNING_PHASES,
    Coverage,
    Supply,
    compute_coverage,
    phase_category_pairs,
    share_within,
    sort_pairs,
)
from mapservice.planning.demand import (
    SubdistrictFacts,
    census_demand,
    density_from_attributes,
    estimate_demand,
    residential_share,
)
from mapservice.planning.grid import Grid, assign_polygons, grid_for_polygon
from mapservice.planning.routing import NetworkIndex, Pairs, Router, Snap, index_network
from mapservice.planning.twostep import SupplyDemand, supply_demand
from mapservice.validation import ParameterError
from mapservice.walking.graph import get_graph
from mapservice.walking.profiles import WalkSettings

TO_METRIC = Transformer.from_crs(WGS84, METRIC_SRID, always_xy=True)
MAX_CELLS = 200_000  # a whole city is ~30,000; beyond this a request is refused, not slowed


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
    pairs: Pairs  # sorted by cell, seconds
    n_locations: int
    offer_titles: dict[int, str]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def estimated_cells(self) -> np.ndarray:
        """Cells no walking network reaches: all their times are estimates."""
        return self.cell_snap.network < 0


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


def _subdistricts(
    session: Session, area: BaseGeometry
) -> tuple[list[SubdistrictFacts], list[BaseGeometry], float, bool]:
    rows = session.execute(
        text(
            "SELECT code, name, share_children_0_6_pct, share_children_6_18_pct, attributes, "
            "ST_Area(ST_Transform(geom, 25832)) / 10000.0, "
            "ST_AsBinary(ST_Transform(geom, 25832)), "
            "ST_Intersects(ST_Transform(geom, 25832), ST_GeomFromWKB(:area, 25832)) "
            "FROM area WHERE kind = 'subdistrict' ORDER BY code"
        ),
        {"area": shapely.to_wkb(area)},
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
        for code, name, young, school, attributes, area_ha, _wkb, _hit in rows
    ]
    k, calibrated = residential_share(facts)
    keep = [i for i, row in enumerate(rows) if row[7]]
    polygons = [shapely.from_wkb(bytes(rows[i][6])) for i in keep]
    return [facts[i] for i in keep], polygons, k, calibrated


def _networks(
    session: Session, area: BaseGeometry, radius: float, steps: bool
) -> list[NetworkIndex]:
    rows = session.execute(
        text(
            "SELECT n.id, n.imported_at FROM walk_network n WHERE EXISTS ("
            " SELECT 1 FROM walk_edge e WHERE e.network_id = n.id"
            " AND ST_DWithin(e.geom, ST_GeomFromWKB(:area, 25832), :radius)) ORDER BY n.id"
        ),
        {"area": shapely.to_wkb(area), "radius": radius},
    ).all()
    return [_network_index(session, network_id, version, steps) for network_id, version in rows]


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
    session: Session, area: BaseGeometry, radius: float
) -> tuple[np.ndarray, np.ndarray, Supply, dict[int, str], list[tuple[int, BaseGeometry]]]:
    """Locations (sites near the area) and the active offers at them; service-area offers."""
    rows = session.execute(
        text(
            "SELECT o.id, o.title, o.category, o.age_min_months, o.age_max_months, o.capacity,"
            " s.id, ST_X(ST_Transform(s.geom, 25832)), ST_Y(ST_Transform(s.geom, 25832)),"
            " CASE WHEN o.site_id IS NULL THEN ST_AsBinary(ST_Transform(o.service_area, 25832))"
            " END"
            " FROM offer o LEFT JOIN site s ON s.id = o.site_id"
            " WHERE o.status = 'active' AND ("
            "  (s.id IS NOT NULL AND ST_DWithin(ST_Transform(s.geom, 25832),"
            "                                  ST_GeomFromWKB(:area, 25832), :radius))"
            "  OR (o.site_id IS NULL AND ST_Intersects(ST_Transform(o.service_area, 25832),"
            "                                           ST_GeomFromWKB(:area, 25832))))"
            " ORDER BY o.id"
        ),
        {"area": shapely.to_wkb(area), "radius": radius},
    ).all()
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
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if profile_key not in settings.profiles:
        raise ParameterError("profile", f"unknown walking profile {profile_key!r}")
    profile = settings.profile(profile_key)
    key, name, area = resolve_area(session, area_key)
    grid = grid_for_polygon(area)
    if len(grid) > MAX_CELLS:
        raise ParameterError("area", f"{len(grid)} cells is more than {MAX_CELLS}")
    subdistricts, polygons, k, calibrated = _subdistricts(session, area)
    cell_group = assign_polygons(grid, polygons)
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
    timings["grid_demand_s"] = time.perf_counter() - started
    radius = settings.max_seconds * profile.speed_mps
    networks = _networks(session, area, radius, profile.steps) if routed else []
    router = Router(
        networks,
        profile.speed_mps,
        settings.max_seconds,
        settings.detour_factor,
        settings.max_snap_m,
    )
    loc_x, loc_y, supply, titles, service_areas = _offers(session, area, radius)
    timings["load_s"] = time.perf_counter() - started - timings["grid_demand_s"]
    mark = time.perf_counter()
    cell_snap = router.snap(grid.x, grid.y)
    pairs = Pairs.concat(
        [
            router.pairs(loc_x, loc_y, grid.x, grid.y, cell_snap),
            _service_area_pairs(grid, len(loc_x), service_areas),
        ]
    )
    pairs = sort_pairs(pairs)
    timings["walking_s"] = time.perf_counter() - mark
    return PlanningBase(
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


_cache: OrderedDict[tuple[object, ...], PlanningBase] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 6


def planning_base(
    session: Session, area_key: str, settings: WalkSettings, profile_key: str
) -> PlanningBase:
    """:func:`build_base`, cached per database, area, profile, settings and data version."""
    bind: object = session.get_bind()
    url = str(getattr(getattr(bind, "engine", bind), "url", ""))
    key = (url, area_key, profile_key, repr(settings), data_fingerprint(session))
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
        base.pairs, base.supply, len(base.grid), base.n_locations, combos, presorted=True
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
    pairs = sort_pairs(Pairs.concat([base.pairs, extra])) if len(extra) else base.pairs
    n_locations = first + len(placed)
    combos = phase_category_pairs(base.supply)
    for combo in phase_category_pairs(supply):
        if combo not in combos:
            combos.append(combo)
    coverage = compute_coverage(pairs, supply, len(base.grid), n_locations, combos, presorted=True)
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
