"""Isochrones: the area a family reaches on foot within given minutes. Free of Flask.

The polygons are built from the network actually reached (the reached paths, buffered),
not from a circle or a convex hull: across the railway tracks they stop where the paths do.
Off every network they are circles of straight-line reach / detour factor, marked
estimated.

The reached paths are points sampled along the edges once per graph
(:meth:`WalkGraph.samples`), each with the network distance at which it is reached; a band
is the points within its budget, buffered on a raster. Every band is cut from the same
points on the same raster lattice, so a smaller band's paths are a subset of a larger one's
and the bands nest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from contourpy import FillType, contour_generator
from sqlalchemy.orm import Session

from mapservice.walking.graph import WalkGraph, get_graph
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.reach import TO_METRIC, TO_WGS84, Origin, locate
from mapservice.walking.snap import Snap

# The raster: cells of a third of the buffer radius, so that a band is at least three cells
# wide either side of a path.
CELLS_PER_RADIUS = 3
# Distances on the raster are square roots of whole numbers, 3 cells (the radius) among them.
# The outline runs between √8 and 3, where it keeps clear of grid points: through them rings
# would touch (an invalid polygon) or come so close that rounding the coordinates made them
# cross. Below 3 rather than above, because snapping the paths to cell centres already widens
# the band by a fraction of a cell.
OUTLINE_CELLS = (np.sqrt(8.0) + 3.0) / 2
# GeoJSON coordinates are rounded to this many decimals of a degree (about 10 cm), which
# keeps answers small.
DECIMALS = 6
METRES_PER_DEGREE = 111_320.0  # of latitude

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

    Off every network the polygons are circles of straight-line reach / detour factor,
    marked estimated.
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
        features = [
            _feature(_rings(circle), minute, estimated=True, tolerance_m=0.0)
            for circle, minute in zip(circles, times, strict=True)
        ]
        return _collection(features, origin, profile)
    snap = origin.snap
    graph = get_graph(session, snap.network_id, snap.version)
    budgets = [minute * 60 * speed for minute in times]
    radius = settings.isochrone_buffer_m
    # Half a cell apart, samples of a path mark every cell it crosses (or a neighbour).
    spacing = radius / CELLS_PER_RADIUS / 2
    points, reach = _reached_points(graph, snap, (x, y), budgets, profile.steps, spacing)
    # One raster lattice for all bands (the largest comes first), so that the bands nest.
    grid = _Grid.around(points[reach <= budgets[0]], radius)
    features = [
        # Simplified by up to a quarter cell, well within the raster's own error.
        _feature(grid.buffered(points[reach <= budget]), minute, False, grid.cell / 4)
        for minute, budget in zip(times, budgets, strict=True)
    ]
    return _collection(features, origin, profile)


def _reached_points(
    graph: WalkGraph,
    snap: Snap,
    here: tuple[float, float],
    budgets: list[float],
    steps: bool,
    spacing: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Points along the paths reached within the largest budget, and their network distance.

    The points are the edge samples, the points where each budget runs out part-way along
    an edge (reached at exactly that budget: the samples alone stop up to a spacing short of
    it), and the line from the query point to the edge it snapped to (reached once the
    snapping distance is).
    """
    limit = max(budgets)
    u, v = graph.node_index([snap.source, snap.target])
    dist = graph.distances_from([int(u), int(v)], steps, limit)
    node_reach = (
        np.minimum(dist[0] + snap.to_source_m, dist[-1] + snap.to_target_m) + snap.distance_m
    )
    at_u = node_reach[graph.edge_u]
    at_v = node_reach[graph.edge_v]
    start = graph.edge_index(snap.edge_id)
    candidate = graph.variant(steps).usable_edge & (np.minimum(at_u, at_v) < limit)
    candidate[start] = True
    edges = np.flatnonzero(candidate)
    samples = graph.samples(spacing)
    index, owner = samples.of_edges(edges)
    along = samples.along[index].astype(float)
    reach = np.minimum(at_u[owner] + along, at_v[owner] + (graph.length[owner] - along))
    # The start edge: reached both ways from the point, whatever its nodes say.
    centre = snap.fraction * snap.length_m
    on_start = owner == start
    reach[on_start] = np.minimum(
        reach[on_start], snap.distance_m + np.abs(along[on_start] - centre)
    )

    # Where the point joins its edge, then where the budgets run out.
    end_edges, end_at, end_reach = [np.array([start])], [np.array([centre])], []
    length = graph.length[edges]
    for budget in budgets:
        from_u = budget - at_u[edges]
        from_v = budget - at_v[edges]
        into_u = (from_u > 0) & (from_u < length)
        into_v = (from_v > 0) & (from_v < length)
        rest = budget - snap.distance_m  # left to walk along the start edge, both ways
        both_ways = np.array([centre - rest, centre + rest] if rest > 0 else [])
        both_ways = both_ways[(both_ways > 0) & (both_ways < snap.length_m)]
        end_edges += [edges[into_u], edges[into_v], np.full(len(both_ways), start)]
        end_at += [from_u[into_u], length[into_v] - from_v[into_v], both_ways]
        end_reach.append(np.full(into_u.sum() + into_v.sum() + len(both_ways), budget))
    ends = shapely.get_coordinates(
        shapely.line_interpolate_point(
            graph.geoms[np.concatenate(end_edges)], np.concatenate(end_at)
        )
    )
    join = ends[0]
    connector = np.linspace(here, join, int(np.ceil(np.hypot(*(join - here)) / spacing)) + 1)

    points = np.concatenate([samples.xy[index] + samples.origin, ends[1:], connector])
    reach = np.concatenate([reach, *end_reach, np.full(len(connector), snap.distance_m)])
    keep = reach <= limit
    return points[keep], reach[keep]


