"""The precomputation behind reach queries: where each site meets the walking network,
per profile (``walk_site_snap``: the nearest usable edge, how far along it, how far off).

A reach request then runs one bounded graph search from its point in the worker's memory
and reads the sites' times off at the ends of their edges (:mod:`mapservice.walking.search`):
no time per node is stored. Until 0013 every node within 30 minutes of every site was
(``site_reach``: 2 million rows for Innenstadt-Nord, 20 million for the whole city, 10–15 s
to write), and that cost moved nothing a request needs that a 0.1 ms search cannot give.

Refresh the snaps whenever sites or a network change (:func:`refresh_reach` for all or
some sites, :func:`refresh_stale_reach` for what changed since the last run), in the
transaction that changed them: writing ``walk_site_snap`` bumps the data version
(migration 0013), so every worker sees the new snaps with the transaction's commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from mapservice.walking.profiles import WalkSettings
from mapservice.walking.snap import snap_sites


@dataclass
class RefreshSummary:
    sites: int = 0
    routed: int = 0  # (site, profile) pairs placed on a network
    estimated: int = 0  # (site, profile) pairs off every network

    def __str__(self) -> str:
        return (
            f"walking reach: {self.sites} sites, {self.routed} routed and {self.estimated} "
            "estimated site-profile pairs"
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
    """Recompute the snaps of ``site_ids`` (all sites when None) for every profile.

    Runs in the session's transaction: readers see the old snaps until it commits.
    ``progress`` is kept for the command line's sake; the work takes a second at most.
    """
    settings = settings or WalkSettings()
    everything = site_ids is None
    if site_ids is None:
        site_ids = list(session.scalars(text("SELECT id FROM site ORDER BY id")))
        session.execute(text("DELETE FROM walk_site_snap"))
    else:
        site_ids = sorted(set(site_ids))
        session.execute(
            text("DELETE FROM walk_site_snap WHERE site_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": site_ids},
        )
    summary = RefreshSummary(sites=len(site_ids))
    if not site_ids:
        return summary
    snap_rows: list[tuple[Any, ...]] = []
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
    connection = driver_connection(session)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY walk_site_snap (site_id, profile, network_id, edge_id, fraction, snap_m) "
            "FROM STDIN"
        ) as copy,
    ):
        for row in snap_rows:
            copy.write_row(row)
    if everything:  # fresh statistics after a bulk load
        session.execute(text("ANALYZE walk_site_snap"))
    return summary


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
