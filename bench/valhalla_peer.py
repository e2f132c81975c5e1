"""Valhalla as the benchmarks' peer: tiles built from the very edges the service loaded.

Each network is written as an OSM file from the ``walk_edge`` rows (junctions keep their
node ids, so the graph is the same; every way gets ``foot=yes`` and its ``highway`` value,
``steps`` where the service says steps), Valhalla builds its tiles from it in a temporary
directory, and an in-process ``valhalla.Actor`` answers. Benchmark-only: ``.[bench]``.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import osmium
import shapely
import valhalla
from sqlalchemy import Engine, text

# Node ids for the inner vertices of edges: clear of the database's node ids.
INNER_NODE_IDS = 10_000_000_000


def write_osm(engine: Engine, network_id: int, path: Path) -> int:
    """The network's edges as an OSM file (nodes sorted, then ways); returns the ways."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, source, target, coalesce(highway, 'footway'), steps, "
                "ST_AsBinary(ST_Transform(geom, 4326)) FROM walk_edge "
                "WHERE network_id = :n ORDER BY id"
            ),
            {"n": network_id},
        ).all()
    ids, sources, targets, highways, steps, wkb = zip(*rows, strict=True)
    lines = shapely.from_wkb(np.array([bytes(item) for item in wkb], dtype=object))
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    offsets = np.searchsorted(owner, np.arange(len(lines) + 1))
    node_ids = np.arange(len(coords), dtype=np.int64) + INNER_NODE_IDS
    node_ids[offsets[:-1]] = sources  # each edge's ends are its junctions
    node_ids[offsets[1:] - 1] = targets
    unique, first = np.unique(node_ids, return_index=True)
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lon, lat) in zip(unique.tolist(), coords[first].tolist(), strict=True):
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat)))
        for k, edge_id in enumerate(ids):
            tags = {"highway": "steps" if steps[k] else highways[k], "foot": "yes"}
            nodes = node_ids[offsets[k] : offsets[k + 1]].tolist()
            writer.add_way(osmium.osm.mutable.Way(id=edge_id, nodes=nodes, tags=tags))
    return len(ids)


def valhalla_peer(engine: Engine, network_id: int, directory: Path) -> tuple[Any, float]:
    """An in-process Valhalla on tiles of the network; (actor, seconds to build the tiles)."""
    directory.mkdir(parents=True, exist_ok=True)
    tiles = directory / "tiles"
    tiles.mkdir(exist_ok=True)
    osm = directory / "network.osm.pbf"
    write_osm(engine, network_id, osm)
    config = valhalla.get_config(tile_extract="", tile_dir=tiles)
    config["mjolnir"]["concurrency"] = 1  # the machine is shared
    config_path = directory / "valhalla.json"
    config_path.write_text(json.dumps(config))
    build = Path(valhalla.PYVALHALLA_DIR) / "bin" / "valhalla_build_tiles"
    start = time.perf_counter()
    subprocess.run(
        [str(build), "-c", str(config_path), str(osm)],
        cwd=directory,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    return valhalla.Actor(str(config_path)), seconds


def pedestrian(speed_kmh: float) -> dict[str, Any]:
    return {
        "costing": "pedestrian",
        "costing_options": {"pedestrian": {"walking_speed": speed_kmh}},
    }


def isochrone_request(lat: float, lon: float, minutes: list[int], speed_kmh: float) -> str:
    return orjson.dumps(
        {
            "locations": [{"lat": lat, "lon": lon}],
            "contours": [{"time": m} for m in minutes],
            "polygons": True,
            **pedestrian(speed_kmh),
        }
    ).decode()


def matrix_request(
    lat: float, lon: float, targets: list[tuple[float, float]], speed_kmh: float
) -> str:
    return orjson.dumps(
        {
            "sources": [{"lat": lat, "lon": lon}],
            "targets": [{"lat": la, "lon": lo} for la, lo in targets],
            **pedestrian(speed_kmh),
        }
    ).decode()


def matrix_seconds(answer: str) -> list[float | None]:
    """Seconds from the source to each target (None: Valhalla found no route)."""
    row = orjson.loads(answer)["sources_to_targets"][0]
    return [cell.get("time") for cell in row]
