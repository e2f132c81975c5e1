"""Command line: ``mapservice …`` (or ``flask --app mapservice …``).

Each domain package contributes its commands in a ``commands`` module; this
module only collects them and adds the service-level ones.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from waitress import serve

from mapservice import db
from mapservice.editing import commands as editing_commands
from mapservice.importers import commands as import_commands
from mapservice.importers.default_data import load_default_data_if_empty
from mapservice.pgcluster import local_cluster
from mapservice.planning import commands as planning_commands
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Migrate, load the bundled data into an empty database, and serve."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db.migrate(db.get_engine())
    with db.session_scope() as session:
        summary = load_default_data_if_empty(
            session,
            app.config["DATA_DIR"],
            walk_settings=settings_from_config(app.config),
            all_city=bool(app.config["ALL_CITY"]),
        )
    if summary:
        click.echo(summary)
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C stops)")
    serve(app, host=host, port=port, threads=threads, ident="mapservice")


def init_app(app: Flask) -> None:
    for command in (init_db_command, cluster_group, serve_command):
        app.cli.add_command(command)
    for module in (import_commands, walking_commands, planning_commands, editing_commands):
        for command in module.commands:
            app.cli.add_command(command)
