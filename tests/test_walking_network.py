"""Importing the walking network from the real Witten-Stockum extract."""

from __future__ import annotations

from pathlib import Path

import osmium
import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from walking_support import Witten, witten_fixture  # noqa: F401

from mapservice.models import WalkEdge, WalkNetwork
from mapservice.validation import BBox
from mapservice.walking.osm import read_network, walkable
from mapservice.walking.store import import_network

EXTRACT = Path("osm") / "Witten_Stockum.pbf"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "steps"}, True),
        ({"highway": "footway", "footway": "crossing"}, True),
        ({"highway": "living_street"}, True),
        ({"highway": "residential"}, True),
        ({"highway": "service"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "access": "no"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "path", "foot": "no"}, False),
        ({"highway": "secondary", "sidewalk": "both"}, True),
        ({"highway": "secondary", "sidewalk": "separate"}, False),
        ({"highway": "secondary", "sidewalk": "no"}, False),
        ({"highway": "tertiary", "sidewalk:left": "separate", "sidewalk:right": "yes"}, True),
        ({"highway": "primary", "foot": "use_sidepath"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "cycleway", "foot": "designated"}, True),
        ({"highway": "construction"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walkable_ways(tags: dict[str, str], expected: bool) -> None:
    assert walkable(tags) is expected


def test_witten_network_is_stored_split_and_measured(db_session: Session, witten: Witten) -> None:
    params = {"id": witten.network_id}
    edges, nodes, km = db_session.execute(
        text(
            "SELECT count(*), (SELECT count(*) FROM walk_node WHERE network_id = :id), "
            "sum(length_m) / 1000 FROM walk_edge WHERE network_id = :id"
        ),
        params,
    ).one()
    assert edges > 1000 and nodes > 1000
    assert 30 < km < 50  # the extract's walkable ways: about 40 km
    # Lengths are metres in EPSG:25832 and match the stored geometry.
    worst = db_session.execute(
        text(
            "SELECT max(abs(length_m - ST_Length(geom))), min(ST_SRID(geom)), max(ST_SRID(geom)) "
            "FROM walk_edge WHERE network_id = :id"
        ),
        params,
    ).one()
    assert worst[0] < 0.01 and worst[1] == worst[2] == 25832
    # Every edge runs between its two nodes.
    off = db_session.scalar(
        text(
            "SELECT count(*) FROM walk_edge e JOIN walk_node a ON a.id = e.source "
            "JOIN walk_node b ON b.id = e.target WHERE e.network_id = :id AND ("
            "ST_Distance(ST_StartPoint(e.geom), a.geom) > 0.01 OR "
            "ST_Distance(ST_EndPoint(e.geom), b.geom) > 0.01)"
        ),
        params,
    )
    assert off == 0
    # Split at junctions: no node lies inside another edge.
    inner = db_session.scalar(
        text(
            "SELECT count(*) FROM walk_node n JOIN walk_edge e "
            "ON e.network_id = n.network_id AND ST_DWithin(e.geom, n.geom, 0.001) "
            "AND n.id NOT IN (e.source, e.target) WHERE n.network_id = :id"
        ),
        params,
    )
    assert inner == 0
    # Steps and surface are kept; nothing forbidden got in.
    kinds = dict(
        db_session.execute(
            text("SELECT highway, count(*) FROM walk_edge WHERE network_id = :id GROUP BY 1"),
            params,
        ).all()
    )
    assert kinds.get("steps", 0) > 0 and "motorway" not in kinds
    assert db_session.scalar(
        text("SELECT bool_and(steps = (highway = 'steps')) FROM walk_edge WHERE network_id = :id"),
        params,
    )
    assert db_session.scalar(
        text("SELECT count(*) FROM walk_edge WHERE network_id = :id AND surface = 'asphalt'"),
        params,
    )
    # Spatially indexed.
    indexes = set(
        db_session.scalars(
            text("SELECT indexname FROM pg_indexes WHERE tablename IN ('walk_edge', 'walk_node')")
        )
    )
    assert {"idx_walk_edge_geom", "idx_walk_node_geom"} <= indexes


def test_private_and_forbidden_ways_stay_out(data_dir: Path) -> None:
    raw = read_network(data_dir / EXTRACT)
    imported = {segment.osm_way_id for segment in raw.segments}
    forbidden, footways = set(), set()
    for way in osmium.FileProcessor(str(data_dir / EXTRACT), osmium.osm.WAY):
        tags = dict(way.tags)
        if "highway" not in tags:
            continue
        if tags.get("foot") == "no" or (
            tags.get("access") == "private" and tags.get("foot") not in ("yes", "designated")
        ):
            forbidden.add(way.id)
        if tags["highway"] == "footway" and way.id not in forbidden and tags.get("access") != "no":
            footways.add(way.id)
    assert forbidden and footways
    assert not imported & forbidden
    assert footways <= imported


def test_reimport_replaces_the_network_in_one_transaction(
    db_session: Session, witten: Witten, data_dir: Path, client
) -> None:
    before = set(
        db_session.scalars(select(WalkEdge.id).where(WalkEdge.network_id == witten.network_id))
    )
    summary = import_network(db_session, data_dir / EXTRACT, "witten-stockum")
    assert summary.network_id == witten.network_id
    after = set(
        db_session.scalars(select(WalkEdge.id).where(WalkEdge.network_id == witten.network_id))
    )
    assert len(after) == len(before) and not after & before
    # No site stays snapped onto an edge that is gone.
    orphans = db_session.scalar(
        text(
            "SELECT count(*) FROM walk_site_snap w WHERE w.edge_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM walk_edge e WHERE e.id = w.edge_id)"
        )
    )
    assert orphans == 0
    db_session.flush()
    answer = client.get("/api/reachable?lat=51.4700&lon=7.3670&minutes=15").get_json()
    assert answer["features"] and not answer["estimated"]


def test_a_failed_import_changes_nothing(
    db_session: Session, witten: Witten, tmp_path: Path
) -> None:
    count = db_session.scalar(
        text("SELECT count(*) FROM walk_edge WHERE network_id = :id"), {"id": witten.network_id}
    )
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"this is not an OSM file")
    with pytest.raises(RuntimeError), db_session.begin_nested():
        import_network(db_session, broken, "witten-stockum")
    assert count == db_session.scalar(
        text("SELECT count(*) FROM walk_edge WHERE network_id = :id"), {"id": witten.network_id}
    )


def test_import_network_command(app: Flask, witten: Witten, data_dir: Path, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-network", str(data_dir / EXTRACT), "--name", "cli-copy"])
    assert result.exit_code == 0, result.output
    assert "cli-copy" in result.output and "edges" in result.output
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"garbage")
    result = runner.invoke(args=["import-network", str(broken), "--name", "cli-broken"])
    assert result.exit_code != 0
    assert "nothing was changed" in result.output
    factory = app.extensions["mapservice.sessionmaker"]
    with factory() as session:
        names = set(session.scalars(select(WalkNetwork.name)))
    assert "cli-copy" in names and "cli-broken" not in names


# The western half of Witten-Stockum (the extract spans lon 7.3435-7.3814).
WEST_HALF = BBox(7.3435, 51.460, 7.362, 51.489)


def test_a_bounding_box_keeps_the_ways_that_reach_into_it_whole(data_dir: Path) -> None:
    whole = read_network(data_dir / EXTRACT)
    west = read_network(data_dir / EXTRACT, within=WEST_HALF)
    kept = {segment.osm_way_id for segment in west.segments}
    assert 0 < len(kept) < len({segment.osm_way_id for segment in whole.segments})
    lonlat = osmium.FileProcessor(str(data_dir / EXTRACT), osmium.osm.NODE | osmium.osm.WAY)
    nodes_of: dict[int, list[tuple[float, float]]] = {}
    for way in lonlat.with_locations():
        if isinstance(way, osmium.osm.Way) and "highway" in dict(way.tags):
            nodes_of[way.id] = [(n.location.lon, n.location.lat) for n in way.nodes]
    for way_id in kept:
        assert any(WEST_HALF.contains(lon, lat) for lon, lat in nodes_of[way_id])
    # Every walkable way with a node in the box is there, and with all its pieces: a way
    # crossing the box's edge is not cut at it.
    reaching_in = {
        segment.osm_way_id
        for segment in whole.segments
        if any(WEST_HALF.contains(lon, lat) for lon, lat in nodes_of[segment.osm_way_id])
    }
    assert kept == reaching_in
    crossing = [
        way_id
        for way_id in kept
        if not all(WEST_HALF.contains(lon, lat) for lon, lat in nodes_of[way_id])
    ]
    assert crossing
    for way_id in crossing:
        pieces = [s for s in west.segments if s.osm_way_id == way_id]
        assert sum(len(s.coords) - 1 for s in pieces) == len(nodes_of[way_id]) - 1


def test_a_bounding_box_without_ways_is_refused(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="no walkable way inside the bounding box"):
        read_network(data_dir / EXTRACT, within=BBox(7.46, 51.51, 7.49, 51.53))


def test_import_network_command_with_a_bounding_box(
    app: Flask, witten: Witten, data_dir: Path
) -> None:
    runner = app.test_cli_runner()
    bad = runner.invoke(
        args=["import-network", str(data_dir / EXTRACT), "--name", "cli-bad", "--bbox", "7.3,51"]
    )
    assert bad.exit_code == 2
    assert "--bbox" in bad.output and "west,south,east,north" in bad.output
    box = f"{WEST_HALF.west},{WEST_HALF.south},{WEST_HALF.east},{WEST_HALF.north}"
    result = runner.invoke(
        args=["import-network", str(data_dir / EXTRACT), "--name", "cli-west", "--bbox", box]
    )
    assert result.exit_code == 0, result.output
    factory = app.extensions["mapservice.sessionmaker"]
    with factory() as session:
        edges = dict(
            session.execute(
                select(WalkNetwork.name, func.count(WalkEdge.id))
                .join(WalkEdge, WalkEdge.network_id == WalkNetwork.id)
                .group_by(WalkNetwork.name)
            ).all()
        )
    assert 0 < edges["cli-west"] < edges["witten-stockum"]
    assert "cli-bad" not in edges
