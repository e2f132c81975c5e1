"""The engine and sessions: the lean read path answers exactly as the ordinary one, and a
dropped database connection costs no failed request."""

from __future__ import annotations

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mapservice import create_app
from mapservice.db import SentAhead
from mapservice.walking.precompute import driver_connection

WITTEN = {"lat": 51.4700, "lon": 7.3670, "minutes": 15}
PLACES = [
    WITTEN,
    {"lat": 51.4745, "lon": 7.3625, "minutes": 20, "profile": "pram"},
    {"lat": 51.4700, "lon": 7.3670, "minutes": 10, "age_months": 30},
    {"lat": 51.5253, "lon": 7.4727, "minutes": 15},  # Nordstadt, on the Dortmund network
]


@pytest.fixture
def lean_client(engine: Engine, data_dir) -> FlaskClient:
    """An app on its own engines (the read path as in production), not on the test's
    transaction; the tests using it only read."""
    url = engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "t"})
    yield app.test_client()
    app.extensions["mapservice.engine"].dispose()


def test_lean_read_path_answers_as_the_ordinary_one(lean_client, client):
    for place in PLACES:
        lean = lean_client.get("/api/reachable", query_string=place)
        ordinary = client.get("/api/reachable", query_string=place)
        assert lean.status_code == ordinary.status_code == 200
        assert lean.get_json() == ordinary.get_json()
        assert lean.get_json()["features"]


@pytest.mark.parametrize("path", ["/api/reachable", "/api/isochrone"])
def test_walking_answers_after_its_connection_was_killed(lean_client, engine: Engine, path):
    """A database restart must not cost a family a failed request: the read path has no
    ping before use, so it retries once on a connection found dead (the version's
    statement is sent ahead through libpq, which psycopg does not see fail)."""
    first = lean_client.get(path, query_string=WITTEN)
    assert first.status_code == 200 and first.get_json()["features"]
    with engine.connect() as admin:
        killed = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle' AND application_name = ''"
            )
        ).scalar_one()
    assert killed >= 1
    again = lean_client.get(path, query_string=WITTEN)
    assert again.status_code == 200
    assert again.get_json()["features"] == first.get_json()["features"]


def test_a_statement_sent_ahead_answers_after_other_statements_wait(db_session: Session):
    connection = driver_connection(db_session)
    with SentAhead(connection, "SELECT n FROM data_version WHERE id = 1") as sent:
        version = sent.value()
    assert version is not None
    assert int(version) == db_session.execute(text("SELECT n FROM data_version")).scalar_one()
    with SentAhead(connection, "SELECT n FROM data_version WHERE id = 2") as sent:
        assert sent.value() is None  # no row


def test_a_statement_sent_ahead_fails_with_its_own_error(db_session: Session):
    connection = driver_connection(db_session)
    # The test's transaction goes on after the failed statement from its savepoint.
    connection.execute("SAVEPOINT sent_ahead")
    with (
        pytest.raises(psycopg.errors.UndefinedTable),
        SentAhead(connection, "SELECT n FROM nowhere") as sent,
    ):
        sent.value()
    connection.execute("ROLLBACK TO SAVEPOINT sent_ahead")
    # The answer is read away when other work fails inside the block: the connection is
    # clean for the next statement.
    with pytest.raises(ZeroDivisionError), SentAhead(connection, "SELECT 1"):
        _ = 1 / 0
    assert db_session.execute(text("SELECT 2")).scalar_one() == 2
