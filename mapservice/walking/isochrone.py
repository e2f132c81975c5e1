"""Isochrones: the area a family reaches on foot within given minutes. Free of Flask.

The polygons are built from the network actually reached (the reached paths, buffered),
not from a circle or a convex hull: across the railway tracks they stop where the paths do.
Off every network they are circles of straight-line reach / detour factor, marked
estimated.

How, in a few milliseconds (``bench/walking.py`` times it against Valhalla's isochrone):

1. one bounded graph search from the point itself (a spare node of the search graph joined
   to both ends of the edge it snapped to), only as far as the largest time;
2. the reached edges' sample points (every cell, :meth:`WalkGraph.samples`) with the
   network distance at which each is reached;
3. a raster of cells a third of the buffer radius: each cell the earliest arrival among
   its points, then the earliest within the buffer radius (a minimum filter over a disc);
4. every band is the same field traced at its budget (``contourpy``), so the bands nest
   by construction; simplified in metres, turned into WGS84, rounded, and checked valid
   (repaired where simplifying or rounding made two rings touch, which is rare).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from contourpy import FillType, contour_generator
from scipy.ndimage import minimum_filter1d
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from sqlalchemy.orm import Session

from mapservice.walking.graph import MIN_LENGTH_M, WalkGraph, get_graph
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.reach import TO_METRIC, TO_WGS84, Origin, locate
from mapservice.walking.snap import Snap

# The raster: cells of a third of the buffer radius; the buffer is a disc of three cells.
CELLS_PER_RADIUS = 3
# GeoJSON coordinates are rounded to this many decimals of a degree (about 10 cm), which
# keeps answers small.
DECIMALS = 6
# Cells no reached point lies near: far above any budget, so that an outline between such
# a cell and a reached one keeps to the reached one (the interpolation weight is tiny).
UNREACHED = np.float32(1e7)

# Polygons as ragged arrays: points, ring offsets into them, polygon offsets into the rings.
Rings = tuple[np.ndarray, np.ndarray, np.ndarray]


def isochrones(
    session: Session,
    lon: float,
    lat: float,
    minutes: list[float],
    profile: WalkProfile,
    settings: WalkSettings,
) -> dict[str, Any]:
    """One polygon per time: the paths reached within it, buffered (GeoJSON, WGS84).

    Coordinates are NumPy arrays (one ``(n, 2)`` array per ring); encode the answer with
    ``orjson.OPT_SERIALIZE_NUMPY``. Off every network the polygons are circles of
    straight-line reach / detour factor, marked estimated.
    """
    origin = locate(session, lon, lat, profile, settings)
    speed = profile.speed_mps
    x, y = TO_METRIC.transform(lon, lat)
    times = sorted(minutes, reverse=True)
    if origin.snap is None:
        here = shapely.Point(x, y)
        circles = [
            here.buffer(minute * 60 * speed / settings.detour_factor, quad_segs=16)
            for minute in times
        ]
        areas = [_rings(circle) for circle in circles]
        return _collection(_features(areas, times, True), origin, profile)
    snap = origin.snap
    graph = get_graph(session, snap.network_id, snap.version)
    budgets = [minute * 60 * speed for minute in times]
    radius = settings.isochrone_buffer_m
    cell = radius / CELLS_PER_RADIUS
    # A cell apart, samples of a path mark a chain of touching cells along it, which the
    # buffer's disc (three cells) turns into a closed band.
    points, reach = _reached_points(graph, snap, (x, y), max(budgets), profile.steps, cell)
    areas = _TimeField.of(points, reach, cell).bands(budgets)
    return _collection(_features(areas, times, False), origin, profile)


class _Search:
    """A graph's search graph for one step rule, with one spare node: the query point.

    Each request joins the spare node to both ends of the edge it snapped to and searches
    once from it. Every thread of a worker gets its own copy of the arrays (a few MB for a
    city), so that setting the two joining arcs needs no lock.
    """

    def __init__(self, matrix: csr_array) -> None:
        self.nodes = matrix.shape[0]
        # int32 indices: SciPy's search would otherwise convert them on every call.
        self.data = np.concatenate([matrix.data, [1.0, 1.0]])
        self.indices = np.concatenate([matrix.indices, [0, 0]]).astype(np.int32)
        self.indptr = np.concatenate([matrix.indptr, [matrix.nnz + 2]]).astype(np.int32)
        self._local = threading.local()

    def distances(self, u: int, v: int, to_u: float, to_v: float, limit: float) -> np.ndarray:
        """Metres from a point ``to_u`` from node ``u`` and ``to_v`` from ``v`` along their
        edge to every node (inf beyond ``limit``)."""
        matrix = getattr(self._local, "matrix", None)
        if matrix is None:
            shape = (self.nodes + 1, self.nodes + 1)
            matrix = csr_array((self.data.copy(), self.indices.copy(), self.indptr), shape)
            self._local.matrix = matrix
        matrix.data[-2:] = (max(to_u, MIN_LENGTH_M), max(to_v, MIN_LENGTH_M))
        matrix.indices[-2:] = (u, v)
        found = dijkstra(matrix, directed=True, indices=self.nodes, limit=limit)
        return np.asarray(found)[: self.nodes]


@dataclass(frozen=True)
class _Prepared:
    """What isochrones need of a graph beyond :class:`WalkGraph`, built once per graph."""

    searches: dict[bool, _Search]
    node_edges: np.ndarray  # edge positions grouped by node (each edge under both ends)
    node_offsets: np.ndarray  # node i's edges: node_edges[node_offsets[i]:node_offsets[i+1]]

    @classmethod
    def of(cls, graph: WalkGraph) -> _Prepared:
        ends = np.concatenate([graph.edge_u, graph.edge_v])
        order = np.argsort(ends, kind="stable")
        edges = np.concatenate([np.arange(len(graph.edge_u))] * 2)[order]
        offsets = np.searchsorted(ends[order], np.arange(len(graph.node_ids) + 1))
        searches = {steps: _Search(graph.variant(steps).matrix) for steps in (True, False)}
        return cls(searches, edges, offsets)


_prepared: dict[int, tuple[weakref.ref[WalkGraph], _Prepared]] = {}
_prepared_lock = threading.Lock()


def _prepare(graph: WalkGraph) -> _Prepared:
    """The graph's :class:`_Prepared`; forgotten with the graph (a re-import replaces it)."""
    found = _prepared.get(id(graph))
    if found is not None and found[0]() is graph:
        return found[1]
    with _prepared_lock:
        found = _prepared.get(id(graph))
        if found is not None and found[0]() is graph:
            return found[1]
        for key in [key for key, (ref, _) in _prepared.items() if ref() is None]:
            del _prepared[key]
        prepared = _Prepared.of(graph)
        _prepared[id(graph)] = (weakref.ref(graph), prepared)
        return prepared


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The positions ``starts[i]:ends[i]`` for all i, concatenated."""
    counts = ends - starts
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.arange(int(counts.sum())) + shift


def _reached_points(
    graph: WalkGraph,
    snap: Snap,
    here: tuple[float, float],
    limit: float,
    steps: bool,
    spacing: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Points along the paths reached within ``limit`` metres, and their network distance.

    The points are the samples of every usable edge with a reached end, and the line from
    the query point to the edge it snapped to (reached once the snapping distance is).
    """
    prepared = _prepare(graph)
    u, v = (int(i) for i in graph.node_index([snap.source, snap.target]))
    walk = limit - snap.distance_m  # left for the paths once the point has joined them
    node_reach = (
        prepared.searches[steps].distances(u, v, snap.to_source_m, snap.to_target_m, walk)
        + snap.distance_m
    )
    reached = np.flatnonzero(node_reach <= limit)
    start = graph.edge_index(snap.edge_id)
    touching = prepared.node_edges[
        _ranges(prepared.node_offsets[reached], prepared.node_offsets[reached + 1])
    ]
    chosen = np.zeros(len(graph.edge_ids), dtype=bool)
    chosen[touching] = True
    chosen &= graph.variant(steps).usable_edge
    chosen[start] = True
    edges = np.flatnonzero(chosen)

    samples = graph.samples(spacing)
    first, last = samples.offsets[edges], samples.offsets[edges + 1]
    counts = last - first
    index = _ranges(first, last)
    along = samples.along[index].astype(float)
    at_u = np.repeat(node_reach[graph.edge_u[edges]], counts)
    at_v = np.repeat(node_reach[graph.edge_v[edges]], counts)
    length = np.repeat(graph.length[edges], counts)
    reach = np.minimum(at_u + along, at_v + (length - along))
    # The start edge: reached both ways from the point, whatever its nodes say.
    centre = snap.fraction * snap.length_m
    position = int(np.searchsorted(edges, start))
    on_start = slice(int(counts[:position].sum()), int(counts[: position + 1].sum()))
    reach[on_start] = np.minimum(
        reach[on_start], snap.distance_m + np.abs(along[on_start] - centre)
    )
    xy = samples.xy[index].astype(float) + samples.origin
    # Where the point joins its edge, and the line from the point to there.
    start_xy = xy[on_start]
    join = np.array(
        [np.interp(centre, along[on_start], start_xy[:, k]) for k in range(2)], dtype=float
    )
    steps_to_join = int(np.ceil(np.hypot(*(join - here)) / spacing)) + 1
    connector = np.linspace(here, join, steps_to_join)
    points = np.concatenate([xy, connector])
    reach = np.concatenate([reach, np.full(len(connector), snap.distance_m)])
    keep = reach <= limit
    return points[keep], reach[keep]


