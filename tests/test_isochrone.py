"""Isochrone bands as a user sees them, on the real Witten-Stockum network.

The bands are a raster outline of the reached paths; these tests hold it to what the map
promises: valid RFC 7946 polygons, nested bands, every node reached within the time inside
its band and every node far from all reached paths outside, circles off the network.
Reach is computed independently here, with networkx on the stored edges.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import networkx as nx
import numpy as np
import orjson
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import shape
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from walking_support import Witten, networkx_graph, witten_fixture  # noqa: F401

from mapservice import create_app
from mapservice.walking.graph import sample_edges
from mapservice.walking.isochrone import _without_collinear, isochrones, to_wgs84
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.reach import TO_METRIC, TO_WGS84
from mapservice.walking.snap import snap_point

HOME = {"lat": 51.4700, "lon": 7.3670}  # a street in Witten-Stockum
OFF_NETWORK = {"lat": 51.4700, "lon": 7.4400}  # Hombruch: no network loaded there
MINUTES = [5, 10, 15]
SPEED_MPS = 5 / 3.6  # adult
BUFFER_M = 30.0  # WALK_ISOCHRONE_BUFFER_M
# How far the outline may lie beyond the buffer: the raster cells (10 m, or 30 m at the
# coarsest WALK_ISOCHRONE_CELL_M allows), paths snapped to their centres, and
# simplification.
SLACK_M = 20.0
# The raster's cell sizes the bands are held to: the default and the coarsest allowed.
CELL_SIZES = [10.0, 30.0]


def isochrone(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/isochrone", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def metric(geometry: Any) -> Any:
    return shapely.transform(
        geometry, lambda c: np.column_stack(TO_METRIC.transform(c[:, 0], c[:, 1]))
    )


def bands_of(answer: dict[str, Any]) -> dict[float, Any]:
    """Band polygons by minutes, in metres (EPSG:25832)."""
    return {f["properties"]["minutes"]: metric(shape(f["geometry"])) for f in answer["features"]}


@pytest.fixture(params=CELL_SIZES, ids=lambda cell_m: f"{cell_m:g}m-cells")
def cell_m(request: pytest.FixtureRequest, app: Flask) -> float:
    """The isochrone raster's cell size (``WALK_ISOCHRONE_CELL_M``), set before the
    app's first request reads its walking settings."""
    app.config["WALK_ISOCHRONE_CELL_M"] = request.param
    return float(request.param)


@pytest.fixture
def home_answer(client: FlaskClient, witten: Witten, cell_m: float) -> dict[str, Any]:
    return isochrone(client, **HOME, minutes=",".join(map(str, MINUTES)))


def test_bands_are_valid_rfc7946_polygons_largest_first(home_answer: dict[str, Any]) -> None:
    features = home_answer["features"]
    assert [f["properties"] for f in features] == [
        {"minutes": m, "estimated": False} for m in sorted(MINUTES, reverse=True)
    ]
    for feature in features:
        geometry = feature["geometry"]
        assert geometry["type"] in {"Polygon", "MultiPolygon"}
        area = shape(geometry)
        assert area.is_valid, shapely.is_valid_reason(area)
        assert not area.is_empty
        # Right-hand rule: outer rings counterclockwise, holes clockwise.
        for part in shapely.get_parts(area):
            assert part.exterior.is_ccw
            assert not any(hole.is_ccw for hole in part.interiors)
        coords = shapely.get_coordinates(area)
        assert np.array_equal(np.round(coords, 6), coords)


def test_bands_nest_and_hold_the_start(home_answer: dict[str, Any]) -> None:
    bands = bands_of(home_answer)
    home = metric(shapely.Point(HOME["lon"], HOME["lat"]))
    for minutes in MINUTES:
        assert bands[minutes].contains(home)
    for smaller, larger in itertools.pairwise(MINUTES):
        assert bands[smaller].area < bands[larger].area
        # Simplification may move either outline by a few metres, no more.
        assert bands[smaller].difference(bands[larger].buffer(6.0)).is_empty


