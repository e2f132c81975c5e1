"""CLI commands of the importers."""

from __future__ import annotations

import click

commands: list[click.Command] = []
