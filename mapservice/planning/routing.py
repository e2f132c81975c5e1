"""Walking seconds between offer locations and grid cells, in bulk.

Over an imported network two kinds of search run on the walking engine's graph (prepared by
:mod:`mapservice.planning.network_index`); cells are joined to them by their nearest usable
node, with the straight line from the cell's centre to that node walked at the profile's
speed:

* :meth:`Router.pairs`: one bounded Dijkstra per location (locations at the same node
  share it), each on the part of the graph it can reach: locations are grouped in tiles of
  :data:`TILE_M` and each tile searches the sub-graph of the nodes within the bound of its
  locations' box (a walk is never shorter than the straight line, so nothing beyond can be
  reached in time). scipy's Dijkstra costs time in proportion to the whole graph for every
  source; on the tile's sub-graph that cost shrinks with it.
* :meth:`Router.nearest`: the time from the nearest of a group of locations, one
  multi-source Dijkstra per group (a virtual source joined to each location's node by its
  straight-line leg) — for the minutes to the nearest offer beyond the horizon of the pairs.

Where no network covers a cell or a location, the time is the walking engine's estimate:
straight line × detour factor at the profile's speed, and the pair is marked ``estimated``.

Free of Flask and of the database (see :mod:`mapservice.planning.loading` for loading).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from mapservice.planning.network_index import MIN_LEG_M, NetworkIndex

# Locations are searched in tiles of this size (metres): each tile's Dijkstra runs on the
# nodes within its bound of the tile's locations. Smaller tiles make smaller graphs but more
# calls; 2 km measured best on the Dortmund network (106,200 nodes, 901 sites, 15 minutes).
TILE_M = 2000.0
CHUNK = 64  # sources per Dijkstra call: bounds memory at CHUNK × sub-graph nodes floats


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
class Reach:
    """What the pairs' searches learnt about groups of locations: per network, (groups,
    nodes) metres from the group's nearest location (its leg included), exact up to
    ``limit_m`` — where the search for the nearest beyond may start."""

    limit_m: float
    n_groups: int
    metres: dict[int, np.ndarray]


# A group whose sites reach at least this share of the graph within the pairs' horizon
# continues from the border of what they reach; a smaller one searches from its sites.
FRONTIER_SHARE = 0.3


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
        horizon_s: float | None = None,
    ) -> Pairs:
        """All (location, cell) pairs within ``horizon_s`` (routed; default: the router's
        horizon) — estimated pairs always up to the router's horizon."""
        return self.search(loc_x, loc_y, cell_x, cell_y, cell_snap, horizon_s)[0]

    def search(
        self,
        loc_x: np.ndarray,
        loc_y: np.ndarray,
        cell_x: np.ndarray,
        cell_y: np.ndarray,
        cell_snap: Snap,
        horizon_s: float | None = None,
        groups: list[np.ndarray] | None = None,
    ) -> tuple[Pairs, Reach]:
        """:meth:`pairs`, and for each group of locations the metres from its nearest
        location to every node within the pairs' horizon (see :class:`Reach`)."""
        horizon = self.horizon_s if horizon_s is None else min(horizon_s, self.horizon_s)
        groups = groups or []
        loc_snap = self.snap(loc_x, loc_y)
        parts: list[Pairs] = []
        reach = Reach(horizon * self.speed_mps, len(groups), {})
        for k, net in enumerate(self.networks):
            cells = np.flatnonzero(cell_snap.network == k)
            locs = np.flatnonzero(loc_snap.network == k)
            if not len(cells) or not len(locs):
                continue
            membership = np.array([np.isin(locs, group) for group in groups], dtype=bool)
            membership = membership.reshape(len(groups), len(locs))
            found = self._routed(net, locs, loc_snap, cells, cell_snap, horizon, membership)
            parts.extend(found[0])
            if groups:
                reach.metres[k] = found[1]
        parts.append(self._estimated(loc_x, loc_y, loc_snap, cell_x, cell_y, cell_snap))
        return Pairs.concat(parts), reach

    def _routed(
        self,
        net: NetworkIndex,
        locs: np.ndarray,
        loc_snap: Snap,
        cells: np.ndarray,
        cell_snap: Snap,
        horizon_s: float,
        membership: np.ndarray,
    ) -> tuple[list[Pairs], np.ndarray]:
        """Pairs over one network: a bounded search per distinct node, tile by tile; and per
        group (``membership``: groups × ``locs``) the metres from its nearest location to
        every node reached."""
        limit_m = horizon_s * self.speed_mps
        nodes, first = np.unique(loc_snap.node[locs], return_inverse=True)
        n_groups = len(membership)
        reach = np.full((n_groups, net.matrix.shape[0]), np.inf)
        # Per node and group: the shortest leg of the group's locations at that node.
        node_leg = np.full((len(nodes), n_groups), np.inf)
        for g in range(n_groups):
            np.minimum.at(
                node_leg[:, g], first[membership[g]], loc_snap.metres[locs[membership[g]]]
            )
        node_xy = net.node_xy[nodes]
        tile = np.floor(node_xy / TILE_M).astype(np.int64)
        order = np.lexsort((tile[:, 1], tile[:, 0]))
        key = tile[order]
        breaks = np.flatnonzero(np.any(key[1:] != key[:-1], axis=1)) + 1
        # Locations by their node (several sites may share one).
        by_node = np.argsort(first, kind="stable")
        node_start = np.searchsorted(first[by_node], np.arange(len(nodes) + 1))
        cell_nodes = cell_snap.node[cells]
        cell_leg_s = cell_snap.metres[cells] / self.speed_mps
        margin = limit_m * net.stretch
        parts = []
        for group in np.split(order, breaks):
            lo = node_xy[group].min(axis=0) - margin
            hi = node_xy[group].max(axis=0) + margin
            inside, sub = net.subgraph(lo, hi)
            local_cells = np.flatnonzero((cell_nodes >= inside[0]) & (cell_nodes <= inside[-1]))
            position = np.searchsorted(inside, cell_nodes[local_cells])
            hit = inside[np.minimum(position, len(inside) - 1)] == cell_nodes[local_cells]
            local_cells, position = local_cells[hit], position[hit]
            if not len(local_cells) and not n_groups:
                continue
            sources = np.searchsorted(inside, nodes[group])
            for start in range(0, len(group), CHUNK):
                chunk = group[start : start + CHUNK]
                reached = np.atleast_2d(
                    dijkstra(
                        sub, directed=True, indices=sources[start : start + CHUNK], limit=limit_m
                    )
                )
                for g in range(n_groups):
                    leg = node_leg[chunk, g]
                    rows_g = np.flatnonzero(np.isfinite(leg))
                    if len(rows_g):
                        best = (reached[rows_g] + leg[rows_g, None]).min(axis=0)
                        reach[g, inside] = np.minimum(reach[g, inside], best)
                metres = reached[:, position]
                node_seconds = metres / self.speed_mps + cell_leg_s[local_cells][None, :]
                # Each node's row, once per location at that node with its own leg.
                counts = node_start[chunk + 1] - node_start[chunk]
                rows = np.repeat(np.arange(len(chunk)), counts)
                offsets = np.repeat(node_start[chunk] - (np.cumsum(counts) - counts), counts)
                loc_at = locs[by_node[np.arange(int(counts.sum())) + offsets]]
                seconds = node_seconds[rows] + (loc_snap.metres[loc_at] / self.speed_mps)[:, None]
                parts.append(self._within(loc_at, cells[local_cells], seconds, horizon_s))
        return parts, reach

    def nearest(
        self,
        loc_x: np.ndarray,
        loc_y: np.ndarray,
        groups: list[np.ndarray],
        cell_snap: Snap,
        reach: Reach | None = None,
        rows: list[int] | None = None,
    ) -> np.ndarray:
        """(groups, cells) routed seconds from the nearest location of each group (inf where
        none is within the horizon or the cell is off the networks): one multi-source
        Dijkstra per group and network. Where ``reach`` (row ``rows[i]`` for group ``i``)
        shows that a group reaches much of the graph already, the search continues from the
        border of what it reaches instead, through the rest of the graph only."""
        result = np.full((len(groups), len(cell_snap.node)), np.inf)
        if not len(groups):
            return result
        loc_snap = self.snap(loc_x, loc_y)
        limit_m = self.horizon_s * self.speed_mps
        for k, net in enumerate(self.networks):
            cells = np.flatnonzero(cell_snap.network == k)
            if not len(cells):
                continue
            matrix = net.matrix
            n = matrix.shape[0]
            cell_nodes = cell_snap.node[cells]
            cell_leg_s = cell_snap.metres[cells] / self.speed_mps
            targets, legs, used = [], [], []
            for g, group in enumerate(groups):
                if reach is not None and rows is not None and k in reach.metres:
                    known = reach.metres[k][rows[g]]
                    covered = known <= reach.limit_m
                    if covered.sum() >= FRONTIER_SHARE * n:
                        metres = _from_frontier(net, known, covered, limit_m)
                        seconds = metres[cell_nodes] / self.speed_mps + cell_leg_s
                        seconds[seconds > self.horizon_s] = np.inf
                        result[g, cells] = seconds
                        continue
                group = np.asarray(group, dtype=np.int64)
                group = group[loc_snap.network[group] == k]
                if not len(group):
                    continue
                # One arc per node: the shortest leg of the locations there.
                node, leg = loc_snap.node[group], loc_snap.metres[group]
                order = np.lexsort((leg, node))
                keep = np.ones(len(order), dtype=bool)
                keep[1:] = node[order][1:] != node[order][:-1]
                targets.append(node[order][keep])
                legs.append(np.maximum(leg[order][keep], MIN_LEG_M))
                used.append(g)
            if not used:
                continue
            # The virtual sources are extra rows after the graph's nodes: arcs out of them
            # only, so no path passes through one.
            sizes = np.array([len(t) for t in targets])
            indptr = np.concatenate([matrix.indptr, matrix.indptr[-1] + np.cumsum(sizes)])
            total = n + len(used)
            augmented = csr_array(
                (
                    np.concatenate([matrix.data, *legs]),
                    np.concatenate([matrix.indices, *targets]).astype(matrix.indices.dtype),
                    indptr.astype(matrix.indptr.dtype),
                ),
                shape=(total, total),
            )
            for start in range(0, len(used), CHUNK):
                rows = used[start : start + CHUNK]
                metres = np.atleast_2d(
                    dijkstra(
                        augmented,
                        directed=True,
                        indices=n + np.arange(start, start + len(rows)),
                        limit=limit_m,
                    )
                )[:, cell_nodes]
                seconds = metres / self.speed_mps + cell_leg_s[None, :]
                seconds[seconds > self.horizon_s] = np.inf
                result[np.ix_(np.asarray(rows), cells)] = seconds
        return result

    @staticmethod
    def _within(
        locs: np.ndarray, cells: np.ndarray, seconds: np.ndarray, horizon_s: float
    ) -> Pairs:
        i, j = np.nonzero(seconds <= horizon_s)
        return Pairs(
            locs[i].astype(np.int64),
            cells[j].astype(np.int64),
            seconds[i, j].astype(float),
            np.zeros(len(i), dtype=bool),
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


def _from_frontier(
    net: NetworkIndex, known: np.ndarray, covered: np.ndarray, limit_m: float
) -> np.ndarray:
    """Metres from a group's nearest location to every node, given ``known`` exactly on the
    ``covered`` nodes: a Dijkstra from the covered nodes next to uncovered ones (each
    starting at its known distance) through the uncovered rest.

    The shortest walk to an uncovered node leaves the covered part for the last time at
    such a border node, so searching the uncovered nodes and the border suffices.
    """
    variant = net.graph.variant(net.steps)
    border = np.zeros(len(covered), dtype=bool)
    border[variant.rows[covered[variant.rows] & ~covered[variant.cols]]] = True
    inside = np.flatnonzero(~covered | border)
    sub = net.induced(inside)
    starts = np.flatnonzero(border[inside])
    size = len(inside)
    augmented = csr_array(
        (
            np.concatenate([sub.data, np.maximum(known[inside[starts]], MIN_LEG_M)]),
            np.concatenate([sub.indices, starts]).astype(np.int64),
            np.concatenate([sub.indptr, [sub.indptr[-1] + len(starts)]]).astype(np.int64),
        ),
        shape=(size + 1, size + 1),
    )
    found = np.atleast_2d(dijkstra(augmented, directed=True, indices=[size], limit=limit_m))[0]
    metres = np.where(covered, known, np.inf)
    rest = ~covered[inside]
    metres[inside[rest]] = found[:size][rest]
    return metres


def estimate_seconds(metres: np.ndarray, speed_mps: float, detour: float) -> np.ndarray:
    """The estimate fallback: straight line × detour factor at walking speed."""
    return np.asarray(metres) * detour / speed_mps
