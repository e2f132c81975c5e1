"""Limits that keep an overloaded or abused service answering: JSON bodies are
length-checked before anything is written (413/400 naming the member), and a request that
finds no free database connection answers 503 + Retry-After within the pool's timeout."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from editing_support import any_site, make_accounts, new_offer_data
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mapservice import create_app
from mapservice.config import Defaults
from mapservice.db import ENGINES_PER_PROCESS, PoolSettings, connection_limit, get_engine
from mapservice.editing.tokens import create_token
from mapservice.models import Offer, Site
from mapservice.serving.settings import connections_needed, server_settings

# --- JSON bodies -------------------------------------------------------------------------

SLOT = {"weekday": "tue", "start": "09:00", "end": "11:00"}
SITE = {"name": "Familienzentrum (Beispiel)", "lon": 7.47, "lat": 51.52}


@pytest.fixture
def token(db_session: Session) -> str:
    made = create_token(db_session, make_accounts(db_session)["editor"])
    db_session.commit()
    return made


def offers_and_sites(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Offer)) or 0,
        session.scalar(select(func.count()).select_from(Site)) or 0,
    )


def post_offer(client: FlaskClient, token: str, body: Any) -> Any:
    return client.post(
        "/api/offers",
        data=body if isinstance(body, str | bytes) else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_limits_let_a_real_offer_through(
    client: FlaskClient, db_session: Session, token: str
) -> None:
    answer = post_offer(client, token, new_offer_data(any_site(db_session).id))
    assert answer.status_code == 201, answer.get_json()


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"title": "T" * 301}, "title"),
        ({"description": "D" * 5001}, "description"),
        ({"contact": "c" * 2001}, "contact"),
        ({"cost_text": "€" * 301}, "cost_text"),
        ({"languages": ["de"] * 201}, "languages"),
        ({"languages": ["x" * 17]}, "languages[0]"),
        ({"schedule": [SLOT] * 201}, "schedule"),
        ({"schedule": [SLOT | {"weekday": "w" * 17}]}, "schedule[0].weekday"),
        ({"translations": {"tr": {"description": "d" * 5001}}}, "translations.tr.description"),
        ({"new_site": SITE | {"street": "s" * 201}}, "new_site.street"),
        ({"note": "x" * 5001}, "note"),
        ({"k" * 65: 1}, "k" * 20 + "…"),
    ],
)
def test_an_over_long_member_is_400_naming_it_and_nothing_is_written(
    client: FlaskClient, db_session: Session, token: str, change: dict[str, Any], parameter: str
) -> None:
    before = offers_and_sites(db_session)
    answer = post_offer(client, token, new_offer_data(any_site(db_session).id) | change)
    assert answer.status_code == 400, answer.get_json()
    body = answer.get_json()
    assert body["parameter"] == parameter and body["message"]
    assert offers_and_sites(db_session) == before


def test_an_offer_sent_as_a_feature_has_the_same_limits(
    client: FlaskClient, db_session: Session, token: str
) -> None:
    feature = {
        "type": "Feature",
        "properties": new_offer_data(any_site(db_session).id) | {"title": "T" * 301},
    }
    answer = post_offer(client, token, feature)
    assert answer.status_code == 400 and answer.get_json()["parameter"] == "properties.title"


def test_a_body_over_the_limit_is_413_and_nothing_is_written(
    app: Flask, client: FlaskClient, db_session: Session, token: str
) -> None:
    app.config["MAX_JSON_BODY"] = 4096
    before = offers_and_sites(db_session)
    data = new_offer_data(any_site(db_session).id) | {"description": "D" * 4000}
    answer = post_offer(client, token, data)
    assert answer.status_code == 413
    body = answer.get_json()
    assert body["parameter"] == "body" and "4096" in body["message"]
    assert offers_and_sites(db_session) == before
    # The default is generous enough for the longest real offer.
    app.config["MAX_JSON_BODY"] = Defaults.MAX_JSON_BODY
    assert post_offer(client, token, data).status_code == 201


def test_deeply_nested_json_is_400_not_500(client: FlaskClient, token: str) -> None:
    for depth in (9, 50_000):
        answer = post_offer(client, token, "[" * depth + "]" * depth)
        assert answer.status_code == 400, depth
        assert answer.get_json()["parameter"] == "body"


def test_the_planners_json_api_is_checked_the_same_way(client: FlaskClient) -> None:
    answer = client.post("/planners/api/scenarios", json={"name": "N" * 201})
    assert answer.status_code == 400 and answer.get_json()["parameter"] == "name"


# --- an exhausted connection pool --------------------------------------------------------


@pytest.fixture
def small_pool_app(engine: Engine, data_dir: Any) -> Any:
    """The app as served, with its own engines: one connection each, waiting 0.5 s."""
    served = create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "pool-test",
            "DB_POOL_SIZE": 1,
            "DB_MAX_OVERFLOW": 0,
            "DB_POOL_TIMEOUT": 0.5,
        }
    )
    with served.app_context():
        get_engine()
    yield served
    for key in ("mapservice.engine", "mapservice.read_sessionmaker"):
        found = served.extensions[key]
        (found if isinstance(found, Engine) else found.kw["bind"]).dispose()


def test_an_exhausted_pool_answers_503_with_retry_after_within_its_timeout(
    small_pool_app: Flask,
) -> None:
    engines = [
        small_pool_app.extensions["mapservice.engine"],
        small_pool_app.extensions["mapservice.read_sessionmaker"].kw["bind"],
    ]
    client = small_pool_app.test_client()
    urls = (("/api/offers?age_months=30", "application/json"), ("/", "text/html"))
    for url, _kind in urls:  # templates and catalogues loaded: the timing is the pool's
        assert client.get(url, headers={"Accept-Language": "tr"}).status_code == 200
    assert client.get("/nowhere", headers={"Accept-Language": "tr"}).status_code == 404
    held = [each.connect() for each in engines]  # every connection busy
    try:
        for url, kind in urls:
            started = time.monotonic()
            answer = client.get(url, headers={"Accept-Language": "tr"})
            waited = time.monotonic() - started
            assert answer.status_code == 503, url
            assert answer.mimetype == kind and int(answer.headers["Retry-After"]) >= 1
            # 0.5 s of waiting for a connection, then the answer (not 30 s; a loaded
            # machine may add a little).
            assert 0.45 <= waited < 2.0, (url, waited)
    finally:
        for connection in held:
            connection.close()
    assert client.get("/api/offers?age_months=30").status_code == 200


def test_pool_defaults_follow_the_threads_and_fit_the_database() -> None:
    pool = PoolSettings.from_config({"THREADS": 6})
    assert pool.size == 6  # one connection per thread a process serves with
    defaults = PoolSettings.from_config(vars(Defaults))
    assert defaults.size == Defaults.THREADS
    # A request gives up on the pool well before a person (or wrk, 2 s) or gunicorn does.
    assert defaults.timeout < 2 < Defaults.TIMEOUT
    # The default server on 2 cores (3 processes x 4 threads, two engines each) stays within
    # the private cluster's 50 connections less 3 reserved; `mapservice serve` warns when
    # more cores (more processes) would not.
    settings = server_settings(vars(Defaults), cores=2)
    assert connections_needed(settings, defaults.per_engine, ENGINES_PER_PROCESS) == 36 <= 47
    settings = server_settings(vars(Defaults), cores=4)
    assert connections_needed(settings, defaults.per_engine, ENGINES_PER_PROCESS) > 47


def test_bad_pool_settings_name_the_variable() -> None:
    with pytest.raises(ValueError, match="MAPSERVICE_DB_POOL_TIMEOUT"):
        PoolSettings.from_config({"DB_POOL_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="MAPSERVICE_DB_CONNECT_TIMEOUT"):
        PoolSettings.from_config({"DB_CONNECT_TIMEOUT": 1})


def test_the_engines_use_the_pool_settings(small_pool_app: Flask) -> None:
    for engine in (
        small_pool_app.extensions["mapservice.engine"],
        small_pool_app.extensions["mapservice.read_sessionmaker"].kw["bind"],
    ):
        assert engine.pool.size() == 1 and engine.pool.timeout() == 0.5


def test_the_database_says_how_many_connections_it_allows(engine: Engine) -> None:
    """`mapservice serve` compares this with what its workers may open (and warns)."""
    assert 0 < connection_limit(engine) < 10_000
