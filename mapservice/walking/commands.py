"""CLI commands of the walking engine.

``mapservice import-network FILE.osm.pbf [--name NAME] [--bbox W,S,E,N]``
    Import (or atomically replace) a walking network, then refresh the reach times.
``mapservice refresh-reach [--stale-only]``
    Recompute where the sites meet the networks (per profile) after sites or profiles changed.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from mapservice import db
from mapservice.validation import ParameterError, parse_bbox
from mapservice.walking.precompute import refresh_reach, refresh_stale_reach
from mapservice.walking.profiles import settings_from_config
from mapservice.walking.store import import_network


@click.command("import-network")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Network name (default: from the file name). Same name replaces.")
@click.option(
    "--bbox",
    metavar="W,S,E,N",
    help="Only ways with a node in this box (WGS84 degrees), e.g. a city out of a region.",
)
@with_appcontext
def import_network_command(file: Path, name: str | None, bbox: str | None) -> None:
    """Import the walkable ways of an OpenStreetMap extract (.osm.pbf)."""
    settings = settings_from_config(current_app.config)
    try:
        within = parse_bbox({"bbox": bbox or ""})
    except ParameterError as error:
        raise click.BadParameter(error.message, param_hint="--bbox") from error
    try:
        with db.session_scope() as session:
            summary = import_network(session, file, name, settings, within=within, progress=True)
    except (ValueError, RuntimeError) as error:
        raise click.ClickException(f"{file.name}: {error}; nothing was changed") from error
    click.echo(f"Imported {summary}.")


@click.command("refresh-reach")
@click.option("--stale-only", is_flag=True, help="Only sites that are new or changed.")
@with_appcontext
def refresh_reach_command(stale_only: bool) -> None:
    """Recompute walking times from every site (after sites or walking settings change)."""
    settings = settings_from_config(current_app.config)
    with db.session_scope() as session:
        if stale_only:
            summary = refresh_stale_reach(session, settings, progress=True)
        else:
            summary = refresh_reach(session, settings, progress=True)
    click.echo(str(summary) if summary else "Nothing was stale.")


commands: list[click.Command] = [import_network_command, refresh_reach_command]
