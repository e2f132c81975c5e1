"""CLI commands for planners and user accounts."""

from __future__ import annotations

import click

commands: list[click.Command] = []
