"""Walking between the stops of a round: the metres between every pair of stops and the
way each leg runs.

A leg is walked along the imported walking network where both ends lie on the same
network (shortest paths on the in-memory graph of :mod:`mapservice.walking`), else it is
the straight line x detour factor, marked estimated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring
from sqlalchemy.orm import Session

from mapservice.walking.graph import WalkGraph, get_graph
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.reach import TO_METRIC, TO_WGS84
from mapservice.walking.snap import Snap, snap_point


@dataclass(frozen=True)
class _Routed:
    """How the shortest way between two snapped stops runs (for drawing it)."""

    network_id: int
    source_row: int  # row of the search from the first stop's chosen edge end
    from_node: int  # node indices of the chosen edge ends; -1: both on one edge, direct
    to_node: int


@dataclass
class WalkMatrix:
    """Walking metres between all stops, and how each pair was measured."""

    metres: np.ndarray
    estimated: np.ndarray  # bool
    snaps: list[Snap | None]
    points: list[tuple[float, float]]  # (x, y) EPSG:25832
    routed: dict[tuple[int, int], _Routed] = field(default_factory=dict)
    graphs: dict[int, WalkGraph] = field(default_factory=dict)
    predecessors: dict[int, np.ndarray] = field(default_factory=dict)
    steps: bool = True


def walking_matrix(
    session: Session,
    points: Sequence[tuple[float, float]],
    profile: WalkProfile,
    settings: WalkSettings,
) -> WalkMatrix:
    """Metres between every pair of ``(lon, lat)`` points: routed where both lie on one
    network, else straight line x detour factor (estimated)."""
    n = len(points)
    xs, ys = TO_METRIC.transform([p[0] for p in points], [p[1] for p in points])
    metric = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    metres = np.zeros((n, n))
    estimated = np.zeros((n, n), dtype=bool)
    for i, j in itertools.combinations(range(n), 2):
        straight = math.dist(metric[i], metric[j])
        metres[i, j] = metres[j, i] = straight * settings.detour_factor
        estimated[i, j] = estimated[j, i] = True
    snaps = [
        snap_point(session, lon, lat, steps=profile.steps, max_snap_m=settings.max_snap_m)
        for lon, lat in points
    ]
    matrix = WalkMatrix(metres, estimated, snaps, metric, steps=profile.steps)
    by_network: dict[int, list[int]] = {}
    for i, snap in enumerate(snaps):
        if snap is not None:
            by_network.setdefault(snap.network_id, []).append(i)
    for network_id, members in by_network.items():
        if len(members) > 1:
            _route_network(session, matrix, network_id, members)
    return matrix


def _route_network(
    session: Session, matrix: WalkMatrix, network_id: int, members: list[int]
) -> None:
    snaps = matrix.snaps
    first = snaps[members[0]]
    assert first is not None
    graph = get_graph(session, network_id, first.version)
    ends: dict[int, np.ndarray] = {}
    sources: list[int] = []
    for i in members:
        snap = snaps[i]
        assert snap is not None
        ends[i] = graph.node_index([snap.source, snap.target])
        sources.extend(int(node) for node in ends[i])
    dist, pred = dijkstra(
        graph.variant(matrix.steps).matrix, directed=True, indices=sources, return_predecessors=True
    )
    matrix.graphs[network_id] = graph
    matrix.predecessors[network_id] = np.atleast_2d(pred)
    dist = np.atleast_2d(dist)
    row = {i: 2 * position for position, i in enumerate(members)}
    for i, j in itertools.combinations(members, 2):
        a, b = snaps[i], snaps[j]
        assert a is not None and b is not None
        offsets_a = (a.to_source_m, a.to_target_m)
        offsets_b = (b.to_source_m, b.to_target_m)
        found = math.inf
        choice = _Routed(network_id, -1, -1, -1)
        for ea in (0, 1):
            for eb in (0, 1):
                value = offsets_a[ea] + dist[row[i] + ea, ends[j][eb]] + offsets_b[eb]
                if value < found:
                    found = value
                    choice = _Routed(network_id, row[i] + ea, int(ends[i][ea]), int(ends[j][eb]))
        if a.edge_id == b.edge_id:
            direct = abs(a.fraction - b.fraction) * a.length_m
            if direct <= found:
                found, choice = direct, _Routed(network_id, -1, -1, -1)
        if math.isfinite(found):
            total = found + a.distance_m + b.distance_m
            matrix.metres[i, j] = matrix.metres[j, i] = total
            matrix.estimated[i, j] = matrix.estimated[j, i] = False
            matrix.routed[(i, j)] = choice


def leg_path(matrix: WalkMatrix, i: int, j: int) -> list[tuple[float, float]]:
    """The way from stop ``i`` to stop ``j`` as ``(lat, lon)`` points: along the network
    where routed, else the straight line."""
    if (i, j) not in matrix.routed and (j, i) in matrix.routed:
        return leg_path(matrix, j, i)[::-1]
    routed = matrix.routed.get((i, j))
    if routed is None:
        coords = [matrix.points[i], matrix.points[j]]
    else:
        coords = _network_coords(matrix, routed, i, j)
    xs, ys = TO_WGS84.transform([c[0] for c in coords], [c[1] for c in coords])
    return [(round(float(y), 6), round(float(x), 6)) for x, y in zip(xs, ys, strict=True)]


def _network_coords(
    matrix: WalkMatrix, routed: _Routed, i: int, j: int
) -> list[tuple[float, float]]:
    graph = matrix.graphs[routed.network_id]
    a, b = matrix.snaps[i], matrix.snaps[j]
    assert a is not None and b is not None
    geom_a = graph.geoms[graph.edge_index(a.edge_id)]
    geom_b = graph.geoms[graph.edge_index(b.edge_id)]
    at_a = a.fraction * geom_a.length
    at_b = b.fraction * geom_b.length
    coords: list[tuple[float, float]] = [matrix.points[i]]
    if routed.source_row < 0:  # both on one edge
        coords += _line(substring(geom_a, at_a, at_b))
    else:
        start_is_source = routed.from_node == int(graph.node_index([a.source])[0])
        coords += _line(substring(geom_a, at_a, 0 if start_is_source else geom_a.length))
        nodes = _node_path(matrix.predecessors[routed.network_id][routed.source_row], routed)
        edges = _edge_lookup(graph, matrix.steps)
        for p, q in itertools.pairwise(nodes):
            k = edges[(min(p, q), max(p, q))]
            line = _line(graph.geoms[k])
            coords += line if graph.edge_u[k] == p else line[::-1]
        end_is_source = routed.to_node == int(graph.node_index([b.source])[0])
        coords += _line(substring(geom_b, 0 if end_is_source else geom_b.length, at_b))
    coords.append(matrix.points[j])
    return coords


def _line(geom: Any) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in shapely.get_coordinates(geom)]


def _node_path(pred: np.ndarray, routed: _Routed) -> list[int]:
    nodes = [routed.to_node]
    while nodes[-1] != routed.from_node:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


def _edge_lookup(graph: WalkGraph, steps: bool) -> dict[tuple[int, int], int]:
    """The shortest allowed edge between each pair of nodes (what the search walked)."""
    allowed = np.ones(len(graph.edge_u), dtype=bool) if steps else ~graph.steps
    found: dict[tuple[int, int], int] = {}
    for k in np.flatnonzero(allowed):
        u, v = int(graph.edge_u[k]), int(graph.edge_v[k])
        key = (min(u, v), max(u, v))
        if key not in found or graph.length[k] < graph.length[found[key]]:
            found[key] = int(k)
    return found
