"""Compiled loops of the walking requests (numba), where NumPy and SciPy spend their time
on calls rather than on work.

* :func:`bounded_search`: one request's graph search from its point. SciPy's ``dijkstra``
  validates and converts its graph on every call: 0.4 ms on a town's 1,400 edges, of
  which the search is a few microseconds.
* :func:`arrival_field`, :func:`within_counts`: an isochrone's earliest arrival in every
  raster cell along the reached paths and, per cell, how many of the asked times reach it
  within the buffer. As array operations these were ~40 NumPy calls over a few thousand
  samples and tens of thousands of cells (about 3 ms for a town).
* :func:`drop_collinear`: the traced outlines without their collinear vertices.
* :func:`bilinear`: an outline's vertices into WGS84 through a lattice of points PROJ
  transformed (PROJ's inverse transverse Mercator costs ~0.3 µs a point).

The loops are compiled on first use and cached on disk (``cache=True``), so an
installation compiles them once; :func:`warm_up` loads them off the request path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Cells no reached sample lies in.
UNREACHED = np.float32(np.inf)


@njit(cache=True, nogil=True)
def _push(keys: np.ndarray, items: np.ndarray, size: int, key: float, item: int) -> int:
    """Add to the binary heap in ``keys[:size]``/``items[:size]``; the new size."""
    at = size
    while at > 0:
        parent = (at - 1) >> 1
        if keys[parent] <= key:
            break
        keys[at], items[at] = keys[parent], items[parent]
        at = parent
    keys[at], items[at] = key, item
    return size + 1


@njit(cache=True, nogil=True)
def _pop(keys: np.ndarray, items: np.ndarray, size: int) -> int:
    """Remove the heap's smallest entry (read ``keys[0]``/``items[0]`` first); the new
    size."""
    size -= 1
    key, item = keys[size], items[size]
    at = 0
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if key <= keys[child]:
            break
        keys[at], items[at] = keys[child], items[child]
        at = child
    keys[at], items[at] = key, item
    return size


@njit(cache=True, nogil=True)
def bounded_search(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    starts: np.ndarray,
    start_distances: np.ndarray,
    limit: float,
) -> np.ndarray:
    """Shortest distances over a CSR graph from several start nodes, each already
    ``start_distances`` away (the request's point joins both ends of its edge); ``inf``
    beyond ``limit``."""
    distance = np.full(len(indptr) - 1, np.inf)
    # A heap with stale entries left in (skipped when popped): at most one entry per arc
    # relaxation and start.
    keys = np.empty(len(indices) + len(starts))
    items = np.empty(len(indices) + len(starts), dtype=np.int64)
    size = 0
    for k in range(len(starts)):
        node, start = starts[k], start_distances[k]
        if start <= limit and start < distance[node]:
            distance[node] = start
            size = _push(keys, items, size, start, node)
    while size:
        reached, node = keys[0], items[0]
        size = _pop(keys, items, size)
        if reached > distance[node]:
            continue  # a stale, longer entry
        for arc in range(indptr[node], indptr[node + 1]):
            other = indices[arc]
            through = reached + weights[arc]
            if through <= limit and through < distance[other]:
                distance[other] = through
                size = _push(keys, items, size, through, other)
    return distance


@njit(cache=True, nogil=True)
def arrival_field(
    node_reach: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    length: np.ndarray,
    usable: np.ndarray,
    offsets: np.ndarray,
    along: np.ndarray,
    xy: np.ndarray,
    start: int,
    centre: float,
    snap_distance: float,
    extra_xy: np.ndarray,
    extra_reach: np.ndarray,
    limit: float,
    cell: float,
    pad: int,
) -> tuple[np.ndarray, float, float]:
    """The earliest arrival (metres walked) at any sample in each cell, and the raster's
    lower-left cell centre (in the samples' coordinates).

    A sample of edge ``e`` at ``along`` metres is reached at the smaller of its two ends'
    reach plus the way along the edge; samples of the start edge ``start`` also straight
    from the point's join at ``centre`` metres along it. ``extra_xy``/``extra_reach`` are
    further points (the line from the point to its join). Only samples within ``limit``
    count; the raster is their bounding box grown by ``pad`` cells.
    """
    # The reached samples, gathered once: their place and arrival.
    room = len(along) + len(extra_reach)
    xs, ys, arrivals = np.empty(room), np.empty(room), np.empty(room)
    n = 0
    for e in range(len(edge_u)):
        at_u, at_v = node_reach[edge_u[e]], node_reach[edge_v[e]]
        if e != start and (not usable[e] or min(at_u, at_v) > limit):
            continue
        for k in range(offsets[e], offsets[e + 1]):
            reach = min(at_u + along[k], at_v + length[e] - along[k])
            if e == start:
                reach = min(reach, snap_distance + abs(along[k] - centre))
            if reach <= limit:
                xs[n], ys[n], arrivals[n] = xy[k, 0], xy[k, 1], reach
                n += 1
    for k in range(len(extra_reach)):
        if extra_reach[k] <= limit:
            xs[n], ys[n], arrivals[n] = extra_xy[k, 0], extra_xy[k, 1], extra_reach[k]
            n += 1
    if n == 0:  # nothing within the limit (the point lies farther off its path)
        return np.full((0, 0), UNREACHED, dtype=np.float32), 0.0, 0.0
    xs, ys, arrivals = xs[:n], ys[:n], arrivals[:n]
    x0, y0 = xs.min() - pad * cell, ys.min() - pad * cell
    width = int(np.rint((xs.max() - x0) / cell)) + pad + 1
    height = int(np.rint((ys.max() - y0) / cell)) + pad + 1
    field = np.full((height, width), UNREACHED, dtype=np.float32)
    for i in range(n):  # each cell the earliest arrival among its samples
        row = int(np.rint((ys[i] - y0) / cell))
        col = int(np.rint((xs[i] - x0) / cell))
        field[row, col] = min(field[row, col], arrivals[i])
    return field, x0, y0


@njit(cache=True, nogil=True)
def within_counts(field: np.ndarray, budgets: np.ndarray, radius: float) -> np.ndarray:
    """Per cell, how many of ``budgets`` (ascending) some cell within ``radius`` cells
    (a disc, at least one cell) has an arrival within.

    The same as the minimum of the arrivals over the disc, compared with each budget (the
    count falls as the arrival grows), but one stamp per reached cell instead of a filter
    over the whole raster. ``field`` needs a border of ``int(radius)`` cells.
    """
    height, width = field.shape
    rows = int(radius)
    # The disc as rows: the half-width of each row from -rows to rows.
    half_widths = np.empty(2 * rows + 1, dtype=np.int64)
    for dy in range(-rows, rows + 1):
        half = 0
        while (half + 1) * (half + 1) + dy * dy <= radius * radius:
            half += 1
        half_widths[dy + rows] = half
    counts = np.zeros((height, width), dtype=np.float64)
    for row in range(height):
        for col in range(width):
            arrival = field[row, col]
            if arrival > budgets[-1]:
                continue
            count = 0.0
            for budget in budgets:
                if arrival <= budget:
                    count += 1.0
            for dy in range(-rows, rows + 1):
                half = half_widths[dy + rows]
                for stamped in range(col - half, col + half + 1):
                    if counts[row + dy, stamped] < count:
                        counts[row + dy, stamped] = count
    return counts


@njit(cache=True, nogil=True)
def drop_collinear(coords: np.ndarray, rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed rings (``coords``, ring offsets) without the vertices that lie on the line
    between their neighbours; each ring closed again on its first kept vertex."""
    kept = np.empty_like(coords)  # never more points than came in
    offsets = np.zeros(len(rings), dtype=np.int64)
    n = 0
    for ring in range(len(rings) - 1):
        first, closing = rings[ring], rings[ring + 1] - 1  # the closing point repeats
        start = n
        for i in range(first, closing):
            before = closing - 1 if i == first else i - 1
            in_x, in_y = coords[i, 0] - coords[before, 0], coords[i, 1] - coords[before, 1]
            out_x, out_y = coords[i + 1, 0] - coords[i, 0], coords[i + 1, 1] - coords[i, 1]
            cross = in_x * out_y - in_y * out_x
            scale = np.hypot(in_x, in_y) * np.hypot(out_x, out_y)
            if abs(cross) > 1e-9 * scale:
                kept[n] = coords[i]
                n += 1
        if n > start:
            kept[n] = kept[start]
            n += 1
        offsets[ring + 1] = n
    return kept[:n], offsets


@njit(cache=True, nogil=True)
def _lerp(grid: np.ndarray, row: int, col: int, down: float, across: float) -> float:
    top = grid[row, col] * (1.0 - across) + grid[row, col + 1] * across
    bottom = grid[row + 1, col] * (1.0 - across) + grid[row + 1, col + 1] * across
    return top * (1.0 - down) + bottom * down


@njit(cache=True, nogil=True)
def bilinear(
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    x0: float,
    y0: float,
    step_x: float,
    step_y: float,
    points: np.ndarray,
) -> np.ndarray:
    """``points`` (n, 2) mapped through a lattice: ``grid_x``/``grid_y`` (rows, cols) are
    the images of the lattice points ``(x0 + col * step_x, y0 + row * step_y)``, and each
    point's image is interpolated bilinearly in its lattice cell (outside: the nearest)."""
    rows, cols = grid_x.shape
    out = np.empty_like(points)
    for k in range(len(points)):
        u = (points[k, 0] - x0) / step_x
        v = (points[k, 1] - y0) / step_y
        col = min(max(int(np.floor(u)), 0), cols - 2)
        row = min(max(int(np.floor(v)), 0), rows - 2)
        out[k, 0] = _lerp(grid_x, row, col, v - row, u - col)
        out[k, 1] = _lerp(grid_y, row, col, v - row, u - col)
    return out


def warm_up() -> None:
    """Compile (or load from the cache) the loops on tiny inputs."""
    bounded_search(
        np.array([0, 1, 2], dtype=np.int32),
        np.array([1, 0], dtype=np.int32),
        np.ones(2),
        np.array([0, 1], dtype=np.int64),
        np.zeros(2),
        1.0,
    )
    one = np.zeros(1, dtype=np.int64)
    samples = np.zeros((1, 2), dtype=np.float32)
    field, _, _ = arrival_field(
        np.zeros(1),
        one,
        one,
        np.ones(1),
        np.ones(1, dtype=np.bool_),
        np.array([0, 1], dtype=np.int64),
        np.zeros(1, dtype=np.float32),
        samples,
        0,
        0.0,
        0.0,
        np.zeros((0, 2)),
        np.zeros(0),
        1.0,
        1.0,
        4,
    )
    within_counts(field, np.array([1.0]), 3.0)
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float64)
    drop_collinear(square, np.array([0, 5], dtype=np.int64))
    bilinear(square[:4, 0].reshape(2, 2), square[:4, 1].reshape(2, 2), 0.0, 0.0, 1.0, 1.0, square)