@dataclass(frozen=True)
class _TimeField:
    """Each cell of a raster: the earliest arrival at a reached point within the buffer.

    A band is where the field is within its budget: the reached paths, buffered by the
    radius (three cells). GEOS needs ~70 ms to union the buffers of a small town's
    streets; the field and a traced contour give the same outline (to a few metres) in a
    fraction of a millisecond, and all bands come from one field.
    """

    xs: np.ndarray  # cell centres, metres (EPSG:25832)
    ys: np.ndarray
    field: np.ndarray  # float32 (len(ys), len(xs)), metres walked

    @classmethod
    def of(cls, points: np.ndarray, reach: np.ndarray, cell: float) -> _TimeField:
        pad = CELLS_PER_RADIUS + 2
        x0, y0 = points.min(axis=0) - pad * cell
        cols = np.rint((points[:, 0] - x0) / cell).astype(np.intp)
        rows = np.rint((points[:, 1] - y0) / cell).astype(np.intp)
        width, height = int(cols.max()) + pad + 1, int(rows.max()) + pad + 1
        arrival = np.full((height, width), UNREACHED, dtype=np.float32)
        np.minimum.at(arrival, (rows, cols), reach.astype(np.float32))
        # The disc of radius three cells: a 5 x 5 square and a 7-cell cross.
        square = minimum_filter1d(minimum_filter1d(arrival, 5, axis=0), 5, axis=1)
        field = np.minimum(square, minimum_filter1d(arrival, 7, axis=0))
        np.minimum(field, minimum_filter1d(arrival, 7, axis=1), out=field)
        xs = x0 + np.arange(width) * cell
        ys = y0 + np.arange(height) * cell
        return cls(xs, ys, field)

    def bands(self, budgets: list[float]) -> list[Rings]:
        """The area within each budget (metres walked), as ragged arrays.

        Traced on a whole-number field (how many of the budgets a cell is within) at
        half-way levels, the outlines keep at least a sixth of a cell clear of every cell
        centre: rings may come no closer there than the rounding of the coordinates could
        bridge (as they could at levels equal to a cell's value, or between a reached
        cell and a far higher unreached one).
        """
        within = np.zeros(self.field.shape, dtype=np.float32)
        for budget in budgets:
            within += self.field <= budget
        generator = contour_generator(
            self.xs, self.ys, within, fill_type=FillType.ChunkCombinedOffsetOffset
        )
        areas = []
        for rank in np.argsort(np.argsort(budgets)):  # 0 for the smallest budget
            # One chunk: all points, ring offsets, and the offsets of each polygon's rings.
            filled = cast(Any, generator.filled(len(budgets) - rank - 0.5, len(budgets) + 1.0))
            (coords,), (ring_offsets,), (polygon_offsets,) = filled
            if coords is None:
                areas.append(_rings(shapely.Polygon()))
            else:
                areas.append((coords, ring_offsets, polygon_offsets))
        return areas


