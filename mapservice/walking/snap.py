"""Snapping a point onto the nearest usable edge (not just the nearest node).

The nearest edge comes from the spatial index (``ORDER BY geom <-> point``), among those the
profile may use and that are not on a cut-off fragment (``usable_steps``/``usable_nosteps``,
set at import from the graph's connected components). The point then starts
on that edge, ``fraction`` of the way from its source to its target.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

_SNAP_SQL = text(
    """
    WITH p AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 25832) AS g)
    SELECT e.network_id, n.imported_at, e.id, e.source, e.target, e.length_m,
           ST_LineLocatePoint(e.geom, p.g) AS fraction, ST_Distance(e.geom, p.g) AS distance
    FROM p, walk_edge e JOIN walk_network n ON n.id = e.network_id
    WHERE CASE WHEN :steps THEN e.usable_steps ELSE e.usable_nosteps END
    ORDER BY e.geom <-> p.g
    LIMIT 1
    """
)

_SITES_SNAP_SQL = text(
    """
    SELECT s.id, c.network_id, c.imported_at, c.id, c.source, c.target, c.length_m,
           c.fraction, c.distance
    FROM site s CROSS JOIN LATERAL (
        SELECT e.network_id, n.imported_at, e.id, e.source, e.target, e.length_m,
               ST_LineLocatePoint(e.geom, ST_Transform(s.geom, 25832)) AS fraction,
               ST_Distance(e.geom, ST_Transform(s.geom, 25832)) AS distance
        FROM walk_edge e JOIN walk_network n ON n.id = e.network_id
        WHERE CASE WHEN :steps THEN e.usable_steps ELSE e.usable_nosteps END
        ORDER BY e.geom <-> ST_Transform(s.geom, 25832)
        LIMIT 1
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


def snap_point(
    session: Session, lon: float, lat: float, *, steps: bool, max_snap_m: float
) -> Snap | None:
    """The point on the nearest usable edge, or None if none is within ``max_snap_m``."""
    row = session.execute(_SNAP_SQL, {"lon": lon, "lat": lat, "steps": steps}).first()
    if row is None or row[-1] > max_snap_m:
        return None
    return Snap(*row)


def snap_sites(
    session: Session, site_ids: list[int], *, steps: bool, max_snap_m: float
) -> dict[int, Snap | None]:
    """Snaps of many sites in one query (None where a site lies off the network)."""
    result: dict[int, Snap | None] = dict.fromkeys(site_ids)
    if not site_ids:
        return result
    rows = session.execute(_SITES_SNAP_SQL, {"site_ids": site_ids, "steps": steps}).tuples()
    for site_id, *candidate in rows:
        if candidate[-1] <= max_snap_m:
            result[site_id] = Snap(*candidate)
    return result


def distance_to_network(session: Session, lon: float, lat: float) -> float | None:
    """Metres from the point to the nearest edge of any network, or None if none is near.

    "Near" means inside a network's extent; elsewhere the answer is estimated instead.
    """
    # Per network whose extent holds the point, its nearest edge by a KNN scan on the
    # spatial index (the point spelled out: KNN needs a constant, not a CTE column).
    row = session.execute(
        text(
            """
            SELECT min((
                SELECT ST_Distance(
                    e.geom, ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 25832))
                FROM walk_edge e
                WHERE e.network_id = n.id
                ORDER BY e.geom <-> ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 25832)
                LIMIT 1
            ))
            FROM walk_network n
            WHERE ST_Intersects(n.extent, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
            """
        ),
        {"lon": lon, "lat": lat},
    ).scalar()
    return None if row is None else float(row)
