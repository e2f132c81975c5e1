"""Storing an imported network in PostGIS: one transaction replaces the old one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from mapservice.models import METRIC_SRID, WalkNetwork
from mapservice.validation import BBox
from mapservice.walking.graph import load_graph
from mapservice.walking.osm import RawNetwork, read_network
from mapservice.walking.precompute import RefreshSummary, driver_connection, refresh_reach
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.streets import rebuild_street_index


@dataclass
class ImportSummary:
    name: str
    network_id: int
    nodes: int
    edges: int
    length_km: float
    reach: RefreshSummary | None

    def __str__(self) -> str:
        text_ = (
            f"walking network {self.name!r}: {self.nodes} nodes, {self.edges} edges, "
            f"{self.length_km:.1f} km"
        )
        return f"{text_}; {self.reach}" if self.reach else text_


def _reserve_ids(session: Session, sequence: str, count: int) -> np.ndarray:
    rows = session.execute(
        text(f"SELECT nextval('{sequence}') FROM generate_series(1, :n)"), {"n": count}
    ).scalars()
    return np.fromiter(rows, dtype=np.int64, count=count)


def store_network(
    session: Session, raw: RawNetwork, name: str, source_file: str, *, progress: bool = False
) -> tuple[WalkNetwork, int, int, float]:
    """Replace (or create) the network ``name`` with ``raw``, in the session's transaction."""
    network = session.scalar(select(WalkNetwork).where(WalkNetwork.name == name))
    if network is None:
        network = WalkNetwork(name=name, source_file=source_file)
        session.add(network)
        session.flush()
    else:
        params = {"id": network.id}
        # Snaps onto the old edges go with them; the caller recomputes.
        session.execute(text("DELETE FROM walk_site_snap WHERE network_id = :id"), params)
        session.execute(text("DELETE FROM walk_edge WHERE network_id = :id"), params)
        session.execute(text("DELETE FROM walk_node WHERE network_id = :id"), params)
        network.source_file = source_file
    osm_ids = np.fromiter(raw.node_xy.keys(), dtype=np.int64, count=len(raw.node_xy))
    node_ids = _reserve_ids(session, "walk_node_id_seq", len(osm_ids))
    node_of = dict(zip(osm_ids.tolist(), node_ids.tolist(), strict=True))
    edge_ids = _reserve_ids(session, "walk_edge_id_seq", len(raw.segments))
    lines = [shapely.LineString(segment.coords) for segment in raw.segments]
    line_array = shapely.set_srid(np.array(lines, dtype=object), METRIC_SRID)
    line_wkb = shapely.to_wkb(line_array, hex=True, include_srid=True)
    lengths = shapely.length(line_array)
    points = shapely.to_wkb(
        shapely.set_srid(shapely.points(np.array(list(raw.node_xy.values()))), METRIC_SRID),
        hex=True,
        include_srid=True,
    )
    connection = driver_connection(session)
    with connection.cursor() as cursor:
        with cursor.copy("COPY walk_node (id, network_id, osm_id, geom) FROM STDIN") as copy:
            for row in tqdm(
                zip(node_ids.tolist(), osm_ids.tolist(), points, strict=True),
                total=len(node_ids),
                desc="writing nodes",
                unit=" nodes",
                disable=not progress,
            ):
                copy.write_row((row[0], network.id, row[1], row[2]))
        with cursor.copy(
            "COPY walk_edge (id, network_id, source, target, length_m, highway, steps, "
            "surface, osm_way_id, name, geom) FROM STDIN"
        ) as copy:
            for edge_id, segment, length, wkb in tqdm(
                zip(edge_ids.tolist(), raw.segments, lengths.tolist(), line_wkb, strict=True),
                total=len(edge_ids),
                desc="writing edges",
                unit=" edges",
                disable=not progress,
            ):
                copy.write_row(
                    (
                        edge_id,
                        network.id,
                        node_of[segment.source],
                        node_of[segment.target],
                        length,
                        segment.highway,
                        segment.steps,
                        segment.surface,
                        segment.osm_way_id,
                        segment.name,
                        wkb,
                    )
                )
    finish_network(session, network.id)
    return network, len(node_ids), len(edge_ids), float(lengths.sum()) / 1000


def finish_network(session: Session, network_id: int) -> None:
    """After the rows are written: extent, a new version (import time), which edges a
    route may start on (the graph's fragments and, without steps, the steps), and the
    network's streets for address search (:mod:`mapservice.walking.streets`)."""
    session.execute(
        text(
            """
            UPDATE walk_network SET imported_at = clock_timestamp(), extent = (
                SELECT ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(geom)), 1), 4326)
                FROM walk_node WHERE network_id = :id)
            WHERE id = :id
            """
        ),
        {"id": network_id},
    )
    graph = load_graph(session, network_id)
    # Rows are written usable (the column default); only the few unusable ones are updated,
    # by primary key (a NOT (id = ANY(...)) over every edge compares each with every id).
    for column, steps in (("usable_steps", True), ("usable_nosteps", False)):
        session.execute(
            text(f"UPDATE walk_edge SET {column} = false WHERE id = ANY(:bad)"),
            {"bad": graph.edge_ids[~graph.variant(steps).usable_edge].tolist()},
        )
    session.execute(text("ANALYZE walk_edge"))
    session.execute(text("ANALYZE walk_node"))
    rebuild_street_index(session, network_id)
    session.expire_all()


def import_network(
    session: Session,
    path: str | Path,
    name: str | None = None,
    settings: WalkSettings | None = None,
    *,
    within: BBox | BaseGeometry | None = None,
    progress: bool = False,
    refresh: bool = True,
) -> ImportSummary:
    """Read an OSM extract (the ways with a node ``within`` the box or area, if given), replace the
    network ``name`` with it and refresh the reach times.

    Everything happens in the session's transaction, so a failed import changes nothing
    and readers see the old network until the commit.
    """
    path = Path(path)
    name = name or network_name(path)
    raw = read_network(path, within=within, progress=progress)
    before = _sites_on(session, name)
    network, nodes, edges, km = store_network(session, raw, name, str(path), progress=progress)
    reach = None
    if refresh:
        # Only the sites this network touches, before or now: the others keep their times.
        sites = sorted(before | _sites_within(session, network.id))
        reach = refresh_reach(session, settings, site_ids=sites, progress=progress)
    return ImportSummary(name, network.id, nodes, edges, km, reach)


def _sites_on(session: Session, name: str) -> set[int]:
    """Sites whose walking times start on the network ``name`` (if it exists)."""
    return set(
        session.scalars(
            text(
                "SELECT DISTINCT w.site_id FROM walk_site_snap w "
                "JOIN walk_network n ON n.id = w.network_id WHERE n.name = :name"
            ),
            {"name": name},
        )
    )


def _sites_within(session: Session, network_id: int) -> set[int]:
    """Sites inside the network's extent: they may now start on it."""
    return set(
        session.scalars(
            text(
                "SELECT s.id FROM site s JOIN walk_network n ON ST_Intersects(s.geom, n.extent) "
                "WHERE n.id = :id"
            ),
            {"id": network_id},
        )
    )


def network_name(path: Path) -> str:
    """``Witten_Stockum.pbf`` → ``witten-stockum``."""
    stem = path.name.split(".")[0]
    return stem.lower().replace("_", "-").replace(" ", "-")[:200]
