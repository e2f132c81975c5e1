"""CLI commands of the importers: ``import-opendata``, ``import-catalogue``, ``import``,
``export``, ``load-default-data``.

A bad source prints one line per bad row to stderr (``row 3: lat 200 is outside
-90..90``) and exits with status 1; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from mapservice.db import session_scope
from mapservice.importers.catalogue import DEFAULT_CATALOGUE, import_catalogue
from mapservice.importers.default_data import load_default_data
from mapservice.importers.exchange.export import export_file
from mapservice.importers.exchange.format import FORMATS
from mapservice.importers.exchange.read import import_file
from mapservice.importers.opendata import import_opendata
from mapservice.importers.records import ImportFailed
from mapservice.walking.precompute import refresh_stale_reach
from mapservice.walking.profiles import settings_from_config


def _reports_row_errors(function: Callable[..., None]) -> Callable[..., None]:
    """Turn :class:`ImportFailed` into one stderr line per bad row and exit status 1."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            function(*args, **kwargs)
        except ImportFailed as exc:
            for error in exc.errors:
                click.echo(str(error), err=True)
            click.echo(
                f"Import failed: {len(exc.errors)} bad row(s); nothing was written.", err=True
            )
            raise SystemExit(1) from None

    return wrapper


def _progress() -> bool:
    return not current_app.testing


def _refresh_walking_times(session: Session) -> str:
    """Keep precomputed walking times in step with the sites, in the same transaction."""
    refreshed = refresh_stale_reach(
        session, settings_from_config(current_app.config), progress=_progress()
    )
    return "" if refreshed is None else f"\nWalking times refreshed: {refreshed}."


@click.command("import-opendata")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding dortmund-opendata/ (default: the configured DATA_DIR).",
)
@click.option("--all-city", is_flag=True, help="Import all of Dortmund, not only Innenstadt-Nord.")
@with_appcontext
@_reports_row_errors
def import_opendata_command(data_dir: Path | None, all_city: bool) -> None:
    """Import the City of Dortmund's open data (sites, offers, sub-districts, quarter)."""
    folder = data_dir or Path(current_app.config["DATA_DIR"])
    with session_scope() as session:
        counts = import_opendata(session, folder, all_city=all_city, progress=_progress())
        walking = _refresh_walking_times(session)
    click.echo(f"Open data imported: {counts.summary()}.{walking}")


@click.command("import-catalogue")
@click.argument(
    "file", required=False, type=click.Path(dir_okay=False, path_type=Path), default=None
)
@with_appcontext
@_reports_row_errors
def import_catalogue_command(file: Path | None) -> None:
    """Import the network's offer catalogue (default: data/infamilie-offers.toml)."""
    with session_scope() as session:
        counts = import_catalogue(session, file or DEFAULT_CATALOGUE, progress=_progress())
        walking = _refresh_walking_times(session)
    click.echo(f"Catalogue imported: {counts.summary()}.{walking}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the extension.")
@with_appcontext
@_reports_row_errors
def import_command(file: Path, fmt: str | None) -> None:
    """Import sites and offers from a GeoJSON or CSV file in the exchange format."""
    try:
        with session_scope() as session:
            counts = import_file(session, file, fmt, progress=_progress())
            walking = _refresh_walking_times(session)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Imported {file.name}: {counts.summary()}.{walking}")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the extension.")
@with_appcontext
def export_command(file: Path, fmt: str | None) -> None:
    """Export all sites and offers to a GeoJSON or CSV file (readable by ``import``)."""
    try:
        with session_scope() as session:
            count = export_file(session, file, fmt, progress=_progress())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Exported {count} records to {file}.")


@click.command("load-default-data")
@click.option(
    "--all-city",
    is_flag=True,
    help="All of Dortmund (open data and walking network), not only Innenstadt-Nord; "
    "default: the ALL_CITY setting.",
)
@with_appcontext
@_reports_row_errors
def load_default_data_command(all_city: bool) -> None:
    """Load the bundled data: open data of Innenstadt-Nord, sub-districts, quarter, catalogue,
    the Dortmund walking network around them and the Witten-Stockum network."""
    with session_scope() as session:
        summary = load_default_data(
            session,
            current_app.config["DATA_DIR"],
            progress=_progress(),
            walk_settings=settings_from_config(current_app.config),
            all_city=all_city or bool(current_app.config["ALL_CITY"]),
        )
    click.echo(summary)


commands: list[click.Command] = [
    import_opendata_command,
    import_catalogue_command,
    import_command,
    export_command,
    load_default_data_command,
]
