"""Reach and isochrone API on the real Witten-Stockum network, and the estimate fallback."""

from __future__ import annotations

import gzip
from typing import Any

import brotli
import pytest
from flask.testing import FlaskClient
from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from walking_support import Witten, witten_fixture  # noqa: F401

from mapservice.importers.default_network import SOURCE_DATASET
from mapservice.models import WGS84, Offer, Site
from mapservice.walking.precompute import refresh_reach, refresh_stale_reach

try:  # Python 3.14 has zstd in the standard library; Flask-Compress needs the backport before
    from compression import zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from backports import zstd  # type: ignore[no-redef,unused-ignore]

HOME = {"lat": 51.4700, "lon": 7.3670}  # a street in Witten-Stockum
# Hombruch, in the south of Dortmund: the default data loads no network there.
OFF_NETWORK = {"lat": 51.4700, "lon": 7.4400}
GEOD = Geod(ellps="WGS84")


def reach(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/reachable", query_string=params)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_reachable_offers_nearest_first_with_minutes(client: FlaskClient, witten: Witten) -> None:
    answer = reach(client, **HOME, minutes=15)
    features = answer["features"]
    titles = {f["properties"]["title"] for f in features}
    assert {"Harkortschule", "AWO-Kita Stockum", "Städtische Kita Helfkamp"} <= titles
    minutes = [f["properties"]["walking_minutes"] for f in features]
    assert minutes == sorted(minutes) and all(0 <= m <= 15 for m in minutes)
    assert answer["estimated"] is False and answer["origin"]["on_network"] is True
    for feature in features:
        props = feature["properties"]
        assert props["estimated"] is False
        lon, lat = feature["geometry"]["coordinates"]
        # Walking along paths is never shorter than the straight line.
        straight = metres(HOME["lat"], HOME["lon"], lat, lon) / (5 / 3.6)
        assert props["walking_seconds"] >= straight - 1


def test_time_limit_age_and_category_filter(client: FlaskClient, witten: Witten) -> None:
    everything = reach(client, **HOME, minutes=30)["features"]
    assert len(everything) >= 5
    short = reach(client, **HOME, minutes=4)["features"]
    assert len(short) < len(everything)
    school_child = reach(client, **HOME, minutes=30, age_months=96)["features"]
    assert [f["properties"]["title"] for f in school_child] == ["Harkortschule"]
    day_care = reach(client, **HOME, minutes=30, category="day_care")["features"]
    assert day_care and {f["properties"]["category"] for f in day_care} == {"day_care"}


def test_pram_is_slower_and_avoids_steps(client: FlaskClient, witten: Witten) -> None:
    adult = {f["id"]: f["properties"] for f in reach(client, **HOME, minutes=30)["features"]}
    pram = {
        f["id"]: f["properties"]
        for f in reach(client, **HOME, minutes=30, profile="pram")["features"]
    }
    assert pram and set(pram) <= set(adult)
    for offer_id, props in pram.items():
        # 3.5 km/h instead of 5, and detours around steps can only add.
        assert props["walking_seconds"] >= adult[offer_id]["walking_seconds"] * 5 / 3.5 - 1
    wheelchair = reach(client, **HOME, minutes=30, profile="wheelchair")
    assert wheelchair["profile"] == "wheelchair" and wheelchair["speed_kmh"] == 3.5


def test_outside_any_network_times_are_estimated(
    client: FlaskClient, db_session: Session, witten: Witten
) -> None:
    site = Site(
        name="Familienzentrum Test",
        geom=from_shape(Point(7.4413, 51.4709), srid=WGS84),  # ~130 m from OFF_NETWORK
        source_dataset="test",
        source_id="walk-estimate",
    )
    db_session.add(site)
    db_session.add(
        Offer(
            title="Elterncafé Test",
            category="parents_cafe",
            age_min_months=24,
            age_max_months=72,
            site=site,
            source_dataset="test",
            source_id="walk-estimate",
        )
    )
    db_session.flush()
    refresh_reach(db_session, site_ids=[site.id])
    answer = reach(client, **OFF_NETWORK, minutes=10)
    assert answer["estimated"] is True and answer["origin"]["on_network"] is False
    assert answer["features"]
    assert all(f["properties"]["estimated"] is True for f in answer["features"])
    mine = next(f for f in answer["features"] if f["properties"]["title"] == "Elterncafé Test")
    straight = metres(OFF_NETWORK["lat"], OFF_NETWORK["lon"], 51.4709, 7.4413)
    expected = straight * 1.3 / (5 / 3.6)  # the documented detour factor at 5 km/h
    assert mine["properties"]["walking_seconds"] == pytest.approx(expected, abs=2)
    iso = client.get("/api/isochrone", query_string={**OFF_NETWORK, "minutes": "5,10"}).get_json()
    assert iso["estimated"] is True
    assert all(f["properties"]["estimated"] for f in iso["features"])


def test_a_new_site_is_estimated_until_refreshed_then_routed(
    client: FlaskClient, db_session: Session, witten: Witten
) -> None:
    site = Site(
        name="Spielplatz Test",
        geom=from_shape(Point(7.3690, 51.4712), srid=WGS84),
        source_dataset="test",
        source_id="walk-new",
    )
    db_session.add(site)
    db_session.add(
        Offer(
            title="Spielplatz Test",
            category="playground",
            age_min_months=12,
            age_max_months=168,
            site=site,
            source_dataset="test",
            source_id="walk-new",
        )
    )
    db_session.flush()

    def mine() -> dict[str, Any]:
        features = reach(client, **HOME, minutes=20)["features"]
        return next(f["properties"] for f in features if f["properties"]["title"] == site.name)

    assert mine()["estimated"] is True
    summary = refresh_stale_reach(db_session)
    assert summary is not None and summary.sites == 1
    assert mine()["estimated"] is False
    assert refresh_stale_reach(db_session) is None  # nothing left to do


def test_point_near_the_network_but_off_every_path_is_an_error(
    client: FlaskClient, db_session: Session, witten: Witten
) -> None:
    # A point inside the network's area, far from any path (a field), found in the data.
    lon, lat = db_session.execute(
        text(
            """
            WITH g AS (SELECT (ST_DumpPoints(ST_GeneratePoints(ST_Transform(extent, 25832),
                                                               300, 1))).geom AS p
                       FROM walk_network WHERE id = :id)
            SELECT ST_X(ST_Transform(p, 4326)), ST_Y(ST_Transform(p, 4326)) FROM g
            WHERE NOT EXISTS (SELECT 1 FROM walk_edge e WHERE ST_DWithin(e.geom, p, 320))
            LIMIT 1
            """
        ),
        {"id": witten.network_id},
    ).one()
    for path in ("/api/reachable", "/api/isochrone"):
        response = client.get(path, query_string={"lat": lat, "lon": lon})
        assert response.status_code == 400
        body = response.get_json()
        assert body["parameter"] == "lat" and "300 m" in body["message"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"lon": 7.367}, "lat"),
        ({"lat": 51.47}, "lon"),
        ({"lat": "north", "lon": 7.367}, "lat"),
        ({"lat": 51.47, "lon": 7.367, "minutes": 0}, "minutes"),
        ({"lat": 51.47, "lon": 7.367, "minutes": 999}, "minutes"),
        ({"lat": 51.47, "lon": 7.367, "profile": "bicycle"}, "profile"),
        ({"lat": 51.47, "lon": 7.367, "category": "<script>"}, "category"),
        ({"lat": 51.47, "lon": 7.367, "age_months": -3}, "age_months"),
    ],
)
def test_bad_parameters_are_named(
    client: FlaskClient, witten: Witten, params: dict[str, Any], parameter: str
) -> None:
    response = client.get("/api/reachable", query_string=params)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_isochrone_bad_minutes(client: FlaskClient, witten: Witten) -> None:
    for minutes in ("5,x", "1,2,3,4,5,6,7", "0"):
        response = client.get("/api/isochrone", query_string={**HOME, "minutes": minutes})
        assert response.status_code == 400 and response.get_json()["parameter"] == "minutes"