@dataclass(frozen=True)
class _Grid:
    """A raster on which reached paths are buffered.

    GEOS needs ~70 ms to union the buffers of a small town's streets; a distance field on a
    grid of radius/3 cells and a traced contour give the same outline (to a few metres) in a
    few milliseconds.
    """

    x0: float
    y0: float
    cell: float
    width: int
    height: int

    @classmethod
    def around(cls, points: np.ndarray, radius: float) -> _Grid:
        cell = radius / CELLS_PER_RADIUS
        if len(points):
            x0, y0 = points.min(axis=0)
            x1, y1 = points.max(axis=0)
        else:
            x0 = y0 = x1 = y1 = 0.0
        margin = radius + 2 * cell
        width = int(np.ceil((x1 - x0 + 2 * margin) / cell)) + 1
        height = int(np.ceil((y1 - y0 + 2 * margin) / cell)) + 1
        return cls(x0 - margin, y0 - margin, cell, width, height)

    def buffered(self, points: np.ndarray) -> Rings:
        """The area within the buffer radius of the points (paths sampled every cell/2).

        The field is computed on the window of the grid around these points only: a smaller
        band needs a fraction of the largest band's raster, and on the same lattice its field
        is the same there.
        """
        if not len(points):
            return _rings(shapely.Polygon())
        cols = np.round((points[:, 0] - self.x0) / self.cell).astype(np.intp)
        rows = np.round((points[:, 1] - self.y0) / self.cell).astype(np.intp)
        pad = CELLS_PER_RADIUS + 2
        c0, c1 = max(cols.min() - pad, 0), min(cols.max() + pad + 1, self.width)
        r0, r1 = max(rows.min() - pad, 0), min(rows.max() + pad + 1, self.height)
        on_path = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        on_path[rows - r0, cols - c0] = True
        generator = contour_generator(
            self.x0 + np.arange(c0, c1) * self.cell,
            self.y0 + np.arange(r0, r1) * self.cell,
            _distance_field(on_path, int(OUTLINE_CELLS) + 2),
            fill_type=FillType.ChunkCombinedOffsetOffset,
        )
        # One chunk: all points, ring offsets, and the offsets of each polygon's rings.
        filled = cast(Any, generator.filled(-1.0, OUTLINE_CELLS))
        (coords,), (ring_offsets,), (polygon_offsets,) = filled
        return coords, ring_offsets, polygon_offsets


