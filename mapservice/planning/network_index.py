"""A walking graph prepared for the planners' bulk searches (see
:mod:`mapservice.planning.routing`): node positions, the nodes that may be snapped to in a
k-d tree, and the sub-graph within a box, cut fast by the nodes' eastings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import csr_array
from scipy.spatial import cKDTree

from mapservice.walking.graph import WalkGraph

MIN_LEG_M = 1e-6  # an arc of zero weight would be no arc for scipy


@dataclass(frozen=True)
class NetworkIndex:
    """A walking graph for one step rule, with its usable nodes in a k-d tree."""

    graph: WalkGraph
    steps: bool
    node_xy: np.ndarray  # (nodes, 2) EPSG:25832
    usable: np.ndarray  # node indices that may be snapped to
    tree: cKDTree
    # How much farther than its length an arc's ends lie apart (1 when every length is at
    # least the straight line, as for lengths measured along the geometry): the bound by
    # which a tile's sub-graph is cut is widened by it, so the cut never changes an answer.
    stretch: float = 1.0
    by_x: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # nodes by easting
    x_sorted: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def matrix(self) -> csr_array:
        return self.graph.variant(self.steps).matrix

    def subgraph(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, csr_array]:
        """The nodes inside the box ``lo``–``hi`` and the graph between them."""
        start = int(np.searchsorted(self.x_sorted, lo[0], side="left"))
        end = int(np.searchsorted(self.x_sorted, hi[0], side="right"))
        band = self.by_x[start:end]
        y = self.node_xy[band, 1]
        inside = np.sort(band[(y >= lo[1]) & (y <= hi[1])])
        return inside, self.induced(inside)

    def induced(self, inside: np.ndarray) -> csr_array:
        """The graph between the nodes ``inside`` (sorted), renumbered by their position."""
        matrix = self.matrix
        if len(inside) == matrix.shape[0]:
            return matrix
        local = np.full(matrix.shape[0], -1, dtype=np.int64)
        local[inside] = np.arange(len(inside))
        starts, ends = matrix.indptr[inside], matrix.indptr[inside + 1]
        counts = ends - starts
        arcs = np.arange(int(counts.sum())) + np.repeat(
            starts - (np.cumsum(counts) - counts), counts
        )
        cols = local[matrix.indices[arcs]]
        keep = cols >= 0
        row_of = np.repeat(np.arange(len(inside)), counts)[keep]
        indptr = np.zeros(len(inside) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_of, minlength=len(inside)), out=indptr[1:])
        return csr_array(
            (matrix.data[arcs][keep], cols[keep], indptr), shape=(len(inside), len(inside))
        )


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
    chord = np.hypot(*(xy[graph.edge_u] - xy[graph.edge_v]).T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.nan_to_num(chord / np.maximum(graph.length, MIN_LEG_M), nan=1.0)
    stretch = float(max(1.0, ratio.max(initial=1.0)))
    placed = np.flatnonzero(~np.isnan(xy[:, 0]))
    by_x = placed[np.argsort(xy[placed, 0], kind="stable")]
    return NetworkIndex(
        graph, steps, xy, usable, cKDTree(xy[usable]), stretch, by_x, xy[by_x, 0].copy()
    )
