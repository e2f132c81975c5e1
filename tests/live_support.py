"""A live server in a thread and a second connection that makes the database fail
(imported by the fault, OGC client and browser tests)."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy import URL, Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """No request lines in the logs: they would hold the family's place."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def share_engine(app: Flask, engine: Engine) -> None:
    """Let ``app`` use the test session's engine for its sessions, the read-only ones too."""
    app.extensions["mapservice.engine"] = engine
    app.extensions["mapservice.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["mapservice.read_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def driver_url(url: URL) -> str:
    """A SQLAlchemy URL for psycopg itself (libpq)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def controller(engine: Engine, database: str | None = None) -> psycopg.Connection[Any]:
    """A connection of the test's own, in autocommit, to break the app's connections
    (to another database of the cluster if asked: one cannot lock oneself out)."""
    url = engine.url.set(database=database) if database else engine.url
    return psycopg.connect(driver_url(url), autocommit=True)


def terminate(conn: psycopg.Connection[Any], application_name: str) -> int:
    """Cut every backend of ``application_name`` (as a crash or restart would)."""
    row = conn.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = %s AND pid <> pg_backend_pid()",
        (application_name,),
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Answer:
    started: float
    url: str
    status: int
    content_type: str
    retry_after: str | None
    body: bytes


@dataclass
class Traffic:
    """Clients requesting ``urls`` in a loop until stopped; every answer is kept."""

    base_url: str
    urls: list[str]
    clients: int = 4
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _run(self, offset: int) -> None:
        i = offset
        while not self._stop.is_set():
            url = self.urls[i % len(self.urls)]
            i += 1
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.base_url + url, timeout=10) as response:
                    answer = Answer(
                        started,
                        url,
                        response.status,
                        response.headers.get("Content-Type", ""),
                        response.headers.get("Retry-After"),
                        response.read(),
                    )
            except urllib.error.HTTPError as error:
                answer = Answer(
                    started,
                    url,
                    error.code,
                    error.headers.get("Content-Type", ""),
                    error.headers.get("Retry-After"),
                    error.read(),
                )
            except OSError as error:  # a timeout or a refused connection: never expected
                answer = Answer(started, url, 0, "", None, repr(error).encode())
            self.answers.append(answer)

    def __enter__(self) -> Traffic:
        for n in range(self.clients):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
