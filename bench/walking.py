"""Walking engine benchmark: prints figures, not a test. Run it standalone:

    .venv/bin/python bench/walking.py [--sites 300] [--grid 225] [--requests 300]

It uses its own database (``mapservice_bench``, recreated) on the private cluster, imports
the Witten-Stockum extract and the Dortmund network around Innenstadt-Nord (as the default
data does, with the open data's sites; requests start in the Nordstadt) and builds a
synthetic city grid (225 x 225 nodes, 100,800 edges) directly in the database, then
measures:

* reach-query latency p50/p95 and requests per second through the WSGI app: the app called
  the way a WSGI server calls it, with the request's environ built beforehand, so the
  figure is the server's time from the call to the last byte of the answer;
* the same over HTTP: the service under waitress in a process of its own, one keep-alive
  client on the loopback (what a client on the same machine waits, HTTP parsing included);
* isochrone time (5/10/15 minutes) through the WSGI app and over HTTP, and import time
  (the precomputation's time is printed by ``bench/precompute.py``);
* the peer: Valhalla (``pyvalhalla-weekly``, the routing engine behind many isochrone
  services), in this process, on tiles built from the very edges the service loaded
  (written as an OSM file, every way open to walkers), with the same walking speed:
  its pedestrian isochrone (same minutes, ``polygons: true``) against ours, taking turns
  in blocks on the same points, and its ``sources_to_targets`` matrix from the request
  point to the sites of the offers our ``/api/reachable`` answer lists, against that whole
  request; the walking minutes both give for the same pairs are compared. Beside the
  isochrone: ours without the web layer (the engine to a JSON string, as Valhalla's call
  is), the vertices of both answers, and a what-if on 30 m cells
  (``WALK_ISOCHRONE_CELL_M=30``, the coarsest the setting allows; the default is 10 m);
* peak memory (VmHWM) of the service process (waitress) after it loaded the Dortmund
  network and answered isochrones on it;
* baselines in the same run: a per-request pgRouting ``pgr_drivingDistance`` (the bare
  query, timed in turn with the reach requests so both see the same machine load), a
  per-request networkx search, and a per-request scipy search (the engine without
  precomputation).

Targets: reach p50 <= 5 ms on Witten and >= 20x faster than per-request pgRouting;
isochrone <= 50 ms (issue 3; the same on the Dortmund network, issue 9); issue 13: our
isochrone p50 <= Valhalla's in-process p50 on Witten and on the Dortmund network, the whole
reach request <= 0.5x Valhalla's matrix time for the same question, and <= 1 GB peak memory
per worker with the Dortmund network loaded. The whole reach request (parsing, snap +
lookup, offers, JSON) is compared with the pgRouting query alone, which favours the
baseline.

Valhalla is a benchmark-only dependency (``pip install -e .[bench]``, ``./dev bench``).
"""

from __future__ import annotations

import argparse
import atexit
import gzip
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import orjson
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import build_grid_city
from valhalla_peer import isochrone_request, matrix_request, matrix_seconds, valhalla_peer

from mapservice import create_app
from mapservice.config import Defaults
from mapservice.db import make_engine, migrate, read_only
from mapservice.importers.default_data import network_area
from mapservice.importers.default_network import load_default_network
from mapservice.importers.opendata import import_opendata
from mapservice.pgcluster import local_cluster
from mapservice.walking.graph import get_graph, network_versions
from mapservice.walking.isochrone import isochrones
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.reach import site_times
from mapservice.walking.store import import_network

