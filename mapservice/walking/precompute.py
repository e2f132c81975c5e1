"""The precomputation behind reach queries: walking seconds from each site to the nodes
around it, per profile, up to the largest time a request may ask for.

A request then costs a snap and an indexed lookup in ``site_reach`` instead of a graph
search. Refresh it whenever sites or a network change (:func:`refresh_reach` for all,
:func:`refresh_stale_reach` for what changed since the last run).

All sites of one step rule go through one scipy Dijkstra call per batch: each site is a
virtual node joined to both ends of its snapped edge (by the distance along the edge plus
the distance from the site to the edge), and the search from it stops at the limit.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from mapservice.walking.graph import MIN_LENGTH_M, get_graph
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.snap import Snap, snap_sites

BATCH = 64  # sources per Dijkstra call: bounds the dense result to BATCH x nodes


@dataclass
class RefreshSummary:
    sites: int = 0
    routed: int = 0  # (site, profile) pairs placed on a network
    estimated: int = 0  # (site, profile) pairs off every network
    rows: int = 0

    def __str__(self) -> str:
        return (
            f"walking reach: {self.sites} sites, {self.routed} routed and {self.estimated} "
            f"estimated site-profile pairs, {self.rows} precomputed node times"
        )


def driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under ``session``'s, in the session's transaction.

    For COPY, and for the hottest statements: run there as prepared statements they skip
    SQLAlchemy's statement and result handling.
    """
    found = session.connection().connection.driver_connection
    if not isinstance(found, psycopg.Connection):
        raise TypeError(f"expected a psycopg connection, got {type(found).__name__}")
    return found


def refresh_reach(
    session: Session,
    settings: WalkSettings | None = None,
    *,
    site_ids: list[int] | None = None,
    progress: bool = False,
) -> RefreshSummary:
    """Recompute snaps and reach times for ``site_ids`` (all sites when None).

    Runs in the session's transaction: readers see the old times until it commits.
    """
    settings = settings or WalkSettings()
    everything = site_ids is None
    if site_ids is None:
        site_ids = list(session.scalars(text("SELECT id FROM site ORDER BY id")))
        _unindex_site_reach(session)
        session.execute(text("DELETE FROM walk_site_snap"))
    else:
        site_ids = sorted(set(site_ids))
        params = {"ids": site_ids}
        for table in ("site_reach", "walk_site_snap"):
            session.execute(
                text(f"DELETE FROM {table} WHERE site_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                params,
            )
    summary = RefreshSummary(sites=len(site_ids))
    if not site_ids:
        return summary
    snap_rows: list[tuple[Any, ...]] = []
    connection = driver_connection(session)
    for steps in (True, False):
        profiles = [p for p in settings.profiles.values() if p.steps == steps]
        if not profiles:
            continue
        snaps = snap_sites(session, site_ids, steps=steps, max_snap_m=settings.max_snap_m)
        for profile in profiles:
            for site_id, snap in snaps.items():
                if snap is None:
                    snap_rows.append((site_id, profile.key, None, None, None, None))
                    summary.estimated += 1
                else:
                    snap_rows.append(
                        (
                            site_id,
                            profile.key,
                            snap.network_id,
                            snap.edge_id,
                            snap.fraction,
                            snap.distance_m,
                        )
                    )
                    summary.routed += 1
        by_network: dict[int, list[tuple[int, Snap]]] = {}
        for site_id, snap in snaps.items():
            if snap is not None:
                by_network.setdefault(snap.network_id, []).append((site_id, snap))
        for pairs in by_network.values():
            summary.rows += _reach_rows(
                session, connection, pairs, steps, profiles, settings, progress=progress
            )
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY walk_site_snap (site_id, profile, network_id, edge_id, fraction, snap_m) "
            "FROM STDIN"
        ) as copy,
    ):
        for row in snap_rows:
            copy.write_row(row)
    if everything:
        _reindex_site_reach(session)
    # Fresh statistics after a bulk load, so reach queries are planned for what is there.
    session.execute(text("ANALYZE site_reach"))
    session.execute(text("ANALYZE walk_site_snap"))
    return summary


# A full refresh writes millions of rows: into a table without its key, index and foreign
# key, which are then built once (a sort and one join), it is several times faster than
# maintaining them row by row. The table is locked until the transaction ends, so readers
# wait for the new times instead of seeing the old ones (a full refresh is an admin's step:
# the default load, ``refresh-reach``). The statements restore what migration 0001 made.
_SITE_REACH_INDEXES = (
    (
        "ALTER TABLE site_reach DROP CONSTRAINT site_reach_pkey",
        "ALTER TABLE site_reach ADD CONSTRAINT site_reach_pkey "
        "PRIMARY KEY (profile, node_id, site_id)",
    ),
    (
        "DROP INDEX ix_site_reach_site_id",
        "CREATE INDEX ix_site_reach_site_id ON site_reach (site_id)",
    ),
    (
        "ALTER TABLE site_reach DROP CONSTRAINT site_reach_site_id_fkey",
        "ALTER TABLE site_reach ADD CONSTRAINT site_reach_site_id_fkey FOREIGN KEY (site_id) "
        "REFERENCES site (id) ON DELETE CASCADE",
    ),
)