def _distance_field(marked: np.ndarray, reach: int) -> np.ndarray:
    """Cells from each cell to the nearest marked one: exact below ``reach``, else ``reach``.

    The outline needs no more: it runs where the field crosses ``OUTLINE_CELLS``, between
    neighbours that differ by at most one cell, so below ``OUTLINE_CELLS + 1 < reach``.
    Minima over shifted copies (along columns, then along rows) are 3-4 times faster than
    SciPy's exact transform of the whole raster.
    """
    far = np.float32(reach * reach)
    seed = np.where(marked, np.float32(0.0), far)
    column = seed.copy()  # squared distance to the nearest marked cell in the same column
    for d in range(1, reach):
        step = np.float32(d * d)
        np.minimum(column[:-d], seed[d:] + step, out=column[:-d])
        np.minimum(column[d:], seed[:-d] + step, out=column[d:])
    squared = column.copy()
    for d in range(1, reach):
        step = np.float32(d * d)
        np.minimum(squared[:, :-d], column[:, d:] + step, out=squared[:, :-d])
        np.minimum(squared[:, d:], column[:, :-d] + step, out=squared[:, d:])
    return np.sqrt(np.minimum(squared, far, out=squared))


def _feature(area: Rings, minute: float, estimated: bool, tolerance_m: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": _geojson(area, tolerance_m),
        "properties": {"minutes": minute, "estimated": estimated},
    }


def _rings(area: Any) -> Rings:
    """The ragged arrays of a (Multi)Polygon."""
    polygons = shapely.get_parts(area)
    polygons = polygons[~shapely.is_empty(polygons)]
    rings = shapely.get_rings(polygons)
    return (
        shapely.get_coordinates(rings),
        np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(rings))]),
        np.concatenate([[0], np.cumsum(shapely.get_num_interior_rings(polygons) + 1)]),
    )


def _geojson(area: Rings, tolerance_m: float) -> dict[str, Any]:
    """Metric polygons as an RFC 7946 geometry: WGS84, rounded, simplified, valid.

    Rounding comes first and Douglas-Peucker (by up to ``tolerance_m``; 0 drops collinear
    vertices only) after it, because GEOS returns a valid polygon from it whatever rounding
    did to rings that came close, and keeps the rounded vertices it does not drop. Where it
    had to repair the polygon, the repair's new vertices are rounded by GEOS (slower, and
    rare).
    """
    coords, ring_offsets, polygon_offsets = area
    if not len(coords):
        return {"type": "Polygon", "coordinates": ()}
    lonlat = np.round(np.column_stack(TO_WGS84.transform(coords[:, 0], coords[:, 1])), DECIMALS)
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, lonlat, (ring_offsets, polygon_offsets)
    )
    # In degrees: the tolerance holds north-south and is stricter east-west.
    simple = shapely.simplify(
        shapely.multipolygons(polygons), tolerance_m / METRES_PER_DEGREE, preserve_topology=False
    )
    lonlat, ring_offsets, polygon_offsets = _rings(shapely.orient_polygons(simple))
    if np.any(np.round(lonlat, DECIMALS) != lonlat):
        fixed = shapely.set_precision(simple, 10.0**-DECIMALS)
        lonlat, ring_offsets, polygon_offsets = _rings(shapely.orient_polygons(fixed))
    # Tuples, not lists: the garbage collector stops tracking tuples of numbers (and tuples
    # of those) at its next pass, so the answer does not pile up in the old generation and
    # make full collections (slow with the graph's many geometries in memory) frequent.
    pairs = list(zip(lonlat[:, 0].tolist(), lonlat[:, 1].tolist(), strict=True))
    rings = [tuple(pairs[a:b]) for a, b in itertools.pairwise(ring_offsets)]
    parts = [tuple(rings[a:b]) for a, b in itertools.pairwise(polygon_offsets)]
    if len(parts) == 1:
        return {"type": "Polygon", "coordinates": parts[0]}
    return {"type": "MultiPolygon", "coordinates": tuple(parts)}


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