# Where the Dortmund requests start: the Nordstadt (Innenstadt-Nord), west, south, east, north.
NORDSTADT_BOX = (7.445, 51.515, 7.505, 51.535)
ROUNDS = 5  # reach requests and the pgRouting baseline take turns this many times
# The what-if: isochrones traced on cells of the whole buffer radius, the coarsest
# WALK_ISOCHRONE_CELL_M allows (the default is 10 m).
COARSE_CELL_M = 30.0


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def wsgi_get(app: Flask, environ: dict[str, Any]) -> tuple[float, int, bytes]:
    """Call the app as a WSGI server does; (milliseconds, status, body)."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
        statuses.append(status)

    start = time.perf_counter()
    answer = app(dict(environ), start_response)
    try:
        body = b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, int(statuses[0].split()[0]), body


# What a phone's browser sends to the service over HTTPS (Chrome and Firefox on Android):
# answers are compressed as they would be for it (zstd). Over plain HTTP browsers offer
# gzip and deflate only; the isochrone's time with gzip is printed too.
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept": "application/json"}
PLAIN_HTTP_HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept": "application/json"}


def vertex_count(answer: str | bytes) -> float:
    """The vertices of all polygons of an isochrone answer (GeoJSON)."""
    total = 0
    for feature in orjson.loads(answer)["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        total += sum(len(ring) for polygon in polygons for ring in polygon)
    return float(total)


def reach_path(lat: float, lon: float) -> str:
    return f"/api/reachable?lat={lat}&lon={lon}&minutes=15"


@contextmanager
def waitress_server(database_url: str) -> Iterator[tuple[int, int]]:
    """The service under waitress (4 threads) in a process of its own; yields its port and
    process id."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "MAPSERVICE_DATABASE_URL": database_url,
        "MAPSERVICE_SECRET_KEY": "bench",
        # One client sends all the benchmark's requests: no rate limit may answer for it.
        "MAPSERVICE_RATE_LIMIT_ISOCHRONE": "100000 per minute",
    }
    command = ["-m", "mapservice.console", "serve", "--port", str(port), "--threads", "4"]
    server = subprocess.Popen(
        [sys.executable, *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300  # a busy shared machine starts it slowly
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("waitress did not start") from None
                time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def http_latencies(port: int, paths: list[str]) -> tuple[list[float], float, int]:
    """Milliseconds per GET on one keep-alive connection, requests per second, and how
    many answers were not 200 (a 503 when the overloaded machine timed a statement out)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in paths[:20]:  # warm up: connection pools, graph cache, prepared statements
        conn.request("GET", path)
        conn.getresponse().read()
    latencies = []
    failed = 0
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=BROWSER_HEADERS)
        response = conn.getresponse()
        response.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        failed += response.status != 200
    total = time.perf_counter() - start
    conn.close()
    return latencies, len(paths) / total, failed


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc")


def random_points(
    session: Session,
    graph,
    count: int,
    rng: random.Random,
    box: tuple[float, float, float, float] | None = None,
) -> list:
    """(lat, lon, start node) of points on random usable edges of a network (in ``box``,
    west, south, east, north, if given)."""
    usable = graph.edge_ids[graph.variant(False).usable_edge]
    if box is not None:
        inside = session.scalars(
            text(
                "SELECT id FROM walk_edge WHERE network_id = :n AND ST_Intersects(geom, "
                "ST_Transform(ST_MakeEnvelope(:w, :s, :e, :no, 4326), 25832))"
            ),
            {"n": graph.network_id, "w": box[0], "s": box[1], "e": box[2], "no": box[3]},
        ).all()
        usable = np.intersect1d(usable, np.array(inside, dtype=np.int64))
    picks = [int(e) for e in rng.sample(list(usable), min(count, len(usable)))]
    rows = session.execute(
        text(
            """
            SELECT ST_Y(p), ST_X(p), source FROM (
                SELECT ST_Transform(ST_LineInterpolatePoint(geom, :f), 4326) AS p, source
                FROM walk_edge WHERE id = ANY(:ids)) q
            """
        ),
        {"ids": picks, "f": rng.uniform(0.1, 0.9)},
    ).all()
    return [tuple(row) for row in rows]


def bench_network(
    label: str,
    engine,
    app,
    coarse_app: Flask,
    network_id: int,
    requests: int,
    rng: random.Random,
    peer: Any,
    box: tuple[float, float, float, float] | None = None,
) -> dict[str, float]:
    with Session(engine) as session:
        versions = network_versions(session)
        graph = get_graph(session, network_id, versions[network_id])
        points = random_points(session, graph, requests, rng, box)
    figures: dict[str, float] = {"edges": float(len(graph.edge_ids))}
    environs = [
        EnvironBuilder(
            path="/api/reachable", query_string=reach_path(lat, lon).split("?")[1]
        ).get_environ()
        for lat, lon, _ in points
    ]
    limit_m = 15 * 60 * 5 / 3.6
    # Baseline 1: pgRouting per request (driving distance from the start node, then the
    # sites on reached nodes), as a service without precomputation would do it.
    edges_sql = (
        "SELECT id, source, target, length_m AS cost, length_m AS reverse_cost "
        f"FROM walk_edge WHERE network_id = {network_id}"
    )
    pgr_sql = text(
        "SELECT w.site_id, min(d.agg_cost) FROM pgr_drivingDistance("
        ":edges, :node, :limit, directed => false) d "
        "JOIN walk_edge e ON d.node IN (e.source, e.target) "
        "JOIN walk_site_snap w ON w.edge_id = e.id AND w.profile = 'adult' "
        "GROUP BY w.site_id"
    )
    # Warm up (graph cache, prepared statements, pgRouting's library).
    for environ in environs[:20]:
        wsgi_get(app, environ)
    latencies, pgr = [], []
    found = 0
    answers: list[list[dict[str, Any]]] = []
    # Blocks in turn (reach requests, then the baseline on the same points), so that both
    # see the same machine load; one pgRouting query between two requests would evict the
    # caches the next request runs in and measure that instead.
    block = max(1, len(points) // ROUNDS)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(pgr_sql, {"edges": edges_sql, "node": points[0][2], "limit": limit_m})
        for first in range(0, len(points), block):
            for environ in environs[first : first + block]:
                elapsed, status, body = wsgi_get(app, environ)
                latencies.append(elapsed)
                assert status == 200, body
                if body.startswith(b"\x1f\x8b"):  # small answers are sent uncompressed
                    body = gzip.decompress(body)
                answers.append(orjson.loads(body)["features"])
                found += len(answers[-1])
            for _lat, _lon, node in points[first : first + block : 3]:
                pgr.append(
                    timed(
                        lambda n=node: conn.execute(
                            pgr_sql, {"edges": edges_sql, "node": n, "limit": limit_m}
                        ).all()
                    )
                )
    figures["reach_p50_ms"] = percentile(latencies, 50)
    figures["reach_p95_ms"] = percentile(latencies, 95)
    figures["reach_rps"] = 1000 * len(latencies) / sum(latencies)  # one request at a time
    figures["offers_per_answer"] = found / len(points)
    figures["pgrouting_p50_ms"] = percentile(pgr, 50)
    figures["pgrouting_samples"] = float(len(pgr))
    iso_points = points[:31]
    iso_environs, gzip_environs, coarse_environs = (
        [
            EnvironBuilder(
                path="/api/isochrone", query_string=f"lat={lat}&lon={lon}", headers=headers
            ).get_environ()
            for lat, lon, _ in iso_points
        ]
        for headers in (BROWSER_HEADERS, PLAIN_HTTP_HEADERS, BROWSER_HEADERS)
    )
    with waitress_server(engine.url.render_as_string(hide_password=False)) as (port, pid):
        over_http, http_rps, failed = http_latencies(
            port, [reach_path(lat, lon) for lat, lon, _ in points]
        )
        iso_http, _, iso_failed = http_latencies(
            port, [f"/api/isochrone?lat={lat}&lon={lon}" for lat, lon, _ in iso_points] * 2
        )
        figures["service_peak_rss_mb"] = peak_rss_mb(pid)
    figures["http_p50_ms"] = percentile(over_http, 50)
    figures["http_p95_ms"] = percentile(over_http, 95)
    figures["http_rps"] = http_rps
    figures["isochrone_http_p50_ms"] = percentile(iso_http, 50)
    figures["http_not_200"] = float(failed + iso_failed)

    # The first isochrone after a graph is loaded samples its edges (cached from then on).
    def isochrone_ms(environ: dict[str, Any], on: Flask = app) -> float:
        elapsed, status, body = wsgi_get(on, environ)
        assert status == 200, (status, body[:200])
        return elapsed

    walk_settings = WalkSettings()
    coarse_settings = WalkSettings(isochrone_cell_m=COARSE_CELL_M)
    adult = walk_settings.profile("adult")
    speed = adult.speed_kmh
    valhalla_iso = [isochrone_request(lat, lon, [5, 10, 15], speed) for lat, lon, _ in iso_points]
    figures["isochrone_first_ms"] = isochrone_ms(iso_environs[0])
    isochrone_ms(coarse_environs[0], coarse_app)  # samples the edges a raster cell apart
    peer.isochrone(valhalla_iso[0])

    # The engine alone, at the level of Valhalla's library call (a JSON string out): the
    # isochrone on a read-only session and written with orjson, without Flask's request,
    # the rate limit, the headers and the compression.
    def engine_answer(lat: float, lon: float, settings: WalkSettings) -> bytes:
        with app.app_context():
            answer = read_only(
                lambda session: isochrones(session, lon, lat, [5.0, 10.0, 15.0], adult, settings)
            )
        return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)

    iso, peer_iso, iso_gzip, iso_engine, iso_coarse = [], [], [], [], []
    ours_vertices, peer_vertices = [], []
    for first in range(1, len(iso_environs), 5):  # in turn, in blocks of five
        iso += [isochrone_ms(environ) for environ in iso_environs[first : first + 5]]
        for query in valhalla_iso[first : first + 5]:
            start = time.perf_counter()
            answer = peer.isochrone(query)
            peer_iso.append((time.perf_counter() - start) * 1000)
            peer_vertices.append(vertex_count(answer))
        iso_gzip += [isochrone_ms(environ) for environ in gzip_environs[first : first + 5]]
        iso_coarse += [
            isochrone_ms(environ, coarse_app) for environ in coarse_environs[first : first + 5]
        ]
        for lat, lon, _ in iso_points[first : first + 5]:
            start = time.perf_counter()
            answer = engine_answer(lat, lon, walk_settings)
            iso_engine.append((time.perf_counter() - start) * 1000)
            ours_vertices.append(vertex_count(answer))
    figures["isochrone_p50_ms"] = percentile(iso, 50)
    figures["isochrone_engine_p50_ms"] = percentile(iso_engine, 50)
    figures["isochrone_vertices_p50"] = percentile(ours_vertices, 50)
    figures["valhalla_isochrone_vertices_p50"] = percentile(peer_vertices, 50)
    figures["isochrone_coarse_p50_ms"] = percentile(iso_coarse, 50)
    figures["isochrone_coarse_vertices_p50"] = percentile(
        [vertex_count(engine_answer(lat, lon, coarse_settings)) for lat, lon, _ in iso_points], 50
    )
    figures["isochrone_gzip_p50_ms"] = percentile(iso_gzip, 50)
    figures["isochrone_p95_ms"] = percentile(iso, 95)
    figures["valhalla_isochrone_p50_ms"] = percentile(peer_iso, 50)
    figures["valhalla_isochrone_p95_ms"] = percentile(peer_iso, 95)

    # The same question both ways: from the request point to the sites of the fitting
    # offers our answer lists (routed ones), our whole request against Valhalla's matrix.
    questions = []
    for environ, (lat, lon, _), features in zip(environs, points, answers, strict=True):
        sites: dict[int, tuple[tuple[float, float], float]] = {}
        for feature in features:
            props = feature["properties"]
            if not props["estimated"]:
                lon_s, lat_s = feature["geometry"]["coordinates"]
                sites[props["site_id"]] = ((lat_s, lon_s), props["walking_seconds"])
        if sites:
            targets = [where for where, _ in sites.values()]
            ours = [seconds for _, seconds in sites.values()]
            questions.append((environ, matrix_request(lat, lon, targets, speed), ours))
    questions = questions[:100]
    reach_again, peer_matrix, differences = [], [], []
    unrouted = 0
    for first in range(0, len(questions), 10):
        block = questions[first : first + 10]
        reach_again += [wsgi_get(app, environ)[0] for environ, _, _ in block]
        for _, query, ours in block:
            start = time.perf_counter()
            answer = peer.matrix(query)
            peer_matrix.append((time.perf_counter() - start) * 1000)
            for theirs, mine in zip(matrix_seconds(answer), ours, strict=True):
                if theirs is None:
                    unrouted += 1
                else:
                    differences.append(abs(theirs - mine) / 60)
    figures["matrix_questions"] = float(len(questions))
    figures["matrix_targets_per_question"] = (len(differences) + unrouted) / max(len(questions), 1)
    figures["reach_same_questions_p50_ms"] = percentile(reach_again, 50)
    figures["valhalla_matrix_p50_ms"] = percentile(peer_matrix, 50)
    figures["minutes_diff_median"] = percentile(differences, 50)
    figures["minutes_diff_p90"] = percentile(differences, 90)
    figures["valhalla_unrouted_pairs"] = float(unrouted)
    # The routing part alone (snap + indexed lookup, one SQL statement), comparable with
    # the pgRouting query, which also ends in site ids with costs.
    with Session(engine) as session:
        lookup = [
            timed(lambda la=lat, lo=lon: site_times(session, lo, la, 15, adult, walk_settings))
            for lat, lon, _ in points
        ]
    figures["lookup_p50_ms"] = percentile(lookup, 50)
    # Baseline 2: networkx per request on a graph already in memory.
    g = nx.Graph()
    variant = graph.variant(True)
    for u, v, w in zip(variant.rows, variant.cols, variant.weights, strict=True):
        g.add_edge(int(u), int(v), weight=float(w))
    nxs = [
        timed(
            lambda n=node: nx.single_source_dijkstra_path_length(
                g, int(graph.node_index([n])[0]), cutoff=limit_m, weight="weight"
            )
        )
        for _lat, _lon, node in points[:30]
    ]
    figures["networkx_p50_ms"] = percentile(nxs, 50)
    # Baseline 3: the engine's own graph search per request (scipy), no precomputation.
    sps = [
        timed(lambda n=node: graph.distances_from([int(graph.node_index([n])[0])], True, limit_m))
        for _lat, _lon, node in points[:30]
    ]
    figures["scipy_search_p50_ms"] = percentile(sps, 50)
    print(f"  measured {label}", file=sys.stderr)
    return figures


def detour_factor(engine, network_id: int, rng: random.Random) -> float:
    """Median network / straight-line distance for node pairs 300-1500 m apart."""
    with Session(engine) as session:
        graph = get_graph(session, network_id, network_versions(session)[network_id])
        xy = dict(
            session.execute(
                text(
                    "SELECT id, ARRAY[ST_X(geom), ST_Y(geom)] FROM walk_node WHERE network_id = :i"
                ),
                {"i": network_id},
            ).all()
        )
    usable = np.flatnonzero(graph.variant(True).usable_node)
    sources = [int(i) for i in rng.sample(list(usable), 60)]
    dist = graph.distances_from(sources, True, np.inf)
    ratios = []
    for row, a in enumerate(sources):
        ax, ay = xy[int(graph.node_ids[a])]
        for b in rng.sample(list(usable), 60):
            bx, by = xy[int(graph.node_ids[b])]
            straight = float(np.hypot(ax - bx, ay - by))
            if 300 <= straight <= 1500 and np.isfinite(dist[row, b]):
                ratios.append(dist[row, b] / straight)
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", type=int, default=225, help="junctions per side")
    parser.add_argument("--sites", type=int, default=300, help="sites on the grid")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--database", default="mapservice_bench", help="database on the private cluster (recreated)"
    )
    parser.add_argument(
        "--data-dir", default=os.environ.get("MAPSERVICE_DATA_DIR", Defaults.DATA_DIR)
    )
    args = parser.parse_args()
    rng = random.Random(3)
    cluster = local_cluster()
    cluster.start()
    url = cluster.ensure_database(args.database, recreate=True)
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:  # the baseline router
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
    settings = WalkSettings()
    out: dict[str, dict[str, float]] = {"Witten-Stockum": {}, "Dortmund": {}, "grid": {}}

    with Session(engine) as session, session.begin():
        # The open data of Innenstadt-Nord: the sites the Dortmund requests find, and the
        # sub-districts that say where the network is loaded (as the default data does).
        import_opendata(session, Path(args.data_dir))
        area = network_area(session)
    for name, extract, within in (
        ("Witten-Stockum", "Witten_Stockum.pbf", None),
        ("Dortmund", "dortmund-walk-2021.osm.pbf", area),
    ):
        with Session(engine) as session, session.begin():
            start = time.perf_counter()
            summary = import_network(
                session,
                Path(args.data_dir) / "osm" / extract,
                "import-only",
                settings,
                within=within,
                refresh=False,
            )
            out[name]["import_s"] = time.perf_counter() - start
            session.execute(text("DELETE FROM walk_network WHERE name = 'import-only'"))
        print(f"  {name}: {summary}", file=sys.stderr)
    with Session(engine) as session, session.begin():
        # What the default data load does: both networks, then a full refresh of every site
        # (its time is bench/precompute.py's business).
        load_default_network(session, args.data_dir, settings, dortmund_area=area)
        ids = dict(session.execute(text("SELECT name, id FROM walk_network")).tuples().all())
        witten_id, dortmund_id = ids["witten-stockum"], ids["dortmund"]

    with Session(engine) as session, session.begin():
        start = time.perf_counter()
        grid_id = build_grid_city(session, args.grid, args.sites, rng)
        out["grid"]["import_s"] = time.perf_counter() - start
    with Session(engine) as session, session.begin():
        refresh = refresh_reach(session, settings)
    print(f"  grid: {refresh}", file=sys.stderr)

    tiles = Path(tempfile.mkdtemp(prefix="mapservice-valhalla-"))
    # The tiles go whatever happens (a few hundred MB for the three networks).
    atexit.register(shutil.rmtree, tiles, ignore_errors=True)
    actors = {}
    for name, network_id in (
        ("Witten-Stockum", witten_id),
        ("Dortmund", dortmund_id),
        ("grid", grid_id),
    ):
        actors[name], out[name]["valhalla_build_s"] = valhalla_peer(
            engine, network_id, tiles / name.lower()
        )
        print(
            f"  Valhalla tiles for {name}: {out[name]['valhalla_build_s']:.1f} s", file=sys.stderr
        )

    # One client sends all the benchmark's requests: no rate limit may answer for the engine.
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "TESTING": False,
        "RATE_LIMIT_ISOCHRONE": "100000 per minute",
    }
    app = create_app(config)
    # What if the isochrone were traced on coarser cells (not the default).
    coarse_app = create_app(config | {"WALK_ISOCHRONE_CELL_M": COARSE_CELL_M})
    apps = (app, coarse_app)
    peer = actors["Witten-Stockum"]
    out["Witten-Stockum"] |= bench_network(
        "Witten", engine, *apps, witten_id, args.requests, rng, peer
    )
    out["Dortmund"] |= bench_network(
        "Dortmund",
        engine,
        *apps,
        dortmund_id,
        args.requests,
        rng,
        actors["Dortmund"],
        NORDSTADT_BOX,
    )
    out["grid"] |= bench_network("grid", engine, *apps, grid_id, args.requests, rng, actors["grid"])
    del actors, peer
    shutil.rmtree(tiles, ignore_errors=True)
    factor = detour_factor(engine, witten_id, rng)
    factor_dortmund = detour_factor(engine, dortmund_id, rng)

    rows = [
        ("edges", "edges", "{:.0f}"),
        ("import (s)", "import_s", "{:.2f}"),
        ("reach p50 through the WSGI app (ms)", "reach_p50_ms", "{:.2f}"),
        ("reach p95 through the WSGI app (ms)", "reach_p95_ms", "{:.2f}"),
        ("reach requests/s (1 thread)", "reach_rps", "{:.0f}"),
        ("reach p50 over HTTP, waitress (ms)", "http_p50_ms", "{:.2f}"),
        ("reach p95 over HTTP, waitress (ms)", "http_p95_ms", "{:.2f}"),
        ("reach requests/s over HTTP (1 client)", "http_rps", "{:.0f}"),
        ("offers per answer", "offers_per_answer", "{:.1f}"),
        ("  of which snap + lookup SQL p50 (ms)", "lookup_p50_ms", "{:.2f}"),
        ("isochrone 5,10,15 p50 through the WSGI app (ms)", "isochrone_p50_ms", "{:.1f}"),
        ("isochrone 5,10,15 p95 through the WSGI app (ms)", "isochrone_p95_ms", "{:.1f}"),
        ("  the same p50, gzip as over plain HTTP (ms)", "isochrone_gzip_p50_ms", "{:.1f}"),
        ("  Valhalla isochrone p50, in-process (ms)", "valhalla_isochrone_p50_ms", "{:.1f}"),
        ("  ours without the web layer, p50 (ms)", "isochrone_engine_p50_ms", "{:.1f}"),
        ("  vertices per answer, ours p50", "isochrone_vertices_p50", "{:.0f}"),
        ("  vertices per answer, Valhalla p50", "valhalla_isochrone_vertices_p50", "{:.0f}"),
        ("  what-if: ours on 30 m cells, p50 (ms)", "isochrone_coarse_p50_ms", "{:.1f}"),
        ("  what-if: its vertices per answer, p50", "isochrone_coarse_vertices_p50", "{:.0f}"),
        ("  Valhalla isochrone p95, in-process (ms)", "valhalla_isochrone_p95_ms", "{:.1f}"),
        ("isochrone p50 over HTTP, waitress (ms)", "isochrone_http_p50_ms", "{:.1f}"),
        ("first isochrone after loading the graph (ms)", "isochrone_first_ms", "{:.0f}"),
        ("reach p50, the matrix questions (ms)", "reach_same_questions_p50_ms", "{:.2f}"),
        ("  Valhalla matrix p50, in-process (ms)", "valhalla_matrix_p50_ms", "{:.2f}"),
        ("  questions", "matrix_questions", "{:.0f}"),
        ("  sites per question", "matrix_targets_per_question", "{:.1f}"),
        ("walking minutes, |ours - Valhalla| median", "minutes_diff_median", "{:.2f}"),
        ("walking minutes, |ours - Valhalla| p90", "minutes_diff_p90", "{:.2f}"),
        ("  pairs Valhalla found no route for", "valhalla_unrouted_pairs", "{:.0f}"),
        ("Valhalla tiles build (s)", "valhalla_build_s", "{:.1f}"),
        ("service peak RSS, waitress process (MB)", "service_peak_rss_mb", "{:.0f}"),
        ("  HTTP answers other than 200 (overload)", "http_not_200", "{:.0f}"),
        ("baseline pgr_drivingDistance p50 (ms)", "pgrouting_p50_ms", "{:.1f}"),
        ("  (pgRouting samples)", "pgrouting_samples", "{:.0f}"),
        ("baseline networkx search p50 (ms)", "networkx_p50_ms", "{:.2f}"),
        ("scipy search per request p50 (ms)", "scipy_search_p50_ms", "{:.2f}"),
    ]
    print(f"\n{'figure':<46}" + "".join(f"{name:>16}" for name in out))
    for label, key, fmt in rows:
        cells = [fmt.format(out[name][key]) if key in out[name] else "-" for name in out]
        print(f"{label:<46}" + "".join(f"{cell:>16}" for cell in cells))
    for name in out:
        f = out[name]
        vs_pgr = f["pgrouting_p50_ms"] / f["reach_p50_ms"]
        vs_pgr_lookup = f["pgrouting_p50_ms"] / f["lookup_p50_ms"]
        vs_nx = f["networkx_p50_ms"] / f["lookup_p50_ms"]
        print(
            f"{name}: whole reach request {vs_pgr:.1f}x faster than the pgRouting query alone; "
            f"routing part (snap + lookup) {vs_pgr_lookup:.0f}x faster than per-request "
            f"pgRouting (target >= 20x), {vs_nx:.1f}x than a per-request networkx search"
        )
    print(f"median detour factor on Witten-Stockum (300-1500 m pairs): {factor:.2f}")
    print(f"median detour factor on the Dortmund network (300-1500 m pairs): {factor_dortmund:.2f}")
    for name in out:
        f = out[name]
        print(
            f"{name}: isochrone {f['valhalla_isochrone_p50_ms'] / f['isochrone_p50_ms']:.2f}x "
            f"Valhalla's speed (p50, in-process); reach request "
            f"{f['reach_same_questions_p50_ms'] / f['valhalla_matrix_p50_ms']:.2f}x "
            "Valhalla's matrix time (target <= 0.5x); what-if, isochrone on 30 m cells "
            f"{f['valhalla_isochrone_p50_ms'] / f['isochrone_coarse_p50_ms']:.2f}x"
        )
    w, d, g = out["Witten-Stockum"], out["Dortmund"], out["grid"]
    checks = [
        ("reach p50 <= 5 ms (Witten)", w["reach_p50_ms"] <= 5),
        (
            "routing part >= 20x faster than pgRouting (Witten)",
            w["pgrouting_p50_ms"] >= 20 * w["lookup_p50_ms"],
        ),
        (
            "whole request >= 20x faster than pgRouting (Witten)",
            w["pgrouting_p50_ms"] >= 20 * w["reach_p50_ms"],
        ),
        ("isochrone <= 50 ms (Witten p50)", w["isochrone_p50_ms"] <= 50),
        ("isochrone <= 50 ms (grid p50)", g["isochrone_p50_ms"] <= 50),
        ("reach p50 <= 5 ms (Dortmund, Nordstadt)", d["reach_p50_ms"] <= 5),
        ("isochrone <= 50 ms (Dortmund, Nordstadt p50)", d["isochrone_p50_ms"] <= 50),
        (
            "isochrone p50 <= Valhalla's in-process p50 (Witten)",
            w["isochrone_p50_ms"] <= w["valhalla_isochrone_p50_ms"],
        ),
        (
            "isochrone p50 <= Valhalla's in-process p50 (Dortmund)",
            d["isochrone_p50_ms"] <= d["valhalla_isochrone_p50_ms"],
        ),
        *(
            (
                f"reach request <= 0.5x Valhalla's matrix time ({name})",
                out[name]["reach_same_questions_p50_ms"]
                <= 0.5 * out[name]["valhalla_matrix_p50_ms"],
            )
            for name in out
        ),
        (
            "service peak RSS with the Dortmund network loaded <= 1 GB",
            d["service_peak_rss_mb"] <= 1024,
        ),
    ]
    for label, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {label}")
    engine.dispose()


if __name__ == "__main__":
    main()
