"""The planners' grid: 100 m cells in EPSG:25832, aligned to multiples of 100 m.

The German census grid (Zensus) uses 100 m cells too, but in EPSG:3035 (LAEA Europe). The
planners' grid keeps the census cell size in the metric CRS of NRW, so cells line up with
the walking network and the city's own data; census cells are mapped onto it by their
centre (see :mod:`mapservice.planning.demand`). A cell belongs to an area when its centre
lies inside the area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from mapservice.models import METRIC_SRID, WGS84

CELL_M = 100
TO_WGS84 = Transformer.from_crs(METRIC_SRID, WGS84, always_xy=True)


@dataclass(frozen=True)
class Grid:
    """Cells by their lower-left corner (``e``, ``n``, whole metres in EPSG:25832)."""

    e: np.ndarray  # int64
    n: np.ndarray  # int64
    size: int = CELL_M

    def __len__(self) -> int:
        return len(self.e)

    @property
    def x(self) -> np.ndarray:
        """Centre easting."""
        return self.e + self.size / 2

    @property
    def y(self) -> np.ndarray:
        """Centre northing."""
        return self.n + self.size / 2

    @property
    def ids(self) -> list[str]:
        """Stable cell ids in the census style: ``100mN<northing>E<easting>`` (EPSG:25832)."""
        pairs = zip(self.e.tolist(), self.n.tolist(), strict=True)
        return [f"25832RES100mN{n}E{e}" for e, n in pairs]

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres in WGS84."""
        lon, lat = TO_WGS84.transform(self.x, self.y)
        return np.asarray(lon), np.asarray(lat)

    def polygons_wgs84(self) -> np.ndarray:
        """The cells as shapely polygons in WGS84 (corners transformed, so slightly rotated)."""
        s = self.size
        xs = np.stack([self.e, self.e + s, self.e + s, self.e, self.e], axis=1).astype(float)
        ys = np.stack([self.n, self.n, self.n + s, self.n + s, self.n], axis=1).astype(float)
        lon, lat = TO_WGS84.transform(xs, ys)
        rings = np.stack([np.asarray(lon), np.asarray(lat)], axis=2)
        return np.asarray(shapely.polygons(rings))

    def polygons_metric(self) -> np.ndarray:
        return np.asarray(shapely.box(self.e, self.n, self.e + self.size, self.n + self.size))

    def index_of(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Position of each (e, n) corner in this grid, -1 where it is not a cell here."""
        wanted = np.asarray(e, dtype=np.int64) * 100_000_000 + np.asarray(n, dtype=np.int64)
        result = np.full(len(wanted), -1, dtype=np.int64)
        if not len(self.e):
            return result
        keys = self.e * 100_000_000 + self.n
        order = np.argsort(keys)
        ordered = keys[order]
        pos = np.clip(np.searchsorted(ordered, wanted), 0, len(ordered) - 1)
        found = ordered[pos] == wanted
        result[found] = order[pos[found]]
        return result


def snap_corner(value: np.ndarray | float, size: int = CELL_M) -> np.ndarray:
    """The lower-left corner (multiple of ``size``) of the cell holding each coordinate."""
    return (np.floor(np.asarray(value, dtype=float) / size) * size).astype(np.int64)


def grid_for_polygon(area: BaseGeometry, size: int = CELL_M) -> Grid:
    """All cells whose centre lies in ``area`` (a polygon in EPSG:25832)."""
    if area.is_empty:
        return Grid(np.empty(0, np.int64), np.empty(0, np.int64), size)
    ee, nn = _mesh(area.bounds, size)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, ee + size / 2, nn + size / 2)
    return Grid(ee[inside], nn[inside], size)


def grid_for_polygons(parts: list[BaseGeometry], size: int = CELL_M) -> tuple[Grid, np.ndarray]:
    """All cells whose centre lies in one of ``parts`` (the area is their union, e.g. the
    city as its sub-districts), and the first part holding each.

    No union is formed: a centre lies in the union exactly when it lies in a part (but for
    a centre on a border between two parts, which the 50 m offset of centres from the
    metre-aligned borders of real data never meets).
    """
    parts = [part for part in parts if not part.is_empty]
    if not parts:
        return Grid(np.empty(0, np.int64), np.empty(0, np.int64), size), np.empty(0, np.int64)
    bounds = shapely.total_bounds(np.asarray(parts, dtype=object))
    ee, nn = _mesh(tuple(bounds), size)
    owner = first_containing(parts, ee + size / 2, nn + size / 2)
    inside = owner >= 0
    return Grid(ee[inside], nn[inside], size), owner[inside]


def _mesh(bounds: tuple[float, ...], size: int) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = bounds
    es = np.arange(int(snap_corner(minx, size)), float(maxx), size).astype(np.int64)
    ns = np.arange(int(snap_corner(miny, size)), float(maxy), size).astype(np.int64)
    mesh_e, mesh_n = np.meshgrid(es, ns)
    return mesh_e.ravel(), mesh_n.ravel()


def first_containing(polygons: list[BaseGeometry], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of the first polygon containing each point, -1 for none.

    Each polygon tests only the points inside its bounding box, with ``contains_xy`` on the
    coordinates (no point objects: making 50,000 of them costs more than the tests).
    """
    result = np.full(len(x), -1, dtype=np.int64)
    for index, polygon in enumerate(polygons):
        if polygon.is_empty:
            continue
        minx, miny, maxx, maxy = polygon.bounds
        candidates = np.flatnonzero(
            (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy) & (result < 0)
        )
        if not len(candidates):
            continue
        shapely.prepare(polygon)
        hit = shapely.contains_xy(polygon, x[candidates], y[candidates])
        result[candidates[hit]] = index
    return result


def assign_polygons(grid: Grid, polygons: list[BaseGeometry]) -> np.ndarray:
    """Index of the polygon holding each cell centre, -1 for none (first match wins)."""
    return first_containing(polygons, grid.x, grid.y)
