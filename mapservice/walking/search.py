"""Walking times from a point to the sites, searched per request in the worker's memory.

Each worker holds the imported networks as sparse graphs (:func:`graph.get_graph`) and,
per data version, where every site meets them (``walk_site_snap``, written by
:mod:`mapservice.walking.precompute`). A reach request then costs:

* the snap: the nearest usable edge from an R-tree of the edges (shapely's ``STRtree``,
  one per network and step rule, built once per network version);
* one Dijkstra from the point (compiled, :func:`kernels.bounded_search`, bounded by the
  request's minutes), started at both ends of the point's edge at their true distances;
* the sites' times read off at the two ends of each site's edge (numpy, all sites at once),
  and along the edge for sites on the point's own edge.

Nothing per node is stored, so a site moved or a network imported needs no more than its
snap rewritten, and the answer is always that of the transaction's own data version.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.data_cache import data_version, database_key
from mapservice.walking.graph import WalkGraph, get_graph, network_versions
from mapservice.walking.kernels import bounded_search
from mapservice.walking.kernels import warm_up as warm_up_kernels
from mapservice.walking.profiles import WalkProfile, WalkSettings


@dataclass(frozen=True)
class EdgeIndex:
    """The usable edges of one network and step rule under an R-tree."""

    tree: shapely.STRtree
    positions: np.ndarray  # tree item -> edge position in the graph
    bounds: tuple[float, float, float, float]  # of all its edges: xmin, ymin, xmax, ymax

    def near(self, x: float, y: float, distance: float) -> bool:
        """Whether the point lies within ``distance`` of the edges' bounding box: a point
        in another town skips the tree."""
        xmin, ymin, xmax, ymax = self.bounds
        return xmin - distance <= x <= xmax + distance and ymin - distance <= y <= ymax + distance


@dataclass(frozen=True)
class RoutedSites:
    """The sites of one profile placed on one network."""

    site_ids: np.ndarray  # int64
    edge: np.ndarray  # edge position in the graph
    node_u: np.ndarray  # node index of the edge's source
    node_v: np.ndarray
    via_u: np.ndarray  # metres from the site to node_u (along the edge and onto it)
    via_v: np.ndarray
    fraction: np.ndarray
    snap_m: np.ndarray


@dataclass(frozen=True)
class ProfileSites:
    routed: dict[int, RoutedSites]  # by network id
    # Sites with no routed time for this profile (off every network, or new): estimated.
    unrouted_ids: np.ndarray
    unrouted_xy: np.ndarray  # (n, 2) EPSG:25832


@dataclass(frozen=True)
class Network:
    graph: WalkGraph
    edges: dict[bool, EdgeIndex | None]  # by step rule; None: no usable edge


@dataclass(frozen=True)
class ReachState:
    """What a worker needs to answer reach requests at one data version."""

    version: int
    networks: dict[int, Network]
    all_ids: np.ndarray  # every site
    all_xy: np.ndarray
    profiles: dict[str, ProfileSites]

    def sites_of(self, profile: str) -> ProfileSites:
        """The sites as placed for ``profile``; a profile never snapped has all estimated."""
        found = self.profiles.get(profile)
        return found if found is not None else ProfileSites({}, self.all_ids, self.all_xy)


@dataclass(frozen=True)
class SearchSnap:
    network: Network
    edge: int  # position in the graph
    fraction: float
    distance_m: float


_SITES_SQL = text(
    """
    SELECT s.id, ST_X(s.g), ST_Y(s.g), w.profile, w.network_id, w.edge_id, w.fraction, w.snap_m
    FROM (SELECT id, ST_Transform(geom, 25832) AS g FROM site) s
    LEFT JOIN walk_site_snap w ON w.site_id = s.id AND w.edge_id IS NOT NULL
    ORDER BY s.id
    """
)


def _edge_index(graph: WalkGraph, steps: bool) -> EdgeIndex | None:
    positions = np.flatnonzero(graph.variant(steps).usable_edge)
    if not len(positions):
        return None
    geoms = graph.geoms[positions]
    xmin, ymin, xmax, ymax = (float(value) for value in shapely.total_bounds(geoms))
    return EdgeIndex(shapely.STRtree(geoms), positions, (xmin, ymin, xmax, ymax))


def _network(graph: WalkGraph, previous: Network | None) -> Network:
    if previous is not None and previous.graph is graph:
        return previous
    return Network(graph, {steps: _edge_index(graph, steps) for steps in (True, False)})


def _routed(graph: WalkGraph, rows: list[tuple[int, int, float, float]]) -> RoutedSites:
    site_ids = np.array([row[0] for row in rows], dtype=np.int64)
    edge_ids = np.array([row[1] for row in rows], dtype=np.int64)
    fraction = np.array([row[2] for row in rows], dtype=float)
    snap_m = np.array([row[3] for row in rows], dtype=float)
    edge = np.searchsorted(graph.edge_ids, edge_ids)
    length = graph.length[edge]
    return RoutedSites(
        site_ids,
        edge,
        graph.edge_u[edge],
        graph.edge_v[edge],
        fraction * length + snap_m,
        (1.0 - fraction) * length + snap_m,
        fraction,
        snap_m,
    )


def _build(
    session: Session, version: int, settings: WalkSettings, previous: ReachState | None
) -> ReachState:
    networks: dict[int, Network] = {}
    for network_id, imported_at in sorted(network_versions(session).items()):
        try:
            graph = get_graph(session, network_id, imported_at)
        except LookupError:  # a network without edges routes nothing
            continue
        networks[network_id] = _network(
            graph, previous.networks.get(network_id) if previous else None
        )
    xy: dict[int, tuple[float, float]] = {}
    placed: dict[str, dict[int, list[tuple[int, int, float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for site_id, x, y, profile, network_id, edge_id, fraction, snap_m in session.execute(
        _SITES_SQL
    ).tuples():
        xy[site_id] = (x, y)
        network = networks.get(network_id) if network_id is not None else None
        if network is None:
            continue
        graph = network.graph
        position = int(np.searchsorted(graph.edge_ids, edge_id))
        if position < len(graph.edge_ids) and graph.edge_ids[position] == edge_id:
            placed[profile][network_id].append((site_id, edge_id, fraction, snap_m))
    all_ids = np.fromiter(xy.keys(), dtype=np.int64, count=len(xy))
    all_xy = np.array(list(xy.values()), dtype=float).reshape(-1, 2)
    profiles = {}
    for key in set(settings.profiles) | set(placed):
        routed = {
            network_id: _routed(networks[network_id].graph, rows)
            for network_id, rows in placed[key].items()
        }
        done = np.concatenate([r.site_ids for r in routed.values()] + [np.array([], np.int64)])
        unrouted = ~np.isin(all_ids, done)
        profiles[key] = ProfileSites(routed, all_ids[unrouted], all_xy[unrouted])
    return ReachState(version, networks, all_ids, all_xy, profiles)


_lock = threading.Lock()
# Per database, the states of the last few data versions: a transaction that wrote (and
# will roll back) sees a newer version than the committed one the other requests see, and
# neither should rebuild the other's on every request. They share graphs and R-trees.
_states: dict[str, dict[int, ReachState]] = {}
KEEP_VERSIONS = 4
# Per database, the state of the version read last: what a request works on while it reads
# the version again (see reach.at_current_version).
_latest: dict[str, ReachState] = {}


def latest_state(session: Session) -> ReachState | None:
    """The state of the data version this worker read last in the session's database
    (``None`` before the first): the version a request will most likely read."""
    return _latest.get(database_key(session))


def reach_state(session: Session, version: int, settings: WalkSettings) -> ReachState:
    """The state for the data version the session's transaction sees (``version``, read in
    it): built on the first request of a version, from the graphs in the cache."""
    key = database_key(session)
    state = _states.get(key, {}).get(version)
    if state is not None:
        _latest[key] = state
        return state
    with _lock:
        states = _states.setdefault(key, {})
        state = states.get(version)
        if state is None:
            newest = states[max(states)] if states else None
            state = states[version] = _build(session, version, settings, newest)
            for old in sorted(states)[:-KEEP_VERSIONS]:
                del states[old]
        _latest[key] = state
    return state


def snap_xy(
    state: ReachState, x: float, y: float, steps: bool, max_snap_m: float
) -> SearchSnap | None:
    """The nearest usable edge of any network within ``max_snap_m`` of the point."""
    point = shapely.Point(x, y)
    best: SearchSnap | None = None
    for network in state.networks.values():
        index = network.edges[steps]
        if index is None or not index.near(x, y, max_snap_m):
            continue
        items, distances = index.tree.query_nearest(
            point, max_distance=max_snap_m, return_distance=True
        )
        if not len(items) or (best is not None and distances[0] >= best.distance_m):
            continue
        edge = int(index.positions[items[0]])
        fraction = float(
            shapely.line_locate_point(network.graph.geoms[edge], point, normalized=True)
        )
        best = SearchSnap(network, edge, fraction, float(distances[0]))
    return best


def search_from(snap: SearchSnap, steps: bool, offset_m: float, limit_m: float) -> np.ndarray:
    """Metres from the snapped point to every node of its graph (inf beyond ``limit_m``):
    one bounded search from the point itself, joined to both ends of its edge by
    ``offset_m`` plus the way along the edge."""
    graph = snap.network.graph
    length = float(graph.length[snap.edge])
    matrix = graph.variant(steps).matrix
    return bounded_search(
        matrix.indptr,
        matrix.indices,
        matrix.data,
        np.array([graph.edge_u[snap.edge], graph.edge_v[snap.edge]], dtype=np.int64),
        np.array([snap.fraction * length, (1.0 - snap.fraction) * length]) + offset_m,
        limit_m,
    )


def routed_seconds(
    state: ReachState, snap: SearchSnap, profile: WalkProfile, limit_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Site ids and walking seconds (within ``limit_s``) of the sites routed for
    ``profile`` on the snapped network, from one search."""
    graph = snap.network.graph
    sites = state.sites_of(profile.key).routed.get(graph.network_id)
    if sites is None or not len(sites.site_ids):
        return np.array([], np.int64), np.array([], float)
    limit_m = limit_s * profile.speed_mps
    length = float(graph.length[snap.edge])
    dist = search_from(snap, profile.steps, snap.distance_m, limit_m)
    metres = np.minimum(dist[sites.node_u] + sites.via_u, dist[sites.node_v] + sites.via_v)
    same = sites.edge == snap.edge
    if same.any():
        along = np.abs(sites.fraction[same] - snap.fraction) * length
        metres[same] = np.minimum(metres[same], along + sites.snap_m[same] + snap.distance_m)
    seconds = metres / profile.speed_mps
    keep = seconds <= limit_s
    return sites.site_ids[keep], seconds[keep]


def estimated_seconds(
    ids: np.ndarray,
    xy: np.ndarray,
    x: float,
    y: float,
    profile: WalkProfile,
    settings: WalkSettings,
    limit_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Site ids and estimated seconds (straight line x detour factor) within ``limit_s``."""
    if not len(ids):
        return ids, np.array([], float)
    seconds = np.hypot(xy[:, 0] - x, xy[:, 1] - y) * settings.detour_factor / profile.speed_mps
    keep = seconds <= limit_s
    return ids[keep], seconds[keep]


def warm_up(session: Session, settings: WalkSettings) -> ReachState:
    """Load the compiled search and isochrone loops, the graphs, their R-trees and the
    site snaps of the current data version, so that a worker's first reach request finds
    them (the whole city's network takes seconds to load)."""
    warm_up_kernels()  # compiled once per installation, then loaded from numba's cache
    return reach_state(session, data_version(session), settings)
