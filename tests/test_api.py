"""The JSON API: GeoJSON answers, filters, and 400s that name the bad parameter."""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box

from mapservice.models import Offer, ScheduleSlot, Site

# A spot in the Nordstadt, and a box around it.
LON, LAT = 7.4712, 51.5268
NEAR = f"{LON - 0.001},{LAT - 0.001},{LON + 0.001},{LAT + 0.001}"
FAR = "6.0,50.0,6.1,50.1"


@pytest.fixture
def site(db_session):
    site = Site(
        name="Testfamilienzentrum",
        street="Teststraße",
        house_number="1",
        postcode="44145",
        city="Dortmund",
        geom=from_shape(Point(LON, LAT), srid=4326),
        is_anchor=True,
        source_dataset="test",
        source_id="site-1",
    )
    db_session.add(site)
    db_session.flush()
    return site


def make_offer(db_session, site, **fields) -> Offer:
    values = {
        "title": "Testangebot",
        "category": "baby_parent_meetup",
        "age_min_months": 0,
        "age_max_months": 24,
        "languages": ["de"],
        "source_dataset": "test",
        "source_id": f"offer-{fields.get('title', 'x')}",
        "site": site,
    }
    values.update(fields)
    offer = Offer(**values)
    db_session.add(offer)
    db_session.flush()
    return offer


@pytest.fixture
def offers(db_session, site):
    baby = make_offer(
        db_session,
        site,
        title="Babytreff Test",
        languages=["de", "tr"],
        schedule=[ScheduleSlot(weekday=1, start_time=dt.time(9, 30), end_time=dt.time(11))],
    )
    kita = make_offer(
        db_session,
        site,
        title="Kita Test",
        category="day_care",
        age_min_months=12,
        age_max_months=72,
        languages=["de", "tr"],
        cost_free=False,
        cost_text="Elternbeitrag",
    )
    stube = make_offer(
        db_session,
        site,
        title="Kinderstube Test",
        category="kinderstube",
        age_min_months=24,
        age_max_months=48,
        languages=["ar"],
        cost_free=True,
    )
    welcome = make_offer(
        db_session,
        None,
        title="Willkommensbesuch Test",
        category="welcome_visit",
        age_min_months=0,
        age_max_months=12,
        service_area=from_shape(
            MultiPolygon([box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)]), srid=4326
        ),
    )
    return {"baby": baby, "kita": kita, "stube": stube, "welcome": welcome}


def offer_ids(response) -> set[int]:
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    return {feature["id"] for feature in body["features"]}


def test_offers_are_geojson_features(client, offers):
    response = client.get("/api/offers")
    ids = offer_ids(response)
    assert {offer.id for offer in offers.values()} <= ids
    feature = next(f for f in response.get_json()["features"] if f["id"] == offers["baby"].id)
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    props = feature["properties"]
    assert props["title"] == "Babytreff Test"
    assert props["site_name"] == "Testfamilienzentrum"
    assert props["is_anchor"] is True
    assert props["schedule"][0]["weekday"] == "tue"


def test_age_filter(client, offers):
    baby = offers["baby"].id  # 0–24 months
    assert baby in offer_ids(client.get("/api/offers?age_months=12"))
    assert baby not in offer_ids(client.get("/api/offers?age_months=30"))
    # The upper bound is exclusive: a child of exactly 2 has outgrown the 0–2 offer.
    assert baby not in offer_ids(client.get("/api/offers?age_months=24"))
    assert baby in offer_ids(client.get("/api/offers?age_years=1&age_extra_months=11"))


def test_age_from_birth_month(client, offers):
    today = dt.date.today()
    months_ago = 30
    year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
    ids = offer_ids(client.get(f"/api/offers?birth_month={year:04d}-{month + 1:02d}"))
    assert offers["stube"].id in ids
    assert offers["baby"].id not in ids


def test_category_filter(client, offers):
    ids = offer_ids(client.get("/api/offers?category=day_care,kinderstube"))
    assert {offers["kita"].id, offers["stube"].id} <= ids
    assert offers["baby"].id not in ids
    assert offers["welcome"].id not in ids


def test_bbox_filter(client, offers):
    near = offer_ids(client.get(f"/api/offers?bbox={NEAR}"))
    assert {offer.id for offer in offers.values()} <= near
    far = offer_ids(client.get(f"/api/offers?bbox={FAR}"))
    assert not {offer.id for offer in offers.values()} & far


def test_combined_filters(client, offers):
    ids = offer_ids(
        client.get(f"/api/offers?age_months=30&category=day_care,kinderstube&bbox={NEAR}")
    )
    assert ids >= {offers["kita"].id, offers["stube"].id}
    assert offers["baby"].id not in ids
    ids = offer_ids(client.get("/api/offers?age_months=30&language=tr&free=1"))
    # Kita speaks Turkish but costs; the Kinderstube is free but Arabic.
    assert offers["kita"].id not in ids
    assert offers["stube"].id not in ids
    ids = offer_ids(client.get("/api/offers?age_months=30&language=tr,ar&free=1"))
    assert offers["stube"].id in ids


def test_service_area_offer_has_polygon(client, offers):
    response = client.get(f"/api/offers/{offers['welcome'].id}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    feature = response.get_json()
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["comes_home"] is True
    assert feature["properties"]["site_id"] is None


def test_missing_offer_is_json_404(client, offers):
    missing = max(offer.id for offer in offers.values()) + 100_000
    response = client.get(f"/api/offers/{missing}")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert str(missing) in response.get_json()["message"]


def test_unknown_api_path_and_method_are_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
    response = client.delete("/api/offers")  # POST writes (with a token, issue 10)
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("age_months=-5", "age_months"),
        ("age_months=abc", "age_months"),
        ("age_months=400", "age_months"),
        ("age_years=2&age_extra_months=12", "age_extra_months"),
        ("birth_month=2024-13", "birth_month"),
        ("birth_month=2999-01", "birth_month"),
        ("bbox=7.4,200,7.5,51.6", "bbox"),
        ("bbox=7.4,51.5,7.5", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("category=day_care,no_such_category", "category"),
        ("language=turkish", "language"),
        ("free=maybe", "free"),
    ],
)
def test_bad_offer_parameters_are_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/offers?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["parameter"] == parameter
    assert body["error"]
    assert body["message"]


def test_sites(client, site):
    response = client.get(f"/api/sites?bbox={NEAR}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    features = response.get_json()["features"]
    ours = next(f for f in features if f["id"] == site.id)
    assert ours["properties"]["is_anchor"] is True
    assert ours["properties"]["address"] == "Teststraße 1, 44145 Dortmund"
    far = client.get(f"/api/sites?bbox={FAR}").get_json()["features"]
    assert site.id not in {f["id"] for f in far}


def test_sites_bad_bbox(client):
    response = client.get("/api/sites?bbox=7.4,51.5,7.5,200")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "bbox"


def test_categories(client):
    response = client.get("/api/categories")
    assert response.status_code == 200
    body = response.get_json()
    by_key = {category["key"]: category for category in body["categories"]}
    assert by_key["day_care"]["label_de"] == "Kindertageseinrichtung (TEK)"
    assert by_key["welcome_visit"]["max_months"] == 12
    assert {phase["key"] for phase in body["phases"]} >= {"0-2", "2-4"}


def test_health_answers_when_the_database_does(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
