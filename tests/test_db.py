"""The engine and sessions: hot read-only requests survive a dropped database connection."""

from __future__ import annotations

from sqlalchemy import Engine, text

from mapservice import create_app

WITTEN = {"lat": 51.4700, "lon": 7.3670, "minutes": 15}


def test_reach_answers_after_its_connection_was_killed(engine: Engine, data_dir):
    """A database restart must not cost a family a failed request: the read path has no
    ping before use, so it retries once on a connection found dead."""
    url = engine.url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "t"})
    client = app.test_client()
    first = client.get("/api/reachable", query_string=WITTEN)
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
    again = client.get("/api/reachable", query_string=WITTEN)
    assert again.status_code == 200
    assert again.get_json()["features"] == first.get_json()["features"]
    app.extensions["mapservice.engine"].dispose()
