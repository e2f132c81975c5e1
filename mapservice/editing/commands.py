"""CLI: API tokens of accounts (``mapservice create-token EMAIL``, ``revoke-token EMAIL``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.db import session_scope
from mapservice.editing.tokens import create_token, revoke_tokens
from mapservice.models import User


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account {email!r}")
    return user


@click.command("create-token")
@click.argument("email")
@with_appcontext
def create_token_command(email: str) -> None:
    """Make an API token for an account and print it (shown this once; stored hashed)."""
    with session_scope() as session:
        token = create_token(session, _user(session, email))
    click.echo(token)


@click.command("revoke-token")
@click.argument("email")
@with_appcontext
def revoke_token_command(email: str) -> None:
    """Revoke every API token of an account."""
    with session_scope() as session:
        count = revoke_tokens(session, _user(session, email))
    click.echo(f"{count} token(s) revoked.")


commands: list[click.Command] = [create_token_command, revoke_token_command]
