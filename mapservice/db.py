"""Engine and sessions: the one place that knows how to reach the database.

Without ``MAPSERVICE_DATABASE_URL`` the service starts its private PostGIS
cluster (see :mod:`mapservice.pgcluster`) and uses the database named by
``DATABASE_NAME`` in it.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from geoalchemy2 import alembic_helpers
from psycopg import pq
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from mapservice.pgcluster import local_cluster

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


def resolve_database_url(database_url: str | None, database_name: str) -> str:
    """The configured URL, or the private cluster's (started on demand)."""
    if database_url:
        return database_url
    cluster = local_cluster()
    cluster.start()
    return cluster.ensure_database(database_name)


@dataclass(frozen=True)
class PoolSettings:
    """How many connections each engine of a process keeps, and how long a request waits.

    ``size`` connections stay open and up to ``overflow`` more are opened under a burst; a
    request that finds all of them busy waits at most ``timeout`` seconds and then answers
    503 with ``Retry-After`` (:mod:`mapservice.web.errors`) instead of queueing on. A new
    connection gives up after ``connect_timeout`` seconds (a database host that drops
    packets would otherwise hold the request for minutes); a hot read gives up after
    ``read_statement_timeout_ms`` (0: never), which also answers 503.
    """

    size: int = 5
    overflow: int = 2
    timeout: float = 1.0
    connect_timeout: int = 2
    read_statement_timeout_ms: int = 10_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PoolSettings:
        """From ``DB_POOL_SIZE`` (None: one per thread, ``THREADS``), ``DB_MAX_OVERFLOW``,
        ``DB_POOL_TIMEOUT``, ``DB_CONNECT_TIMEOUT`` and ``DB_READ_STATEMENT_TIMEOUT_MS``."""
        size = config.get("DB_POOL_SIZE") or config.get("THREADS") or cls.size
        return cls(
            size=_number(size, "DB_POOL_SIZE", int, low=1),
            overflow=_number(config.get("DB_MAX_OVERFLOW", cls.overflow), "DB_MAX_OVERFLOW", int),
            timeout=_number(config.get("DB_POOL_TIMEOUT", cls.timeout), "DB_POOL_TIMEOUT", float),
            connect_timeout=_number(
                config.get("DB_CONNECT_TIMEOUT", cls.connect_timeout),
                "DB_CONNECT_TIMEOUT",
                int,
                low=2,  # libpq's least
            ),
            read_statement_timeout_ms=_number(
                config.get("DB_READ_STATEMENT_TIMEOUT_MS", cls.read_statement_timeout_ms),
                "DB_READ_STATEMENT_TIMEOUT_MS",
                int,
            ),
        )

    @property
    def per_engine(self) -> int:
        """The most connections one engine opens."""
        return self.size + self.overflow

    def engine_options(self) -> dict[str, Any]:
        return {
            "pool_size": self.size,
            "max_overflow": self.overflow,
            "pool_timeout": self.timeout,
            "connect_args": {"connect_timeout": self.connect_timeout},
        }


N = TypeVar("N", int, float)


def _number(value: Any, name: str, kind: type[N], *, low: float = 0) -> N:
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"MAPSERVICE_{name} must be a number, not {value!r}") from exc
    if number < low:
        raise ValueError(f"MAPSERVICE_{name} must be at least {low}, not {number}")
    return number


ENGINES_PER_PROCESS = 2  # the normal engine and the read-only one (make_read_engine)


def make_engine(url: str, pool: PoolSettings | None = None) -> Engine:
    # hide_parameters: a failing statement's message (logged with its traceback) must not
    # carry the bound values: a family's place, an address, an e-mail.
    options = (pool or PoolSettings()).engine_options()
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **options)


def make_read_engine(url: str, pool: PoolSettings | None = None) -> Engine:
    """An engine for hot read-only requests: autocommit (no BEGIN/ROLLBACK round trips), no
    ping before each use (:func:`read_only` retries once on a connection found dead), and
    generic plans for prepared statements: the reach query's plan does not depend on the
    point, and planning it anew each time would cost more than running it."""
    pool = pool or PoolSettings()
    options = pool.engine_options()
    server_options = "-c plan_cache_mode=force_generic_plan"
    if pool.read_statement_timeout_ms:
        server_options += f" -c statement_timeout={pool.read_statement_timeout_ms}"
    options["connect_args"]["options"] = server_options
    return create_engine(
        url,
        pool_pre_ping=False,
        hide_parameters=True,
        isolation_level="AUTOCOMMIT",
        **options,
    )


