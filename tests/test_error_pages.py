"""Our own error answers: 503 with Retry-After when the database is away, a 500 page in the
visitor's language with an error id, JSON under /api."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

PLACE = {"lat": "51.5226", "lon": "7.4722", "age_months": "18"}


@pytest.fixture
def database_away(app: Flask) -> Flask:
    """The app's engines point at a port where no database listens."""
    gone = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/gone",
        connect_args={"connect_timeout": 2},
        hide_parameters=True,
    )
    factory = sessionmaker(gone, expire_on_commit=False)
    app.extensions["mapservice.sessionmaker"] = factory
    app.extensions["mapservice.read_sessionmaker"] = factory
    return app


@pytest.mark.parametrize(
    "url",
    ["/api/offers", "/api/reachable", "/api/sites", "/api/isochrone"],
)
def test_api_answers_503_json_with_retry_after(
    database_away: Flask, client: FlaskClient, url: str
) -> None:
    answer = client.get(url, query_string=PLACE)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) >= 1
    body = answer.get_json()
    assert body["error"] == "service unavailable" and body["message"]
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "Gerade nicht erreichbar"), ("en", "Temporarily unavailable"), ("ar", 'dir="rtl"')],
)
def test_pages_answer_503_in_the_visitors_language(
    database_away: Flask, client: FlaskClient, language: str, expected: str
) -> None:
    for url in ("/", "/print", "/offer/1"):
        answer = client.get(url, query_string=PLACE, headers={"Accept-Language": language})
        assert answer.status_code == 503, url
        assert answer.mimetype == "text/html"
        assert answer.headers["Retry-After"]
        assert expected in answer.text
        assert f'lang="{language}"' in answer.text


def test_the_family_script_gets_json_503(database_away: Flask, client: FlaskClient) -> None:
    answer = client.get("/results", query_string=PLACE, headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert answer.get_json()["error"] == "service unavailable"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """A route that fails as a bug would, served as in production (no propagation)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken-for-test", "broken", broken)
    app.add_url_rule("/api/broken-for-test", "api_broken", broken)
    return app


def test_500_page_in_the_visitors_language_shows_the_logged_error_id(
    failing_app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    answer = client.get(
        "/broken-for-test?lat=51.5226&where=Missundestra%C3%9Fe+9",
        headers={"Accept-Language": "tr"},
    )
    assert answer.status_code == 500
    assert answer.mimetype == "text/html"
    assert 'lang="tr"' in answer.text
    assert "Bir hata oluştu" in answer.text
    shown = re.search(r'class="error-id">([0-9a-f-]{36})<', answer.text)
    assert shown, answer.text
    [record] = [r for r in caplog.records if r.name == "mapservice.errors"]
    assert record.args is not None and shown.group(1) == record.args[0]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    text = caplog.handler.format(record)
    assert "/broken-for-test" in text and "51.5226" not in text and "Missund" not in text
    assert "Werkzeug" not in answer.text and "Internal Server Error" not in answer.text


def test_500_under_api_is_json_with_the_error_id(
    failing_app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    answer = client.get("/api/broken-for-test")
    assert answer.status_code == 500
    body = answer.get_json()
    assert body["error"] == "internal server error"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["error_id"])
    assert body["error_id"] in caplog.text


def test_tests_still_see_exceptions_themselves(app: Flask, client: FlaskClient) -> None:
    """With TESTING (PROPAGATE_EXCEPTIONS unset) a bug raises in the test, as before."""

    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken-for-test", "broken", broken)
    with pytest.raises(RuntimeError):
        client.get("/broken-for-test")


def test_an_exhausted_connection_pool_answers_503(app: Flask, engine) -> None:
    """Overloaded: every pooled connection busy beyond the pool's timeout."""
    tiny = create_engine(
        engine.url, pool_size=1, max_overflow=0, pool_timeout=0.2, hide_parameters=True
    )
    factory = sessionmaker(tiny, expire_on_commit=False)
    app.extensions["mapservice.sessionmaker"] = factory
    app.extensions["mapservice.read_sessionmaker"] = factory
    try:
        with tiny.connect():  # the only connection, held
            answer = app.test_client().get("/api/offers")
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert app.test_client().get("/api/offers").status_code == 200  # free again
    finally:
        tiny.dispose()