def test_bands_cover_the_reached_network_and_stop_where_it_does(
    home_answer: dict[str, Any], db_session: Session, witten: Witten
) -> None:
    snap = snap_point(db_session, HOME["lon"], HOME["lat"], steps=True, max_snap_m=300)
    assert snap is not None
    graph = networkx_graph(db_session, witten.network_id, steps=True)
    from_source = nx.single_source_dijkstra_path_length(graph, snap.source)
    from_target = nx.single_source_dijkstra_path_length(graph, snap.target)

    def walked_m(node: int) -> float:
        return snap.distance_m + min(
            from_source.get(node, math.inf) + snap.to_source_m,
            from_target.get(node, math.inf) + snap.to_target_m,
        )

    nodes = dict(
        db_session.execute(
            text("SELECT id, ST_AsBinary(geom) FROM walk_node WHERE network_id = :id"),
            {"id": witten.network_id},
        )
        .tuples()
        .all()
    )
    edges = db_session.execute(
        text("SELECT id, source, target, ST_AsBinary(geom) FROM walk_edge WHERE network_id = :id"),
        {"id": witten.network_id},
    ).all()
    ids = np.array(list(nodes))
    points = shapely.from_wkb(np.array([bytes(wkb) for wkb in nodes.values()], dtype=object))
    walked = np.array([walked_m(int(node)) for node in ids])
    home = metric(shapely.Point(HOME["lon"], HOME["lat"]))
    off_path_but_near = 0
    for minutes, band in bands_of(home_answer).items():
        budget = minutes * 60 * SPEED_MPS
        reached = walked <= budget - 1.0
        assert reached.sum() > 20
        assert shapely.contains(band, points[reached]).all(), ids[reached][
            ~shapely.contains(band, points[reached])
        ]
        # Every path a walker can set foot on within the time: those with a reached end,
        # and the one the start lies on.
        touched = shapely.from_wkb(
            np.array(
                [
                    bytes(wkb)
                    for edge_id, source, target, wkb in edges
                    if edge_id == snap.edge_id or min(walked_m(source), walked_m(target)) <= budget
                ],
                dtype=object,
            )
        )
        far = shapely.distance(points, shapely.union_all(touched)) > BUFFER_M + SLACK_M
        assert shapely.disjoint(band, points[far]).all(), ids[far][
            ~shapely.disjoint(band, points[far])
        ]
        # Among them nodes within a straight walk, which a circle or hull would take in.
        off_path_but_near += int((far & (shapely.distance(points, home) < budget)).sum())
    assert off_path_but_near > 50


def test_off_the_network_the_bands_are_circles(client: FlaskClient, witten: Witten) -> None:
    answer = isochrone(client, **OFF_NETWORK, minutes="5,10")
    centre = metric(shapely.Point(OFF_NETWORK["lon"], OFF_NETWORK["lat"]))
    assert answer["estimated"] is True
    for feature in answer["features"]:
        assert feature["properties"]["estimated"] is True
        radius = feature["properties"]["minutes"] * 60 * SPEED_MPS / 1.3
        circle = metric(shape(feature["geometry"]))
        assert circle.is_valid and len(circle.exterior.coords) == 65
        assert shapely.distance(centre, shapely.points(circle.exterior.coords)) == (
            pytest.approx(radius, abs=0.2)
        )


def test_bands_are_valid_and_nested_from_every_start(
    client: FlaskClient, db_session: Session, witten: Witten, cell_m: float
) -> None:
    # The outlines are used as traced (no repair step): from starts all over the town,
    # every band must still be a valid, rounded polygon holding the smaller ones.
    starts = db_session.execute(
        text(
            "SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_Transform(ST_LineInterpolatePoint(geom, "
            "0.5), 4326) AS p, row_number() OVER (ORDER BY id) AS k FROM walk_edge "
            "WHERE network_id = :id AND usable_steps) q WHERE k % 60 = 0"
        ),
        {"id": witten.network_id},
    ).all()
    assert len(starts) >= 15
    for lat, lon in starts:
        answer = isochrone(client, lat=lat, lon=lon, minutes="3,10,20")
        assert answer["estimated"] is False
        bands = [shape(f["geometry"]) for f in answer["features"]]
        for band in bands:
            assert band.is_valid, (lat, lon, shapely.is_valid_reason(band))
            for part in shapely.get_parts(band):
                assert part.exterior.is_ccw and not any(hole.is_ccw for hole in part.interiors)
            coords = shapely.get_coordinates(band)
            assert np.array_equal(np.round(coords, 6), coords)
        assert bands[-1].contains(shapely.Point(lon, lat))
        for smaller, larger in itertools.pairwise(reversed(bands)):
            assert smaller.difference(larger.buffer(6e-5)).is_empty, (lat, lon)


