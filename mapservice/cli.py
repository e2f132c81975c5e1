"""Command line: ``mapservice …`` (or ``flask --app mapservice …``).

Each domain package contributes its commands in a ``commands`` module; this
module only collects them and adds the service-level ones.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from mapservice import db
from mapservice.editing import commands as editing_commands
from mapservice.importers import commands as import_commands
from mapservice.importers.default_data import load_default_data_if_empty
from mapservice.pgcluster import local_cluster
from mapservice.planning import commands as planning_commands
from mapservice.serving import server
from mapservice.serving.settings import connections_needed, server_settings
from mapservice.walking import commands as walking_commands
from mapservice.walking.profiles import settings_from_config


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the schema (starts the private cluster if needed)."""
    db.migrate(db.get_engine())
    click.echo("Schema is up to date.")


@click.group("cluster")
def cluster_group() -> None:
    """The private PostgreSQL cluster (used when MAPSERVICE_DATABASE_URL is not set)."""


@cluster_group.command("start")
def cluster_start() -> None:
    cluster = local_cluster()
    cluster.start()
    click.echo(f"Running in {cluster.root}")


@cluster_group.command("stop")
def cluster_stop() -> None:
    local_cluster().stop()
    click.echo("Stopped.")


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on [MAPSERVICE_BIND: 127.0.0.1:5000]")
@click.option("--port", default=None, type=int, help="Port to listen on [5000]")
@click.option("--workers", default=None, type=int, help="Processes [MAPSERVICE_WORKERS: cores+1]")
@click.option("--threads", default=None, type=int, help="Threads each [MAPSERVICE_THREADS: 4]")
@with_appcontext
def serve_command(
    host: str | None, port: int | None, workers: int | None, threads: int | None
) -> None:
    """Migrate, load the bundled data into an empty database, and serve with gunicorn."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = db.get_engine()
    db.migrate(engine)
    with db.session_scope() as session:
        summary = load_default_data_if_empty(
            session,
            app.config["DATA_DIR"],
            walk_settings=settings_from_config(app.config),
            all_city=bool(app.config["ALL_CITY"]),
        )
    if summary:
        click.echo(summary)
    # The workers reach the same database without starting the cluster again.
    url = engine.url.render_as_string(hide_password=False)
    allowed = db.connection_limit(engine)
    db.dispose_engines(app)
    settings = server_settings(app.config, host=host, port=port, workers=workers, threads=threads)
    # Each worker's pools hold one connection per thread (unless DB_POOL_SIZE says otherwise).
    worker_config = {"DATABASE_URL": url, "THREADS": settings.threads}
    pool = db.PoolSettings.from_config({**app.config, **worker_config})
    click.echo(
        f"Serving on http://{settings.bind}/ with {settings.workers} processes x "
        f"{settings.threads} threads (Ctrl+C stops)"
    )
    needed = connections_needed(settings, pool.per_engine, db.ENGINES_PER_PROCESS)
    if needed > allowed:
        click.echo(
            f"Warning: the workers may open {needed} database connections, the database "
            f"allows {allowed}: lower MAPSERVICE_WORKERS, MAPSERVICE_THREADS, "
            "MAPSERVICE_DB_POOL_SIZE or MAPSERVICE_DB_MAX_OVERFLOW, or raise max_connections",
            err=True,
        )
    from mapservice import create_app  # the package imports this module

    server.serve(lambda: create_app(worker_config), settings)


def init_app(app: Flask) -> None:
    for command in (init_db_command, cluster_group, serve_command):
        app.cli.add_command(command)
    for module in (import_commands, walking_commands, planning_commands, editing_commands):
        for command in module.commands:
            app.cli.add_command(command)
