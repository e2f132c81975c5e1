"""Fixtures: a real PostGIS (the private cluster, or MAPSERVICE_TEST_DATABASE_URL), migrated
and loaded with the bundled data once per run; each test runs inside a transaction that is
rolled back at its end (``join_transaction_mode="create_savepoint"``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from accounts import PASSWORD, ROLES
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from mapservice import create_app
from mapservice.auth import create_user
from mapservice.config import Defaults
from mapservice.db import make_engine, migrate
from mapservice.importers.default_data import load_default_data
from mapservice.models import User
from mapservice.pgcluster import local_cluster

DATA_DIR = Path(os.environ.get("MAPSERVICE_DATA_DIR", Defaults.DATA_DIR))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared public data (Dortmund open data, OSM extracts)."""
    assert (DATA_DIR / "PROVENANCE.md").exists(), f"data directory {DATA_DIR} is missing"
    return DATA_DIR


@pytest.fixture(scope="session")
def engine(data_dir: Path) -> Iterator[Engine]:
    url = os.environ.get("MAPSERVICE_TEST_DATABASE_URL")
    if not url:
        cluster = local_cluster()
        cluster.start()
        # A name of its own per concurrent run (MAPSERVICE_TEST_DB_NAME), since it is recreated.
        name = os.environ.get("MAPSERVICE_TEST_DB_NAME", "mapservice_test")
        url = cluster.ensure_database(name, recreate=True)
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        load_default_data(session, str(data_dir))
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()


@pytest.fixture
def app(engine: Engine, connection: Connection, data_dir: Path) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "test",
        }
    )
    app.extensions["mapservice.engine"] = engine
    # Reads and writes alike go through the test's connection, so every test sees its own
    # rows and leaves nothing behind.
    bound = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.extensions["mapservice.sessionmaker"] = bound
    app.extensions["mapservice.read_sessionmaker"] = bound
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    factory: sessionmaker[Session] = app.extensions["mapservice.sessionmaker"]
    with factory() as session:
        yield session


@pytest.fixture
def accounts(db_session: Session) -> dict[str, User]:
    """One account per role, ``<role>@example.org`` with the password ``accounts.PASSWORD``."""
    made = {role: create_user(db_session, f"{role}@example.org", PASSWORD, role) for role in ROLES}
    db_session.commit()
    return made