def test_coarser_cells_give_a_smaller_answer(db_session: Session, witten: Witten) -> None:
    # What an operator would set WALK_ISOCHRONE_CELL_M to 30 for: a lighter answer for
    # phones on slow connections, about the same area (the tests above hold both outlines).
    outlines = {}
    for cell_m in CELL_SIZES:
        settings = WalkSettings(isochrone_cell_m=cell_m)
        answer = isochrones(
            db_session,
            HOME["lon"],
            HOME["lat"],
            [5.0, 10.0, 15.0],
            settings.profile("adult"),
            settings,
        )
        geojson = orjson.loads(orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY))
        outlines[cell_m] = (len(orjson.dumps(geojson)), bands_of(geojson)[15])
    (fine_bytes, fine), (coarse_bytes, coarse) = outlines[10.0], outlines[30.0]
    assert coarse_bytes < fine_bytes / 2
    assert coarse.area == pytest.approx(fine.area, rel=0.15)


@pytest.mark.parametrize(
    ("cell_m", "why"),
    [(5.0, "6 to 30 m"), (31.0, "6 to 30 m"), (0.0, "6 to 30 m"), ("ten", "a number")],
)
def test_a_bad_cell_size_stops_the_start_naming_the_setting(
    engine: Engine, cell_m: float | str, why: str
) -> None:
    config = {
        "TESTING": True,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SECRET_KEY": "test",
        "WALK_ISOCHRONE_CELL_M": cell_m,
    }
    with pytest.raises(ValueError, match="WALK_ISOCHRONE_CELL_M") as raised:
        create_app(config)
    assert why in str(raised.value)


def test_collinear_vertices_are_dropped_and_rings_stay_closed() -> None:
    # A square traced with points along its sides (starting at one), with a square hole:
    # the corners remain, and each ring ends where it now starts.
    outer = [(5, 0), (10, 0), (10, 5), (10, 10), (5, 10), (0, 10), (0, 5), (0, 0), (5, 0)]
    hole = [(2, 2), (2, 3), (2, 4), (4, 4), (4, 2), (3, 2), (2, 2)]
    coords = np.array(outer + hole, dtype=float)
    rings = np.array([0, len(outer), len(outer) + len(hole)])
    lean, lean_rings, polygons = _without_collinear(coords, rings, np.array([0, 2]))
    assert lean_rings.tolist() == [0, 5, 10]
    assert polygons.tolist() == [0, 2]
    assert lean[:5].tolist() == [[10, 0], [10, 10], [0, 10], [0, 0], [10, 0]]
    assert lean[5:].tolist() == [[2, 2], [2, 4], [4, 4], [4, 2], [2, 2]]


@pytest.mark.parametrize("extent_m", [0.0, 40.0, 3_000.0, 25_000.0])
def test_outlines_reach_wgs84_within_a_centimetre_of_proj(extent_m: float) -> None:
    # From one point (a circle's centre) up to the width of the city of Dortmund.
    x, y = TO_METRIC.transform(7.4652, 51.5136)
    rng = np.random.default_rng(7)
    xy = np.column_stack([x + rng.uniform(0, extent_m, 3_000), y + rng.uniform(0, extent_m, 3_000)])
    exact = np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1]))
    lon_m, lat_m = 111_320 * math.cos(math.radians(51.5)), 111_320
    error_m = np.abs(to_wgs84(xy) - exact) * [lon_m, lat_m]
    assert error_m.max() < 0.01


def test_edge_samples_keep_vertices_and_spacing() -> None:
    lines = np.array(
        [
            shapely.LineString([(0, 0), (10, 0), (10, 3)]),
            shapely.LineString([(5, 5), (5, 6)]),
            shapely.LineString([(0, 0), (0, 12)]),
        ]
    )
    samples = sample_edges(lines, 5.0)
    assert samples.offsets.tolist() == [0, 4, 6, 10]
    assert samples.along.tolist() == [0, 5, 10, 13, 0, 1, 0, 4, 8, 12]
    assert (samples.xy + samples.origin).tolist()[:4] == [[0, 0], [5, 0], [10, 0], [10, 3]]
    index, owner = samples.of_edges(np.array([2, 0]))
    assert index.tolist() == [6, 7, 8, 9, 0, 1, 2, 3]
    assert owner.tolist() == [2, 2, 2, 2, 0, 0, 0, 0]
