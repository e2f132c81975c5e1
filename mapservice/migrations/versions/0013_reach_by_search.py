"""reach by search: no per-node walking times; site snaps and networks bump the data version

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

``site_reach`` held the walking seconds from every site to every node within 30 minutes
(2 million rows for Innenstadt-Nord, about 20 million for the whole city; 10-15 s to
write). A reach request now runs one bounded graph search from its point in the worker's
memory and reads the sites' times off at their snapped edges (``walk_site_snap``), so the
table goes. The worker keys what it holds of the snaps by the data version, so writing
``walk_site_snap`` or ``walk_network`` (an import) now bumps it, like an offer does.
The downgrade brings back an empty ``site_reach``: run ``mapservice refresh-reach`` with
the older code to fill it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("walk_site_snap", "walk_network")


def upgrade() -> None:
    op.drop_table("site_reach")
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bumps_data_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_bumps_data_version ON {table}")
    op.create_table(
        "site_reach",
        sa.Column("profile", sa.String(length=20), nullable=False),
        sa.Column("node_id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("profile", "node_id", "site_id"),
    )
    op.create_index("ix_site_reach_site_id", "site_reach", ["site_id"])
