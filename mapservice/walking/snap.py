"""Snapping a point onto the nearest usable edge (not just the nearest node).

The nearest edges come from the spatial index (``ORDER BY geom <-> point``); the first one
that the profile may use and that is not on a cut-off fragment wins. The point then starts
on that edge, ``fraction`` of the way from its source to its target.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from mapservice.walking.graph import WalkGraph, get_graph

CANDIDATES = 12

_SNAP_SQL = text(
    """
    WITH p AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 25832) AS g)
    SELECT e.id, e.network_id, n.imported_at, e.source, e.target, e.length_m,
           ST_LineLocatePoint(e.geom, p.g) AS fraction, ST_Distance(e.geom, p.g) AS distance
    FROM p, walk_edge e JOIN walk_network n ON n.id = e.network_id
    WHERE (:steps OR NOT e.steps)
    ORDER BY e.geom <-> p.g
    LIMIT :k
    """
)

_SITES_SNAP_SQL = text(
    """
    SELECT s.id, c.id, c.network_id, c.imported_at, c.source, c.target, c.length_m,
           c.fraction, c.distance
    FROM site s CROSS JOIN LATERAL (
        SELECT e.id, e.network_id, n.imported_at, e.source, e.target, e.length_m,
               ST_LineLocatePoint(e.geom, ST_Transform(s.geom, 25832)) AS fraction,
               ST_Distance(e.geom, ST_Transform(s.geom, 25832)) AS distance
        FROM walk_edge e JOIN walk_network n ON n.id = e.network_id
        WHERE (:steps OR NOT e.steps)
        ORDER BY e.geom <-> ST_Transform(s.geom, 25832)
        LIMIT :k
    ) c
    WHERE s.id IN :site_ids
    ORDER BY s.id, c.distance
    """
).bindparams(bindparam("site_ids", expanding=True))


@dataclass(frozen=True)
class Snap:
    """A point placed on an edge."""

    network_id: int
    version: dt.datetime
    edge_id: int
    source: int  # node ids
    target: int
    length_m: float
    fraction: float  # 0 at source, 1 at target
    distance_m: float  # from the point to the edge

    @property
    def to_source_m(self) -> float:
        return self.fraction * self.length_m

    @property
    def to_target_m(self) -> float:
        return (1.0 - self.fraction) * self.length_m


def _first_usable(
    session: Session, candidates: list[tuple], steps: bool, max_snap_m: float
) -> Snap | None:
    for edge_id, network_id, version, source, target, length, fraction, distance in candidates:
        if distance > max_snap_m:
            return None
        graph: WalkGraph = get_graph(session, network_id, version)
        if graph.variant(steps).usable_edge[graph.edge_index(edge_id)]:
            return Snap(network_id, version, edge_id, source, target, length, fraction, distance)
    return None


def snap_point(
    session: Session, lon: float, lat: float, *, steps: bool, max_snap_m: float
) -> Snap | None:
    """The point on the nearest usable edge, or None if none is within ``max_snap_m``."""
    rows = session.execute(
        _SNAP_SQL, {"lon": lon, "lat": lat, "steps": steps, "k": CANDIDATES}
    ).tuples()
    return _first_usable(session, list(rows), steps, max_snap_m)


def snap_sites(
    session: Session, site_ids: list[int], *, steps: bool, max_snap_m: float
) -> dict[int, Snap | None]:
    """Snaps of many sites in one query (None where a site lies off the network)."""
    result: dict[int, Snap | None] = dict.fromkeys(site_ids)
    if not site_ids:
        return result
    grouped: dict[int, list[tuple]] = {}
    rows = session.execute(
        _SITES_SNAP_SQL, {"site_ids": site_ids, "steps": steps, "k": CANDIDATES}
    ).tuples()
    for site_id, *candidate in rows:
        grouped.setdefault(site_id, []).append(tuple(candidate))
    for site_id, candidates in grouped.items():
        result[site_id] = _first_usable(session, candidates, steps, max_snap_m)
    return result


def distance_to_network(session: Session, lon: float, lat: float) -> float | None:
    """Metres from the point to the nearest edge of any network, or None if none is near.

    "Near" means inside a network's extent; elsewhere the answer is estimated instead.
    """
    row = session.execute(
        text(
            """
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
            SELECT ST_Distance(e.geom, ST_Transform(p.g, 25832))
            FROM p, walk_network n JOIN walk_edge e ON e.network_id = n.id
            WHERE ST_Intersects(n.extent, p.g)
            ORDER BY e.geom <-> ST_Transform(p.g, 25832)
            LIMIT 1
            """
        ),
        {"lon": lon, "lat": lat},
    ).scalar()
    return None if row is None else float(row)