def _unindex_site_reach(session: Session) -> None:
    session.execute(text("TRUNCATE site_reach"))
    for drop, _create in _SITE_REACH_INDEXES:
        session.execute(text(drop))


def _reindex_site_reach(session: Session) -> None:
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _drop, create in _SITE_REACH_INDEXES:
        session.execute(text(create))


def _reach_rows(
    session: Session,
    connection: Any,
    pairs: list[tuple[int, Snap]],
    steps: bool,
    profiles: list[WalkProfile],
    settings: WalkSettings,
    *,
    progress: bool,
) -> int:
    """Dijkstra from every site of one network; COPY the times into ``site_reach``."""
    graph = get_graph(session, pairs[0][1].network_id, pairs[0][1].version)
    variant = graph.variant(steps)
    n = len(graph.node_ids)
    s = len(pairs)
    snap_u = graph.node_index([snap.source for _, snap in pairs])
    snap_v = graph.node_index([snap.target for _, snap in pairs])
    to_u = np.array([snap.to_source_m + snap.distance_m for _, snap in pairs])
    to_v = np.array([snap.to_target_m + snap.distance_m for _, snap in pairs])
    virtual = np.arange(n, n + s)
    # Virtual arcs only leave the site: no path may pass through another site.
    rows = np.concatenate([variant.rows, virtual, virtual])
    cols = np.concatenate([variant.cols, snap_u, snap_v])
    data = np.concatenate([variant.weights, np.maximum(np.concatenate([to_u, to_v]), MIN_LENGTH_M)])
    # Where both ends are one node (a loop edge), keep the shorter virtual arc.
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    matrix = csr_array(coo_array((data[first], (rows[first], cols[first])), shape=(n + s, n + s)))
    limit = max(settings.max_seconds * p.speed_mps for p in profiles)
    site_ids = np.array([site_id for site_id, _ in pairs], dtype=np.int32)
    written = 0
    batches = range(0, s, BATCH)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY site_reach (profile, node_id, site_id, seconds) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.write(_COPY_HEADER)
        for start in tqdm(batches, desc="precomputing", unit=" batches", disable=not progress):
            sources = virtual[start : start + BATCH]
            dist = np.atleast_2d(dijkstra(matrix, directed=True, indices=sources, limit=limit))[
                :, :n
            ]
            batch_rows, nodes = np.nonzero(np.isfinite(dist))
            metres = dist[batch_rows, nodes]
            for profile in profiles:
                seconds = metres / profile.speed_mps
                keep = seconds <= settings.max_seconds
                copy.write(
                    _binary_rows(
                        profile.key,
                        graph.node_ids[nodes[keep]],
                        site_ids[start + batch_rows[keep]],
                        seconds[keep],
                    )
                )
                written += int(keep.sum())
        copy.write(_COPY_TRAILER)
    return written


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)


def _binary_rows(
    profile: str, node_ids: np.ndarray, site_ids: np.ndarray, seconds: np.ndarray
) -> bytes:
    """Rows of PostgreSQL's binary COPY format, built by numpy (no Python loop per row)."""
    key = profile.encode()
    dtype = np.dtype(
        [
            ("fields", ">i2"),
            ("len_profile", ">i4"),
            ("profile", f"S{len(key)}"),
            ("len_node", ">i4"),
            ("node", ">i8"),
            ("len_site", ">i4"),
            ("site", ">i4"),
            ("len_seconds", ">i4"),
            ("seconds", ">f8"),
        ]
    )
    rows = np.empty(len(node_ids), dtype=dtype)
    rows["fields"] = 4
    rows["len_profile"] = len(key)
    rows["profile"] = key
    rows["len_node"] = 8
    rows["node"] = node_ids
    rows["len_site"] = 4
    rows["site"] = site_ids
    rows["len_seconds"] = 8
    rows["seconds"] = seconds
    buffer = io.BytesIO()
    buffer.write(rows.tobytes())
    return buffer.getvalue()


def refresh_stale_reach(
    session: Session, settings: WalkSettings | None = None, *, progress: bool = False
) -> RefreshSummary | None:
    """Refresh the sites that are new or changed since their last precomputation.

    Cheap when nothing changed (one query); returns None then.
    """
    settings = settings or WalkSettings()
    stale = list(
        session.scalars(
            text(
                """
                SELECT s.id FROM site s
                WHERE (SELECT count(*) FROM walk_site_snap w
                       WHERE w.site_id = s.id AND w.profile IN :profiles
                         AND w.computed_at >= s.updated_at) < :n
                ORDER BY s.id
                """
            ).bindparams(bindparam("profiles", expanding=True)),
            {"profiles": list(settings.profiles), "n": len(settings.profiles)},
        )
    )
    if not stale:
        return None
    return refresh_reach(session, settings, site_ids=stale, progress=progress)
