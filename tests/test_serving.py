"""Serving for real: the gunicorn settings computed from the app's settings, liveness and
readiness for a load balancer, and an access log without the family's place."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mapservice import create_app
from mapservice.serving.server import GunicornServer
from mapservice.serving.settings import ACCESS_LOG_FORMAT, server_settings


def test_workers_follow_the_cores_unless_set() -> None:
    assert server_settings({}, cores=2).workers == 3
    assert server_settings({}, cores=8).workers == 9
    assert server_settings({"WORKERS": 5}, cores=2).workers == 5
    assert server_settings({"WORKERS": ""}, cores=4).workers == 5
    assert server_settings({"WORKERS": 5}, cores=2, workers=2).workers == 2


def test_threads_bind_and_timeout_from_settings() -> None:
    settings = server_settings({"THREADS": 8, "BIND": "0.0.0.0:8000", "TIMEOUT": "60"}, cores=2)
    assert (settings.threads, settings.bind, settings.timeout) == (8, "0.0.0.0:8000", 60)
    defaults = server_settings({}, cores=2)
    assert (defaults.threads, defaults.bind, defaults.timeout) == (4, "127.0.0.1:5000", 30)


def test_command_line_host_and_port_replace_parts_of_bind() -> None:
    assert server_settings({"BIND": "0.0.0.0:8000"}, port=9000).bind == "0.0.0.0:9000"
    assert server_settings({}, host="0.0.0.0").bind == "0.0.0.0:5000"


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_bad_worker_counts_are_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match="MAPSERVICE_WORKERS"):
        server_settings({"WORKERS": value}, cores=2)


def test_gunicorn_gets_threads_workers_and_a_private_access_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    settings = server_settings({"WORKERS": 3, "THREADS": 4}, cores=2)
    server = GunicornServer(lambda: create_app(), settings.gunicorn_options())
    assert server.cfg.workers == 3
    assert server.cfg.threads == 4
    assert server.cfg.worker_class_str == "gthread"
    assert server.cfg.address == [("127.0.0.1", 5000)]
    assert server.cfg.preload_app is False  # engines are made in each worker, after the fork
    assert server.cfg.access_log_format == ACCESS_LOG_FORMAT
    # Path, never the query string (the family's place) nor the client's address.
    assert "%(U)s" in ACCESS_LOG_FORMAT
    for atom in ("%(q)s", "%(r)s", "%(h)s", "%(f)s", "{"):
        assert atom not in ACCESS_LOG_FORMAT


def test_gunicorn_cmd_args_override_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--workers 7 --timeout 90")
    settings = server_settings({"WORKERS": 3}, cores=2)
    server = GunicornServer(lambda: create_app(), settings.gunicorn_options())
    assert (server.cfg.workers, server.cfg.timeout) == (7, 90)


def test_liveness_needs_no_database() -> None:
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@/none?host=/nonexistent"})
    response = app.test_client().get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readiness_says_503_when_the_database_does_not_answer() -> None:
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@/none?host=/nonexistent"})
    response = app.test_client().get("/api/ready")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert response.headers["Retry-After"].isdigit()


def test_readiness_says_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/api/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