def connection_limit(engine: Engine) -> int:
    """Connections an ordinary role may open: ``max_connections`` less the reserved ones."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT name, setting::int FROM pg_settings WHERE name IN "
                "('max_connections', 'superuser_reserved_connections', "
                "'reserved_connections')"
            )
        )
        found: dict[str, int] = {str(name): int(value) for name, value in rows}
    reserved = found.get("superuser_reserved_connections", 0) + found.get("reserved_connections", 0)
    return found["max_connections"] - reserved


def include_in_migrations(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """What Alembic compares between the models and the database: GeoAlchemy2's filter
    (spatial indexes), and PostGIS's own table left alone."""
    if type_ == "table" and name == "spatial_ref_sys":
        return False
    included: bool = alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
    return included


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates PostGIS if missing)."""
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def get_engine(app: Flask | None = None) -> Engine:
    app = app or current_app
    engine: Engine | None = app.extensions.get("mapservice.engine")
    if engine is None:
        url = resolve_database_url(app.config["DATABASE_URL"], app.config["DATABASE_NAME"])
        pool = PoolSettings.from_config(app.config)
        engine = make_engine(url, pool)
        app.extensions["mapservice.engine"] = engine
        app.extensions["mapservice.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
        app.extensions["mapservice.read_sessionmaker"] = sessionmaker(
            make_read_engine(url, pool), expire_on_commit=False
        )
    return engine


def dispose_engines(app: Flask) -> None:
    """Close the app's pooled connections and forget its engines (before a server forks its
    workers, which must not share connections)."""
    for key in ("mapservice.engine", "mapservice.read_sessionmaker"):
        found = app.extensions.pop(key, None)
        bind = found.kw.get("bind") if isinstance(found, sessionmaker) else found
        if isinstance(bind, Engine):
            bind.dispose()
    app.extensions.pop("mapservice.sessionmaker", None)


def get_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        get_engine()
        factory: sessionmaker[Session] = current_app.extensions["mapservice.sessionmaker"]
        g.db_session = factory()
    session: Session = g.db_session
    return session


def read_only(work: Callable[[Session], T]) -> T:
    """Run ``work`` in a read-only session of its own (see :func:`make_read_engine`).

    Each statement sees the newest committed data, so ``work`` should read what must agree
    in one statement. A connection that died since its last use (the database restarted)
    invalidates the pool; the work is then retried once on a fresh connection. That holds
    for statements run on the raw psycopg connection too (the reach query), which
    SQLAlchemy never sees fail.
    """
    get_engine()
    factory: sessionmaker[Session] = current_app.extensions["mapservice.read_sessionmaker"]
    for last_try in (False, True):
        with factory() as session:
            try:
                return work(session)
            except DBAPIError as exc:
                if last_try or not exc.connection_invalidated:
                    raise
            except psycopg.Error as exc:
                if last_try or not _forget_if_dead(session, exc):
                    raise
    raise AssertionError("unreachable")


def _forget_if_dead(session: Session, exc: psycopg.Error) -> bool:
    """After an error on the raw psycopg connection under ``session``: when the connection
    is gone, drop it and the rest of its engine's pool (they died with it when the database
    restarted; SQLAlchemy does the same for errors it sees itself) and say so."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        return False
    # A statement sent through libpq directly (SentAhead) leaves psycopg's own flag unset.
    if not (driver.broken or driver.pgconn.status == pq.ConnStatus.BAD):
        return False
    connection.invalidate(exc)
    bind = session.get_bind()
    if isinstance(bind, Engine):
        # Connections still checked out elsewhere are closed when they come back.
        bind.dispose()
    return True


def _wait(socket: int, events: int) -> None:
    """Until the socket is ready (poll: select() fails on descriptors above 1023)."""
    poller = select.poll()
    poller.register(socket, events)
    poller.poll()


class SentAhead:
    """One single-value statement sent on a psycopg connection at once, its answer read
    later: its round trip (the server wakes, answers, and the client wakes: 0.3-1 ms under
    load) overlaps the work done in between. Nothing else may run on the connection until
    :meth:`value` has read the answer; leaving the block reads it in any case, so the
    connection goes back to its pool clean.

    psycopg has no call that sends a statement without waiting for it (its pipeline mode
    sends the statement, but the server keeps the answer until the pipeline syncs), so
    this uses libpq's calls as :mod:`psycopg.pq` exposes them.
    """

    def __init__(self, connection: psycopg.Connection[Any], sql: str) -> None:
        self._pgconn = connection.pgconn
        self._sql = sql.encode()
        self._pending = False
        self._value: bytes | None = None

    def __enter__(self) -> SentAhead:
        pgconn = self._pgconn
        pgconn.send_query_params(self._sql, None)
        self._pending = True
        while pgconn.flush():  # psycopg's connections do not block: send the rest
            _wait(pgconn.socket, select.POLLOUT)
        return self

    def value(self) -> bytes | None:
        """The first column of the first row (text), ``None`` without a row. A failed
        statement raises the psycopg error of its SQLSTATE."""
        if not self._pending:
            return self._value
        self._pending = False
        pgconn = self._pgconn
        pgconn.consume_input()
        while pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        results = []
        while (result := pgconn.get_result()) is not None:
            results.append(result)
        for result in results:
            if result.status != pq.ExecStatus.TUPLES_OK:
                state = result.error_field(pq.DiagnosticField.SQLSTATE)
                error = psycopg.errors.lookup(state.decode()) if state else psycopg.DatabaseError
                raise error(result.get_error_message())
        if results and results[0].ntuples:
            self._value = results[0].get_value(0, 0)
        return self._value

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.value()
            return
        # Read the answer away; the error that left the block is the one to raise.
        with suppress(psycopg.Error):
            self.value()


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session in one transaction, for commands: commit on success, else roll back."""
    app = app or current_app
    get_engine(app)
    factory: sessionmaker[Session] = app.extensions["mapservice.sessionmaker"]
    with factory() as session, session.begin():
        yield session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except (DBAPIError, psycopg.Error):
        # The connection died under the request (which answered 503 already): drop it
        # rather than fail after the answer; the pool connects anew.
        session.invalidate()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_session)
