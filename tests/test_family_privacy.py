"""A family's place is used for the answer only: never logged, never sent elsewhere."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
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


def test_a_database_error_on_a_reach_request_logs_no_place_nor_age(
    app, client, offers, db_session, caplog
):
    """The error is logged with an id and its traceback, but the SQL's bound values (the
    place, the age) stay out: engines hide parameters, the path is logged without query."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as served: our 500 page, not a raised error
    caplog.set_level(logging.DEBUG)
    lat, lon = f"{LAT:.6f}", f"{LON:.6f}"
    place = {"lat": lat, "lon": lon, "age_months": "29", "where": ADDRESS}
    # A real database error on the reach path (raw psycopg) and on SQLAlchemy's: the tables
    # are renamed inside the test's transaction, which is rolled back at its end.
    db_session.execute(text("ALTER TABLE data_version RENAME TO data_version_away"))
    db_session.execute(text("ALTER TABLE site RENAME TO site_away"))
    # The reach path binds no place any more (it searches in memory and asks the database only
    # for the data version); the address search still sends what the family typed.
    db_session.execute(text("ALTER TABLE walk_street RENAME TO walk_street_away"))
    db_session.execute(text("ALTER TABLE address_point RENAME TO address_point_away"))
    db_session.commit()
    answers = [
        client.get("/api/reachable", query_string=place),
        client.get("/", query_string=place),
        client.get("/results", query_string=place, headers={"Accept": "application/json"}),
        client.get("/api/sites", query_string={"bbox": f"{LON - 0.01},{LAT - 0.01},{lon},{lat}"}),
        client.get("/api/geocode", query_string={"q": ADDRESS}),
    ]
    assert [a.status_code for a in answers] == [500] * 5
    api = answers[0].get_json()
    assert api["error"] == "internal server error" and api["error_id"]
    assert answers[1].mimetype == "text/html"
    errors = [r for r in caplog.records if r.name == "mapservice.errors"]
    assert len(errors) == 5
    for record, answer in zip(errors, answers, strict=True):
        shown = answer.get_json()["error_id"] if answer.is_json else answer.text
        error_id = record.args[0]
        assert error_id in shown  # the id the visitor sees is the one logged
        assert record.exc_info is not None  # with the traceback
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {caplog.handler.format(r)}" for r in caplog.records
    )
    assert "does not exist" in logged  # the real error is there for the operator
    for secret in (lat, lon, lat[:6], lon[:5], f"{LAT - 0.01}", "Missundestr", "age_months=29"):
        assert secret not in logged, secret
    assert "[parameters: " not in logged
    assert "parameters hidden due to hide_parameters=True" in logged  # SQLAlchemy path seen


def test_access_logs_keep_no_query_string_nor_client(app, caplog):
    """What Werkzeug's server and gunicorn log goes through the app's filter."""
    from gunicorn.glogging import SafeAtoms

    from mapservice.logs import GUNICORN_ACCESS_LOG_FORMAT, PrivateAccessLog

    caplog.set_level(logging.INFO)
    query = "/?lat=51.522600&lon=7.472200&age_months=29&where=Missundestra%C3%9Fe+9"
    logging.getLogger("werkzeug").info(
        '192.0.2.5 - - [29/Nov/2026 18:00:00] "%s" %s %s', f"GET {query} HTTP/1.1", "200", "-"
    )
    atoms = SafeAtoms(
        {
            "h": "192.0.2.5",
            "t": "[29/Nov/2026:18:00:00 +0000]",
            "r": f"GET {query} HTTP/1.1",
            "m": "GET",
            "U": "/",
            "q": query[2:],
            "H": "HTTP/1.1",
            "s": "200",
            "B": 512,
            "M": 12,
            "f": f"http://127.0.0.1:5000{query}",
            "{referer}i": f"http://127.0.0.1:5000{query}",
        }
    )
    gunicorn = logging.getLogger("gunicorn.access")
    gunicorn.info('%(h)s "%(r)s" %(s)s "%(f)s" %({referer}i)s', atoms)
    gunicorn.info(GUNICORN_ACCESS_LOG_FORMAT, atoms)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].endswith('"GET / HTTP/1.1" 200 -') and lines[0].startswith("- - - [")
    assert lines[2] == '[29/Nov/2026:18:00:00 +0000] "GET / HTTP/1.1" 200 512 12ms'
    for secret in ("51.5226", "7.4722", "age_months", "Missund", "192.0.2.5"):
        assert secret not in "\n".join(lines), secret
    assert any(isinstance(f, PrivateAccessLog) for f in gunicorn.filters)
