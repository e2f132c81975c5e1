"""Isochrones: the area a family reaches on foot within given minutes. Free of Flask.

The polygons are built from the network actually reached (the reached paths, buffered),
not from a circle or a convex hull: across the railway tracks they stop where the paths do.
Off every network they are circles of straight-line reach / detour factor, marked
estimated.

How, in a few milliseconds (``bench/walking.py`` times it against Valhalla's isochrone):

1. one bounded graph search from the point itself, started at both ends of the edge it
   snapped to, only as far as the largest time (:func:`search.search_from`);
2. a raster of cells a third of the buffer radius (10 m; ``WALK_ISOCHRONE_CELL_M``), each
   the earliest arrival at the reached edges' sample points in it (every cell,
   :meth:`WalkGraph.samples`), and per cell how many of the times reach it within the
   buffer's disc: two compiled loops (:mod:`mapservice.walking.kernels`);
3. every band is those counts traced at its level (``contourpy``), so the bands nest by
   construction; collinear vertices dropped, turned into WGS84 and rounded. The tracer
   keeps distinct rings apart, so no repair step is needed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from contourpy import FillType, LineType, SerialContourGenerator, ZInterp
from sqlalchemy.orm import Session

from mapservice.walking.kernels import arrival_field, bilinear, drop_collinear, within_counts
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.reach import (
    TO_METRIC,
    TO_WGS84,
    Origin,
    at_current_version,
    unsnapped_origin,
)
from mapservice.walking.search import ReachState, SearchSnap, search_from, snap_xy

# GeoJSON coordinates are rounded to this many decimals of a degree (about 10 cm), which
# keeps answers small.
DECIMALS = 6

# Outlines go to WGS84 through a lattice of points PROJ transformed, this far apart. The
# projection bends by about h²/8R over a lattice cell of h metres: at 500 m the
# interpolation stays within a centimetre of PROJ, a tenth of the rounding.
LATTICE_M = 500.0

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
    x, y = TO_METRIC.transform(lon, lat)
    speed = profile.speed_mps
    times = sorted(minutes, reverse=True)
    budgets = [minute * 60 * speed for minute in times]
    cell = settings.isochrone_cell_m
    radius_cells = settings.isochrone_buffer_m / cell

    def outline(state: ReachState) -> tuple[SearchSnap, list[Rings]] | None:
        snap = snap_xy(state, x, y, profile.steps, settings.max_snap_m)
        if snap is None:
            return None
        # A cell apart, samples of a path mark a chain of touching cells along it, which
        # the buffer's disc (a cell's radius or more) turns into a closed band.
        counts = _Counts.of(snap, (x, y), budgets, profile.steps, cell, radius_cells)
        return snap, counts.bands(budgets)

    _version, _state, found = at_current_version(session, settings, outline)
    if found is None:
        origin = unsnapped_origin(session, lon, lat, profile, settings)
        here = shapely.Point(x, y)
        circles = [
            here.buffer(minute * 60 * speed / settings.detour_factor, quad_segs=16)
            for minute in times
        ]
        areas = [_rings(circle) for circle in circles]
        return _collection(_features(areas, times, True), origin, profile)
    snap, areas = found
    return _collection(_features(areas, times, False), Origin(lon, lat, snap.distance_m), profile)


@dataclass(frozen=True)
class _Counts:
    """Per raster cell, how many of the budgets reach it: the reached paths, buffered.

    GEOS needs ~70 ms to union the buffers of a small town's streets; a raster of the
    earliest arrivals, stamped with the buffer's disc and traced, gives the same outline
    (to a few metres) in a fraction of a millisecond, and all bands come from one field.
    """

    counts: np.ndarray  # float64 (rows, cols): 0 .. number of budgets
    origin: np.ndarray  # metres (EPSG:25832) of cell (0, 0)'s centre
    cell: float

    @classmethod
    def of(
        cls,
        snap: SearchSnap,
        here: tuple[float, float],
        budgets: list[float],
        steps: bool,
        cell: float,
        radius_cells: float,
    ) -> _Counts:
        """From one bounded search from the point: the samples of every usable edge with
        a reached end (every cell, :meth:`WalkGraph.samples`), and the line from the point
        to where it joins its edge (reached once the snapping distance is); the buffer's
        disc is ``radius_cells`` cells."""
        limit = max(budgets)
        graph = snap.network.graph
        # The way left for the paths once the point has joined them.
        node_reach = search_from(snap, steps, 0.0, limit - snap.distance_m) + snap.distance_m
        samples = graph.samples(cell)
        start = snap.edge
        centre = snap.fraction * float(graph.length[start])
        first, last = samples.offsets[start], samples.offsets[start + 1]
        start_xy = samples.xy[first:last]
        join = np.array(
            [np.interp(centre, samples.along[first:last], start_xy[:, k]) for k in range(2)]
        )
        point = np.asarray(here) - samples.origin
        steps_to_join = int(np.ceil(np.hypot(*(join - point)) / cell)) + 1
        connector = np.linspace(point, join, steps_to_join)
        # The raster's border: the buffer's disc stays inside, and every outline closes.
        pad = int(radius_cells) + 2
        field, x0, y0 = arrival_field(
            node_reach,
            graph.edge_u,
            graph.edge_v,
            graph.length,
            graph.variant(steps).usable_edge,
            samples.offsets,
            samples.along,
            samples.xy,
            start,
            centre,
            snap.distance_m,
            connector,
            np.full(len(connector), snap.distance_m),
            limit,
            cell,
            pad,
        )
        counts = within_counts(field, np.array(sorted(budgets)), radius_cells)
        return cls(counts, samples.origin + np.array([x0, y0]), cell)

    def bands(self, budgets: list[float]) -> list[Rings]:
        """The area within each budget (metres walked), as ragged arrays.

        Traced on the whole-number counts at half-way levels, the outlines keep at least a
        sixth of a cell clear of every cell centre: rings may come no closer there than the
        rounding of the coordinates could bridge. Traced in cell units, then placed.
        """
        if not self.counts.size:
            return [_rings(shapely.Polygon()) for _ in budgets]
        # The generator class itself: contour_generator() would first scan the counts for
        # NaNs through a masked array (a third of the tracing's time on a town).
        # np.indices: a tenth of np.meshgrid's time for the same grids.
        rows, cols = np.indices(self.counts.shape, dtype=float)
        generator = SerialContourGenerator(
            cols,
            rows,
            self.counts,
            cast(Any, None),  # no mask (the stubs do not say that None is allowed)
            x_chunk_size=0,
            y_chunk_size=0,
            line_type=LineType.Separate,
            fill_type=FillType.ChunkCombinedOffsetOffset,
            corner_mask=False,
            quad_as_tri=False,
            z_interp=ZInterp.Linear,
        )
        areas = []
        for rank in np.argsort(np.argsort(budgets)):  # 0 for the smallest budget
            # One chunk: all points, ring offsets, and the offsets of each polygon's rings.
            filled = cast(Any, generator.filled(len(budgets) - rank - 0.5, len(budgets) + 1.0))
            (coords,), (ring_offsets,), (polygon_offsets,) = filled
            if coords is None:
                areas.append(_rings(shapely.Polygon()))
            else:
                areas.append((coords * self.cell + self.origin, ring_offsets, polygon_offsets))
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
    lonlat = np.round(to_wgs84(lean), DECIMALS)
    rings = [lonlat[a:b] for a, b in itertools.pairwise(lean_rings.tolist())]
    geometries = []
    first = 0
    for area, count in zip(areas, ring_counts, strict=True):
        geometries.append(_geometry(rings[first : first + count], area[2]))
        first += count
    return geometries


def to_wgs84(xy: np.ndarray) -> np.ndarray:
    """Points (n, 2) in metres (EPSG:25832) as WGS84 longitude/latitude: PROJ transforms
    a lattice over their extent (a few dozen points for a town) and the points are
    interpolated in it; for the few thousand vertices of an isochrone a tenth of the time
    PROJ takes for each of them."""
    if not len(xy):
        return np.empty((0, 2))
    low, high = xy.min(axis=0), xy.max(axis=0)
    cells = np.maximum(np.ceil((high - low) / LATTICE_M), 1)
    step = np.maximum((high - low) / cells, 1e-6)
    rows, cols = np.indices((int(cells[1]) + 1, int(cells[0]) + 1), dtype=float)
    lon, lat = TO_WGS84.transform(low[0] + step[0] * cols, low[1] + step[1] * rows)
    return bilinear(lon, lat, low[0], low[1], step[0], step[1], np.ascontiguousarray(xy))


def _without_collinear(coords: np.ndarray, rings: np.ndarray, polygons: np.ndarray) -> Rings:
    """The closed rings without the vertices that lie on the line between their
    neighbours (a raster outline has many along straight runs)."""
    kept, offsets = drop_collinear(np.asarray(coords, dtype=np.float64), rings.astype(np.int64))
    return kept, offsets, polygons


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
