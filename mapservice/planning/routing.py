"""Walking seconds between offer locations and grid cells, in bulk.

Over an imported network the search runs from the locations (a many-source search: one
bounded Dijkstra per location, in chunks of sources, on the walking engine's graph); cells are
joined to it by their nearest usable node, with the straight line from the cell's centre to
that node walked at the profile's speed. Where
no network covers a cell or a location, the time is the walking engine's estimate: straight
line × detour factor at the profile's speed, and the pair is marked ``estimated``.

Free of Flask and of the database (see :mod:`mapservice.planning.service` for loading).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from mapservice.walking.graph import WalkGraph

CHUNK = 128  # sources per Dijkstra call: bounds memory at CHUNK × nodes floats


@dataclass(frozen=True)
class NetworkIndex:
    """A walking graph for one step rule, with its usable nodes in a k-d tree."""

    graph: WalkGraph
    steps: bool
    node_xy: np.ndarray  # (nodes, 2) EPSG:25832
    usable: np.ndarray  # node indices that may be snapped to
    tree: cKDTree


def node_coordinates(graph: WalkGraph) -> np.ndarray:
    """Node positions from the edge geometries' end points."""
    xy = np.full((len(graph.node_ids), 2), np.nan)
    start = shapely.get_coordinates(shapely.get_point(graph.geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(graph.geoms, -1))
    xy[graph.edge_u] = start
    xy[graph.edge_v] = end
    return xy


def index_network(graph: WalkGraph, steps: bool) -> NetworkIndex:
    xy = node_coordinates(graph)
    usable = np.flatnonzero(graph.variant(steps).usable_node & ~np.isnan(xy[:, 0]))
    return NetworkIndex(graph, steps, xy, usable, cKDTree(xy[usable]))


@dataclass(frozen=True)
class Snap:
    """Where points meet a network: its position in the router's list (-1: none), node, metres."""

    network: np.ndarray
    node: np.ndarray
    metres: np.ndarray


@dataclass(frozen=True)
class Pairs:
    """Walking seconds from location ``loc`` to cell ``cell`` (only pairs within the horizon)."""

    loc: np.ndarray  # int64
    cell: np.ndarray  # int64
    seconds: np.ndarray  # float64
    estimated: np.ndarray  # bool

    @staticmethod
    def empty() -> Pairs:
        return Pairs(
            np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0, dtype=bool)
        )

    @staticmethod
    def concat(parts: list[Pairs]) -> Pairs:
        parts = [part for part in parts if len(part.loc)] or [Pairs.empty()]
        return Pairs(
            np.concatenate([p.loc for p in parts]),
            np.concatenate([p.cell for p in parts]),
            np.concatenate([p.seconds for p in parts]),
            np.concatenate([p.estimated for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.loc)

    def without_locations(self, drop: np.ndarray) -> Pairs:
        keep = ~np.isin(self.loc, drop)
        return Pairs(self.loc[keep], self.cell[keep], self.seconds[keep], self.estimated[keep])

    def shifted(self, offset: int) -> Pairs:
        return Pairs(self.loc + offset, self.cell, self.seconds, self.estimated)


@dataclass(frozen=True)
class Router:
    """Bulk walking times for one profile."""

    networks: list[NetworkIndex]
    speed_mps: float
    horizon_s: float
    detour: float
    max_snap_m: float

    def snap(self, x: np.ndarray, y: np.ndarray) -> Snap:
        """The nearest usable node of the nearest network within ``max_snap_m``."""
        count = len(x)
        network = np.full(count, -1, dtype=np.int64)
        node = np.full(count, -1, dtype=np.int64)
        metres = np.full(count, np.inf)
        points = np.column_stack([x, y]) if count else np.empty((0, 2))
        for k, net in enumerate(self.networks):
            if not len(net.usable) or not count:
                continue
            dist, pos = net.tree.query(points, distance_upper_bound=self.max_snap_m)
            better = np.isfinite(dist) & (dist < metres)
            network[better] = k
            node[better] = net.usable[pos[better]]
            metres[better] = dist[better]
        return Snap(network, node, metres)

    def pairs(
        self,
        loc_x: np.ndarray,
        loc_y: np.ndarray,
        cell_x: np.ndarray,
        cell_y: np.ndarray,
        cell_snap: Snap,
    ) -> Pairs:
        """All (location, cell) pairs within the horizon."""
        loc_snap = self.snap(loc_x, loc_y)
        parts: list[Pairs] = []
        for k, net in enumerate(self.networks):
            cells = np.flatnonzero(cell_snap.network == k)
            locs = np.flatnonzero(loc_snap.network == k)
            if not len(cells) or not len(locs):
                continue
            cell_nodes = cell_snap.node[cells]
            cell_leg = cell_snap.metres[cells] / self.speed_mps
            for start in range(0, len(locs), CHUNK):
                chunk = locs[start : start + CHUNK]
                metres = net.graph.distances_from(
                    loc_snap.node[chunk].tolist(), net.steps, self.horizon_s * self.speed_mps
                )
                seconds = metres[:, cell_nodes] / self.speed_mps
                seconds += cell_leg[None, :] + (loc_snap.metres[chunk] / self.speed_mps)[:, None]
                parts.append(self._within(chunk, cells, seconds, estimated=False))
        parts.append(self._estimated(loc_x, loc_y, loc_snap, cell_x, cell_y, cell_snap))
        return Pairs.concat(parts)

    def _within(
        self, locs: np.ndarray, cells: np.ndarray, seconds: np.ndarray, *, estimated: bool
    ) -> Pairs:
        i, j = np.nonzero(seconds <= self.horizon_s)
        return Pairs(
            locs[i].astype(np.int64),
            cells[j].astype(np.int64),
            seconds[i, j].astype(float),
            np.full(len(i), estimated),
        )

    def _estimated(
        self,
        loc_x: np.ndarray,
        loc_y: np.ndarray,
        loc_snap: Snap,
        cell_x: np.ndarray,
        cell_y: np.ndarray,
        cell_snap: Snap,
    ) -> Pairs:
        """Straight line × detour for every pair that no single network connects."""
        radius = self.horizon_s * self.speed_mps / self.detour
        parts = []
        # Cells off every network: to all locations. Cells on network k: to locations not on k.
        groups = [(np.flatnonzero(cell_snap.network < 0), np.arange(len(loc_x)))]
        for k in range(len(self.networks)):
            groups.append(
                (np.flatnonzero(cell_snap.network == k), np.flatnonzero(loc_snap.network != k))
            )
        for cells, locs in groups:
            if not len(cells) or not len(locs):
                continue
            cell_tree = cKDTree(np.column_stack([cell_x[cells], cell_y[cells]]))
            loc_tree = cKDTree(np.column_stack([loc_x[locs], loc_y[locs]]))
            found = cell_tree.sparse_distance_matrix(loc_tree, radius, output_type="ndarray")
            seconds = found["v"] * self.detour / self.speed_mps
            parts.append(
                Pairs(
                    locs[found["j"]].astype(np.int64),
                    cells[found["i"]].astype(np.int64),
                    seconds.astype(float),
                    np.ones(len(found), dtype=bool),
                )
            )
        return Pairs.concat(parts)


def estimate_seconds(metres: np.ndarray, speed_mps: float, detour: float) -> np.ndarray:
    """The estimate fallback: straight line × detour factor at walking speed."""
    return np.asarray(metres) * detour / speed_mps
