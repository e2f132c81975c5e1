"""A family's place is used for the answer only: never logged, never sent elsewhere."""

from __future__ import annotations

import logging

import pytest
from test_page import LAT, LON, make_offers, make_places

ADDRESS = "Missundestraße 9"


@pytest.fixture(name="places")
def places_fixture(db_session):
    return make_places(db_session)


@pytest.fixture(name="offers")
def offers_fixture(db_session, places):
    return make_offers(db_session, places)


def test_place_and_address_never_reach_the_logs(client, offers, caplog):
    caplog.set_level(logging.DEBUG)  # everything, from every logger
    lat, lon = f"{LAT:.6f}", f"{LON:.6f}"
    answers = [
        client.get("/", query_string={"lat": lat, "lon": lon, "where": ADDRESS}),
        client.get("/", query_string={"where": ADDRESS}),
        client.get("/results", query_string={"lat": lat, "lon": lon}),
        client.get("/print", query_string={"lat": lat, "lon": lon}),
        client.get("/api/geocode", query_string={"q": ADDRESS}),
        client.get("/api/reachable", query_string={"lat": lat, "lon": lon}),
        client.get("/api/isochrone", query_string={"lat": lat, "lon": lon}),
        client.get("/", query_string={"lat": "95", "lon": lon}),  # an error, too
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 200, 200, 400]
    assert ADDRESS in answers[0].text  # the place was really used
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '')}" for r in caplog.records
    )
    for secret in (lat, lon, lat[:6], lon[:5], "Missundestra", "Missundestr"):
        assert secret not in logged, secret


def test_pages_are_compressed(client, offers):
    plain = client.get("/")
    packed = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) < len(plain.data) / 3
    script = client.get("/static/js/family.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert script.headers.get("Content-Encoding") in ("gzip", "deflate")
    script.close()