def test_isochrones_follow_the_network(
    client: FlaskClient, db_session: Session, witten: Witten
) -> None:
    response = client.get("/api/isochrone", query_string={**HOME, "minutes": "5,10,15"})
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    answer = response.get_json()
    assert answer["estimated"] is False
    bands = {f["properties"]["minutes"]: shape(f["geometry"]) for f in answer["features"]}
    assert sorted(bands) == [5, 10, 15]
    home = Point(HOME["lon"], HOME["lat"])
    assert bands[5].contains(home)
    # Nested and growing.
    assert bands[5].area < bands[10].area < bands[15].area
    assert bands[5].difference(bands[10].buffer(1e-4)).is_empty
    assert bands[10].difference(bands[15].buffer(1e-4)).is_empty
    # Built from reached paths, not a hull: much smaller than its convex hull.
    assert bands[15].area < 0.8 * bands[15].convex_hull.area
    # Sites reached within 10 minutes lie in (or right next to) the 10-minute band.
    reached = reach(client, **HOME, minutes=10)["features"]
    assert reached
    for feature in reached:
        point = shape(feature["geometry"])
        assert bands[10].buffer(0.0005).contains(point), feature["properties"]["title"]


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        # A phone's Chrome or Firefox over HTTPS, Safari over HTTPS, any browser over HTTP.
        ("gzip, deflate, br, zstd", "zstd", zstd.decompress),
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip, deflate", "gzip", gzip.decompress),
    ],
)
def test_isochrones_come_compressed_as_the_browser_accepts(
    client: FlaskClient, witten: Witten, accept: str, encoding: str, decode: Any
) -> None:
    plain = client.get("/api/isochrone", query_string=HOME, headers={"Accept-Encoding": "identity"})
    packed = client.get("/api/isochrone", query_string=HOME, headers={"Accept-Encoding": accept})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    assert decode(packed.get_data()) == plain.get_data()


def test_sites_of_the_extract_are_loaded(db_session: Session, witten: Witten) -> None:
    sites = db_session.scalars(select(Site).where(Site.source_dataset == SOURCE_DATASET)).all()
    names = {site.name for site in sites}
    assert "Harkortschule" in names and "AWO-Kita Stockum" in names
    # The Heilpraktikerschule is a school for adults, not a primary school.
    assert not any("Heilpraktiker" in name for name in names)
    offers = db_session.scalars(select(Offer).where(Offer.source_dataset == SOURCE_DATASET)).all()
    categories = {offer.category for offer in offers}
    assert categories == {"day_care", "primary_school_ogs"}


def test_profiles_endpoint(client: FlaskClient) -> None:
    body = client.get("/api/walking/profiles").get_json()
    speeds = {p["key"]: (p["speed_kmh"], p["steps"]) for p in body["profiles"]}
    assert speeds == {"adult": (5.0, True), "pram": (3.5, False), "wheelchair": (3.5, False)}
    assert body["detour_factor"] == 1.3 and body["max_snap_m"] == 300
