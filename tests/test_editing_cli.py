"""Command line: provider accounts bound to a provider; API tokens made, used and revoked."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.editing import revisions
from mapservice.models import Offer, Provider, User

PASSWORD = "correct horse battery\n"


def test_add_provider_account_by_name(app: Flask, db_session: Session) -> None:
    provider = db_session.scalar(select(Provider).order_by(Provider.id).limit(1))
    assert provider is not None
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "add-user",
            "p@example.org",
            "--role",
            "provider",
            "--provider",
            provider.name,
            "--password-stdin",
        ],
        input=PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert provider.name in result.output
    user = db_session.scalar(select(User).where(User.email == "p@example.org"))
    assert user is not None and user.provider_id == provider.id
    missing = runner.invoke(
        args=["add-user", "q@example.org", "--role", "provider", "--password-stdin"], input=PASSWORD
    )
    assert missing.exit_code != 0 and "provider" in missing.output
    unknown = runner.invoke(
        args=[
            "add-user",
            "r@example.org",
            "--role",
            "provider",
            "--provider",
            "Niemand e.V.",
            "--password-stdin",
        ],
        input=PASSWORD,
    )
    assert unknown.exit_code != 0 and "Niemand" in unknown.output


def test_token_printed_once_then_revoked(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    runner = app.test_cli_runner()
    runner.invoke(
        args=["add-user", "e@example.org", "--role", "editor", "--password-stdin"], input=PASSWORD
    )
    made = runner.invoke(args=["create-token", "e@example.org"])
    assert made.exit_code == 0
    token = made.output.strip()
    offer = db_session.scalar(select(Offer).order_by(Offer.id).limit(1))
    assert offer is not None
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/offers/{offer.id}/history", headers=headers).status_code == 200
    revoked = runner.invoke(args=["revoke-token", "e@example.org"])
    assert "1 token(s) revoked" in revoked.output
    assert client.get(f"/api/offers/{offer.id}/history", headers=headers).status_code == 401


def test_admin_status_change_is_a_revision(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    from accounts import sign_in, token_from

    from mapservice.auth import create_user

    create_user(db_session, "admin@example.org", PASSWORD.strip(), "admin")
    offer = db_session.scalar(select(Offer).where(Offer.status == "active").limit(1))
    assert offer is not None
    offer.last_verified = dt.date(2025, 1, 1)
    db_session.commit()
    sign_in(client, "admin@example.org")
    page = client.get("/admin/").get_data(as_text=True)
    client.post(
        f"/admin/offers/{offer.id}/status",
        data={"csrf_token": token_from(page), "new_status": "paused"},
    )
    db_session.expire_all()
    latest = revisions.history(db_session, "offer", offer.id)[0]
    assert latest.author == "admin@example.org"
    assert latest.changes == {"status": ["active", "paused"]}  # a status change is no check