def _rings(area: Any) -> Rings:
    """The ragged arrays of a (Multi)Polygon."""
    polygons = shapely.get_parts(area)
    polygons = polygons[~shapely.is_empty(polygons)]
    rings = shapely.get_rings(polygons)
    return (
        shapely.get_coordinates(rings),
        np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(rings))]).astype(np.int64),
        np.concatenate([[0], np.cumsum(shapely.get_num_interior_rings(polygons) + 1)]).astype(
            np.int64
        ),
    )


def _features(areas: list[Rings], times: list[float], estimated: bool) -> list[dict[str, Any]]:
    return [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {"minutes": minute, "estimated": estimated},
        }
        for geometry, minute in zip(_geojson(areas), times, strict=True)
    ]


def _geojson(areas: list[Rings]) -> list[dict[str, Any]]:
    """Metric polygons as RFC 7946 geometries: WGS84, rounded, without collinear vertices.

    The rings come valid and oriented (outer rings counterclockwise) from the contour
    tracer, which keeps distinct rings at least a sixth of a cell (1.7 m) apart; dropping
    collinear vertices does not move the outline and rounding moves a vertex by under
    10 cm, so the answer stays valid without a repair step. All bands are transformed at
    once.
    """
    # All bands in one go: their rings one after the other.
    coords = np.concatenate([area[0].reshape(-1, 2) for area in areas])
    ring_counts = [len(area[1]) - 1 for area in areas]
    starts = np.cumsum([0] + [len(area[0]) for area in areas])[:-1]
    shifted = [
        np.asarray(area[1][1:], dtype=np.int64) + start
        for area, start in zip(areas, starts, strict=True)
    ]
    ring_offsets = np.concatenate([[0], *shifted])
    lean, lean_rings, _ = _without_collinear(coords, ring_offsets, np.array([0]))
    if not len(lean):
        return [{"type": "Polygon", "coordinates": []} for _ in areas]
    lonlat = np.round(np.column_stack(TO_WGS84.transform(lean[:, 0], lean[:, 1])), DECIMALS)
    rings = np.split(lonlat, lean_rings[1:-1])
    geometries = []
    first = 0
    for area, count in zip(areas, ring_counts, strict=True):
        geometries.append(_geometry(rings[first : first + count], area[2]))
        first += count
    return geometries


