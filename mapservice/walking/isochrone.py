"""Isochrones: the area a family reaches on foot within given minutes. Free of Flask.

The polygons are built from the network actually reached (the reached paths, buffered),
not from a circle or a convex hull: across the railway tracks they stop where the paths do.
Off every network they are circles of straight-line reach / detour factor, marked
estimated.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from contourpy import FillType, contour_generator
from scipy.ndimage import distance_transform_edt
from shapely.geometry import mapping
from shapely.ops import substring
from sqlalchemy.orm import Session

from mapservice.walking.graph import get_graph
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.reach import TO_METRIC, TO_WGS84, Origin, locate


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
    features = []
    if origin.snap is None:
        here = shapely.Point(x, y)
        for minute in sorted(minutes, reverse=True):
            radius = minute * 60 * speed / settings.detour_factor
            features.append(_band(here.buffer(radius, quad_segs=16), minute, True))
        return _collection(features, origin, profile)
    snap = origin.snap
    graph = get_graph(session, snap.network_id, snap.version)
    limit = max(minutes) * 60 * speed
    u, v = graph.node_index([snap.source, snap.target])
    dist = graph.distances_from([int(u), int(v)], profile.steps, limit)
    reach = np.minimum(
        dist[0] + snap.to_source_m + snap.distance_m, dist[-1] + snap.to_target_m + snap.distance_m
    )
    variant = graph.variant(profile.steps)
    at_u = reach[graph.edge_u]
    at_v = reach[graph.edge_v]
    start_edge = graph.edge_index(snap.edge_id)
    grid: _Grid | None = None
    for minute in sorted(minutes, reverse=True):
        budget = minute * 60 * speed
        parts = _reached_parts(graph.geoms, graph.length, at_u, at_v, variant.usable_edge, budget)
        # The start edge: reached both ways from the point, whatever its nodes say.
        along = budget - snap.distance_m
        if along > 0:
            centre = snap.fraction * snap.length_m
            parts.append(
                substring(
                    graph.geoms[start_edge],
                    max(0.0, centre - along),
                    min(snap.length_m, centre + along),
                )
            )
            on_edge = graph.geoms[start_edge].interpolate(centre)
            parts.append(shapely.LineString([(x, y), (on_edge.x, on_edge.y)]))
        # Only real lines: a substring can collapse to a point, a start line to zero length.
        lines = [p for p in parts if isinstance(p, shapely.LineString) and p.length > 0]
        # One grid for all bands (the largest comes first), so that the bands nest exactly.
        grid = grid or _Grid.around(lines, settings.isochrone_buffer_m)
        features.append(_band(grid.buffered(lines), minute, False))
    return _collection(features, origin, profile)


def _reached_parts(
    geoms: np.ndarray,
    length: np.ndarray,
    at_u: np.ndarray,
    at_v: np.ndarray,
    usable: np.ndarray,
    budget: float,
) -> list[Any]:
    """The reached edges whole, and the reached ends of edges the budget runs out on."""
    from_u = np.clip(budget - at_u, 0, None)
    from_v = np.clip(budget - at_v, 0, None)
    from_u[~np.isfinite(from_u)] = 0
    from_v[~np.isfinite(from_v)] = 0
    whole = usable & (from_u + from_v >= length)
    partial = usable & ~whole & ((from_u > 0) | (from_v > 0))
    parts: list[Any] = list(geoms[whole])
    for i in np.flatnonzero(partial):
        if from_u[i] > 0:
            parts.append(substring(geoms[i], 0, from_u[i]))
        if from_v[i] > 0:
            parts.append(substring(geoms[i], length[i] - from_v[i], length[i]))
    return parts


@dataclass(frozen=True)
class _Grid:
    """A raster on which reached paths are buffered.

    GEOS needs ~70 ms to union the buffers of a small town's streets; a distance transform
    on a grid of radius/3 cells and a traced contour give the same outline (to a few
    metres) in a few milliseconds.
    """

    x0: float
    y0: float
    cell: float
    width: int
    height: int
    radius: float

    @classmethod
    def around(cls, lines: list[Any], radius: float) -> _Grid:
        cell = radius / 3.0
        if lines:
            x0, y0, x1, y1 = shapely.total_bounds(np.array(lines, dtype=object))
        else:
            x0 = y0 = x1 = y1 = 0.0
        margin = radius + 2 * cell
        width = int(np.ceil((x1 - x0 + 2 * margin) / cell)) + 1
        height = int(np.ceil((y1 - y0 + 2 * margin) / cell)) + 1
        return cls(x0 - margin, y0 - margin, cell, width, height, radius)

    def buffered(self, lines: list[Any]) -> Any:
        """The area within ``radius`` of the lines."""
        if not lines:
            return shapely.Polygon()
        points = shapely.get_coordinates(
            shapely.segmentize(np.array(lines, dtype=object), self.cell / 2)
        )
        cols = np.clip(
            np.round((points[:, 0] - self.x0) / self.cell).astype(int), 0, self.width - 1
        )
        rows = np.clip(
            np.round((points[:, 1] - self.y0) / self.cell).astype(int), 0, self.height - 1
        )
        free = np.ones((self.height, self.width), dtype=bool)
        free[rows, cols] = False  # zero where a path runs: the transform measures to these
        field = distance_transform_edt(free) * self.cell
        xs = self.x0 + np.arange(self.width) * self.cell
        ys = self.y0 + np.arange(self.height) * self.cell
        generator = contour_generator(xs, ys, field, fill_type=FillType.OuterOffset)
        # OuterOffset: the points and ring offsets of each polygon (outer ring first).
        filled, offsets = cast(Any, generator.filled(-1.0, self.radius))
        polygons = []
        for ring_points, ring_offsets in zip(filled, offsets, strict=True):
            rings = [ring_points[a:b] for a, b in itertools.pairwise(ring_offsets)]
            polygons.append(shapely.Polygon(rings[0], rings[1:]))
        return shapely.MultiPolygon(polygons).simplify(self.cell / 4)


def _band(area: Any, minute: float, estimated: bool) -> dict[str, Any]:
    geometry = shapely.transform(area, _to_wgs84)
    geometry = shapely.set_precision(geometry, 1e-6)
    return {
        "type": "Feature",
        "geometry": mapping(geometry),
        "properties": {"minutes": minute, "estimated": estimated},
    }


def _to_wgs84(coords: np.ndarray) -> np.ndarray:
    lon, lat = TO_WGS84.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


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
