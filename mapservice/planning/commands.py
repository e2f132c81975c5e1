"""CLI commands for planners and user accounts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from mapservice.auth import AccountError, create_user
from mapservice.db import session_scope
from mapservice.editing.accounts import find_provider
from mapservice.models import USER_ROLES
from mapservice.planning import compare
from mapservice.planning.build import planning_base
from mapservice.planning.demand import CensusFormatError, import_census_csv
from mapservice.planning.report import indicator_rows
from mapservice.planning.results import coverage_result
from mapservice.validation import ParameterError
from mapservice.walking.profiles import settings_from_config


@click.command("add-user")
@click.argument("email")
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@click.option("--provider", "provider_ref", help="Provider (name or id) of a provider account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def add_user_command(email: str, role: str, provider_ref: str | None, password_stdin: bool) -> None:
    """Create an account (the password is prompted for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            provider = find_provider(session, provider_ref) if provider_ref else None
            if provider_ref and provider is None:
                raise AccountError(f"no provider named or numbered {provider_ref!r}")
            user = create_user(session, email, password, role, provider)
            bound = f" for {provider.name}" if provider is not None else ""
            click.echo(f"Account {user.id} created with role {role}{bound}.")
    except AccountError as error:
        raise click.ClickException(str(error)) from None


@click.command("import-census")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, help="Name of the census dataset (replaced if present).")
@with_appcontext
def import_census_command(csv_file: Path, dataset: str) -> None:
    """Import a census 100 m grid with children by age (see mapservice/planning/demand.py)."""
    try:
        with session_scope() as session:
            result = import_census_csv(session, csv_file.read_text(encoding="utf-8-sig"), dataset)
    except (CensusFormatError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{csv_file.name}: {error}") from None
    click.echo(
        f"{result.rows} census cells as {result.cells} grid cells, {result.children:.0f} children"
        f" ({result.suppressed_values} suppressed values counted as 0)."
    )


@click.command("coverage")
@click.option("--area", default="quarter", show_default=True)
@click.option("--profile", default="adult", show_default=True)
@click.option(
    "--compare-estimate",
    is_flag=True,
    help="Also compute the straight-line estimate and show what routing changes.",
)
@with_appcontext
def coverage_command(area: str, profile: str, compare_estimate: bool) -> None:
    """Print the share of children within 5/10/15 minutes per phase and category."""
    settings = settings_from_config(current_app.config)
    if compare_estimate:
        try:
            with session_scope() as session:
                comparison = compare.compare_estimate(session, area, settings, profile)
        except ParameterError as error:
            raise click.ClickException(str(error)) from None
        _print_comparison(comparison)
        return
    try:
        with session_scope() as session:
            result = coverage_result(planning_base(session, area, settings, profile))
    except ParameterError as error:
        raise click.ClickException(str(error)) from None
    base = result.base
    click.echo(
        f"{base.area_name}: {len(base.grid)} cells, {int(base.estimated_cells.sum())} estimated"
        f" (no walking network), {base.demand.sum():.0f} children 0-10; demand: "
        f"{base.demand_source}"
    )
    click.echo("phase  category               children   ≤5 min  ≤10 min  ≤15 min  est.")
    for row in indicator_rows(result):
        shares = "  ".join(
            "    –  " if value is None else f"{value * 100:6.1f}%" for value in row["shares"]
        )
        click.echo(
            f"{row['phase']:5}  {row['category']:22} {row['children']:8.0f}  {shares}"
            f"  {row['estimated_share'] * 100:3.0f}%"
        )


def _print_comparison(comparison: compare.Comparison) -> None:
    click.echo(
        f"{comparison.area_name}: {comparison.cells} cells, {comparison.routed_cells} on a "
        f"walking network; {comparison.changed_cells} cells whose nearest offer (of any phase "
        f"and category) is more than {compare.CHANGE_MIN:g} minutes nearer or farther when routed"
    )
    click.echo(
        "phase  category               children   estimated ≤5/10/15 min    "
        "routed ≤5/10/15 min  cells >5 min"
    )

    def shares(values: tuple[float | None, ...]) -> str:
        return " ".join("   –  " if v is None else f"{v * 100:5.1f}%" for v in values)

    for row in comparison.combos:
        click.echo(
            f"{row.phase:5}  {row.category:22} {row.children:8.0f}   "
            f"{shares(row.estimated_shares)}   {shares(row.routed_shares)}  "
            f"{row.changed_cells:6d}"
        )


commands: list[click.Command] = [add_user_command, import_census_command, coverage_command]
