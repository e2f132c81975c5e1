"""The walking network in memory: a sparse graph per step rule, cached per network version.

Searches from many sources at once (the planners' coverage, the outreach legs) run on
:mod:`scipy.sparse.csgraph`; a request's one bounded search from its own point runs on the
same CSR arrays in :func:`mapservice.walking.kernels.bounded_search`, where SciPy's checks
of the graph would cost more than the search (both chosen by measurement, see
``bench/walking.py``). The cache is keyed by database, network id and import time, so a
re-import (or a rolled-back one) is noticed on the next use; it is safe for the threads
of the WSGI server.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.data_cache import database_key

# A connected piece with fewer nodes than this (and not the largest) is a fragment: a
# path inside a yard or a sidewalk cut off at the extract's border. Nothing is snapped to
# it, because routing from there would reach nothing.
FRAGMENT_NODES = 30
# Edges never have zero weight (scipy would read an explicit zero as "no edge").
MIN_LENGTH_M = 1e-6


@dataclass(frozen=True)
class Variant:
    """The graph for one step rule (steps usable or not)."""

    rows: np.ndarray  # directed arcs (both directions of each edge), node indices
    cols: np.ndarray
    weights: np.ndarray  # metres
    matrix: csr_array
    usable_edge: np.ndarray  # bool per edge position: allowed and not on a fragment
    usable_node: np.ndarray  # bool per node index


@dataclass(frozen=True)
class EdgeSamples:
    """Points along every edge, at most ``spacing`` apart, both ends included.

    Edge ``i`` owns the points ``offsets[i]:offsets[i + 1]``. Coordinates are float32
    relative to ``origin`` (centimetre precision across a 100 km network), 12 bytes per
    point: the 100,800 edges of 80 m of the benchmark grid at 5 m spacing give 1.7 million
    points, 21 MB.
    """

    spacing: float
    origin: np.ndarray  # (x, y) EPSG:25832, subtracted from ``xy``
    xy: np.ndarray  # float32 (points, 2)
    along: np.ndarray  # float32, metres from the edge's source end
    offsets: np.ndarray  # int64 (edges + 1)

    def of_edges(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Point positions of the given edges and, for each point, its edge."""
        starts, ends = self.offsets[edges], self.offsets[edges + 1]
        counts = ends - starts
        owner = np.repeat(edges, counts)
        # Consecutive ranges in one vector: each range starts where its predecessor ended.
        shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        return np.arange(int(counts.sum())) + shift, owner


def sample_edges(geoms: np.ndarray, spacing: float) -> EdgeSamples:
    """Sample each line (none empty) every ``spacing`` metres or closer, its vertices kept."""
    coords, owner = shapely.get_coordinates(shapely.segmentize(geoms, spacing), return_index=True)
    offsets = np.searchsorted(owner, np.arange(len(geoms) + 1))
    step = np.zeros(len(coords))
    step[1:] = np.hypot(*(coords[1:] - coords[:-1]).T)
    step[offsets[:-1]] = 0.0  # each edge starts afresh
    along = np.cumsum(step)
    along -= np.repeat(along[offsets[:-1]], np.diff(offsets))
    origin = coords.min(axis=0)
    return EdgeSamples(
        spacing, origin, (coords - origin).astype(np.float32), along.astype(np.float32), offsets
    )


@dataclass(frozen=True)
class WalkGraph:
    """One imported network: nodes, edges with geometry, and the graph variants."""

    network_id: int
    version: dt.datetime
    node_ids: np.ndarray  # sorted database ids
    edge_ids: np.ndarray  # sorted database ids
    edge_u: np.ndarray  # node index of the edge's source
    edge_v: np.ndarray
    length: np.ndarray  # metres
    steps: np.ndarray  # bool
    geoms: np.ndarray  # shapely LineStrings, EPSG:25832
    variants: dict[bool, Variant]
    _samples: dict[float, EdgeSamples] = field(default_factory=dict, repr=False, compare=False)
    _samples_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def node_index(self, node_ids: np.ndarray | list[int]) -> np.ndarray:
        return np.searchsorted(self.node_ids, np.asarray(node_ids, dtype=np.int64))

    def edge_index(self, edge_id: int) -> int:
        return int(np.searchsorted(self.edge_ids, edge_id))

    def variant(self, steps: bool) -> Variant:
        return self.variants[steps]

    def samples(self, spacing: float) -> EdgeSamples:
        """The edges sampled every ``spacing`` metres; computed once per graph and spacing.

        The first call pays for it: about a second and 110 MB in passing for the
        100,800-edge benchmark grid, a few milliseconds for a town.
        """
        found = self._samples.get(spacing)
        if found is None:
            with self._samples_lock:
                found = self._samples.get(spacing)
                if found is None:
                    found = self._samples[spacing] = sample_edges(self.geoms, spacing)
        return found

    def distances_from(self, sources: list[int], steps: bool, limit: float) -> np.ndarray:
        """Metres from each source node index to every node (inf beyond ``limit``)."""
        return np.atleast_2d(
            dijkstra(self.variants[steps].matrix, directed=True, indices=sources, limit=limit)
        )


