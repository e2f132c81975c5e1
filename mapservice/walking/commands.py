"""CLI commands of the walking engine."""

from __future__ import annotations

import click

commands: list[click.Command] = []