def _without_collinear(coords: np.ndarray, rings: np.ndarray, polygons: np.ndarray) -> Rings:
    """The closed rings without the vertices that lie on the line between their
    neighbours (a raster outline has many along straight runs)."""
    if not len(coords):
        return coords, rings, polygons
    lengths = np.diff(rings)
    ring_of = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(coords))
    first, closing = rings[:-1][ring_of], rings[1:][ring_of] - 1
    # Each vertex's neighbours along its ring (the closing point repeats the first).
    before = np.where(position == first, closing - 1, position - 1)
    after = np.minimum(position + 1, closing)
    incoming = coords - coords[before]
    outgoing = coords[after] - coords
    cross = incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0]
    scale = np.hypot(*incoming.T) * np.hypot(*outgoing.T)
    keep = (np.abs(cross) > 1e-9 * scale) & (position != closing)
    kept = np.flatnonzero(keep)
    counts = np.bincount(ring_of[kept], minlength=len(lengths))
    ends = np.cumsum(counts)
    closed = np.insert(coords[kept], ends, coords[kept[ends - counts]], axis=0)
    offsets = np.concatenate([[0], ends + np.arange(1, len(ends) + 1)])
    return closed, offsets, polygons


def _geometry(rings: list[np.ndarray], polygons: np.ndarray) -> dict[str, Any]:
    """A (Multi)Polygon's GeoJSON with NumPy arrays as rings (orjson writes them)."""
    parts = [rings[a:b] for a, b in itertools.pairwise(polygons.tolist())]
    if not parts:
        return {"type": "Polygon", "coordinates": []}
    if len(parts) == 1:
        return {"type": "Polygon", "coordinates": parts[0]}
    return {"type": "MultiPolygon", "coordinates": parts}


def _collection(
    features: list[dict[str, Any]], origin: Origin, profile: WalkProfile
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": features,  # largest first, so smaller bands draw on top
        "profile": profile.key,
        "speed_kmh": profile.speed_kmh,
        "estimated": origin.estimated,
        "origin": {"lat": origin.lat, "lon": origin.lon, "on_network": not origin.estimated},
    }