def build_graph(
    network_id: int,
    version: dt.datetime,
    edge_ids: np.ndarray,
    sources: np.ndarray,
    targets: np.ndarray,
    length: np.ndarray,
    steps: np.ndarray,
    geoms: np.ndarray,
) -> WalkGraph:
    """A :class:`WalkGraph` from edge arrays (any order; sorted here by edge id)."""
    order = np.argsort(edge_ids)
    edge_ids, sources, targets = edge_ids[order], sources[order], targets[order]
    length, steps, geoms = length[order], steps[order].astype(bool), geoms[order]
    node_ids = np.unique(np.concatenate([sources, targets]))
    edge_u = np.searchsorted(node_ids, sources)
    edge_v = np.searchsorted(node_ids, targets)
    variants = {
        allow: _variant(len(node_ids), edge_u, edge_v, length, steps, allow)
        for allow in (True, False)
    }
    return WalkGraph(
        network_id, version, node_ids, edge_ids, edge_u, edge_v, length, steps, geoms, variants
    )


def _variant(
    n: int, u: np.ndarray, v: np.ndarray, length: np.ndarray, steps: np.ndarray, allow: bool
) -> Variant:
    allowed = np.ones(len(u), dtype=bool) if allow else ~steps
    arc = allowed & (u != v)  # a loop never shortens a path
    weight = np.maximum(length[arc], MIN_LENGTH_M)
    rows = np.concatenate([u[arc], v[arc]])
    cols = np.concatenate([v[arc], u[arc]])
    data = np.concatenate([weight, weight])
    # Parallel edges: keep the shortest (a sparse matrix would add them up).
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, data = rows[first], cols[first], data[first]
    matrix = csr_array(coo_array((data, (rows, cols)), shape=(n, n)))
    # 32-bit index arrays, as scipy's csgraph routines take them: with 64-bit ones every
    # search first copies the whole index (2 ms a search on the city's network, against
    # 0.3 ms for the search itself).
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    _count, labels = connected_components(matrix, directed=False)
    sizes = np.bincount(labels)
    touched = np.zeros(n, dtype=bool)
    touched[u[allowed]] = True
    touched[v[allowed]] = True
    sizes_touched = np.bincount(labels[touched], minlength=len(sizes))
    largest = int(np.argmax(sizes_touched)) if touched.any() else -1
    good = (sizes >= FRAGMENT_NODES) | (np.arange(len(sizes)) == largest)
    usable_node = good[labels] & touched
    usable_edge = allowed & usable_node[u] & usable_node[v]
    return Variant(rows, cols, data, matrix, usable_edge, usable_node)


def load_graph(session: Session, network_id: int) -> WalkGraph:
    """Read a network from the database into memory."""
    version = session.execute(
        text("SELECT imported_at FROM walk_network WHERE id = :id"), {"id": network_id}
    ).scalar_one()
    rows = session.execute(
        text(
            "SELECT id, source, target, length_m, steps, ST_AsBinary(geom) "
            "FROM walk_edge WHERE network_id = :id"
        ),
        {"id": network_id},
    ).all()
    if not rows:
        raise LookupError(f"walking network {network_id} has no edges")
    ids, sources, targets, length, steps, wkb = zip(*rows, strict=True)
    return build_graph(
        network_id,
        version,
        np.array(ids, dtype=np.int64),
        np.array(sources, dtype=np.int64),
        np.array(targets, dtype=np.int64),
        np.array(length, dtype=float),
        np.array(steps, dtype=bool),
        shapely.from_wkb(np.array([bytes(item) for item in wkb], dtype=object)),
    )


_cache: dict[tuple[str, int], WalkGraph] = {}
_lock = threading.Lock()


def get_graph(session: Session, network_id: int, version: dt.datetime) -> WalkGraph:
    """The cached graph of a network at ``version`` (its import time); loaded when stale."""
    key = (database_key(session), network_id)
    graph = _cache.get(key)
    if graph is not None and graph.version == version:
        return graph
    with _lock:
        graph = _cache.get(key)
        if graph is None or graph.version != version:
            graph = load_graph(session, network_id)
            _cache[key] = graph
    return graph


def network_versions(session: Session) -> dict[int, dt.datetime]:
    return dict(session.execute(text("SELECT id, imported_at FROM walk_network")).tuples().all())
