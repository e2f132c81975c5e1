"""editing: editor and provider roles, revisions, providers' proposals, API tokens

Revision ID: 0009
Revises: 0007 (on the editing branch; the lead re-chains it after 0008 at merge)

* ``app_user.role`` also ``editor`` and ``provider``; a provider account is bound to one
  provider (``app_user.provider_id``), and only a provider account is.
* ``provider.trusted``: the provider's own changes go live without review.
* ``offer.no_school_holidays``: the offer does not take place during NRW school holidays.
* ``revision``: every change to an offer, site or provider (form, API or import).
* ``proposal``: what a provider account saved, waiting for an editor.
* ``api_token``: per-account bearer tokens, stored as SHA-256 digests.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("planner", "outreach", "admin")
NEW_ROLES = ("planner", "outreach", "admin", "editor", "provider")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.drop_constraint("app_user_role", "app_user", type_="check")
    op.create_check_constraint("app_user_role", "app_user", _in("role", NEW_ROLES))
    op.add_column(
        "app_user",
        sa.Column("provider_id", sa.Integer, sa.ForeignKey("provider.id", ondelete="RESTRICT")),
    )
    op.create_check_constraint(
        "app_user_provider_binding", "app_user", "(role = 'provider') = (provider_id IS NOT NULL)"
    )
    op.add_column(
        "provider", sa.Column("trusted", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "offer",
        sa.Column("no_school_holidays", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "revision",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("entity", sa.String(10), nullable=False),
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("changes", JSONB, nullable=False),
        sa.CheckConstraint(_in("entity", ("offer", "site", "provider")), name="revision_entity"),
        sa.CheckConstraint(
            _in("action", ("create", "update", "delete", "restore")), name="revision_action"
        ),
    )
    op.create_index("ix_revision_entity", "revision", ["entity", "entity_id", "id"])
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("offer_id", sa.Integer, sa.ForeignKey("offer.id", ondelete="CASCADE")),
        sa.Column(
            "provider_id",
            sa.Integer,
            sa.ForeignKey("provider.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("base_etag", sa.String(64)),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("reason", sa.Text),
        sa.Column("decided_by", sa.String(300)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            _in("status", ("pending", "approved", "declined")), name="proposal_status"
        ),
        sa.CheckConstraint(
            "status <> 'declined' OR reason IS NOT NULL", name="proposal_declined_reason"
        ),
    )
    op.create_index("ix_proposal_status", "proposal", ["status"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("api_token")
    op.drop_index("ix_proposal_status", "proposal")
    op.drop_table("proposal")
    op.drop_index("ix_revision_entity", "revision")
    op.drop_table("revision")
    op.drop_column("offer", "no_school_holidays")
    op.drop_column("provider", "trusted")
    op.drop_constraint("app_user_provider_binding", "app_user", type_="check")
    op.drop_column("app_user", "provider_id")
    op.execute("DELETE FROM app_user WHERE role IN ('editor', 'provider')")
    op.drop_constraint("app_user_role", "app_user", type_="check")
    op.create_check_constraint("app_user_role", "app_user", _in("role", OLD_ROLES))
