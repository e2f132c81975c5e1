"""walking engine: pgRouting, where sites meet the network, site_reach by site

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pgRouting is the independent router of the correctness test and the benchmark's
    # baseline; the service itself does not need it (the postgis/postgis image lacks it).
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting') THEN
                CREATE EXTENSION IF NOT EXISTS pgrouting;
            END IF;
        END $$
        """
    )
    op.create_table(
        "walk_site_snap",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=20), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=True),
        sa.Column("edge_id", sa.BigInteger(), nullable=True),
        sa.Column("fraction", sa.Float(), nullable=True),
        sa.Column("snap_m", sa.Float(), nullable=True),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["network_id"], ["walk_network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id", "profile"),
    )
    op.create_index("ix_walk_site_snap_edge", "walk_site_snap", ["profile", "edge_id"])
    op.create_index("ix_site_reach_site_id", "site_reach", ["site_id"])
    # Whether a route may start on the edge (allowed, not on a cut-off fragment), per step
    # rule: lets a reach request snap and look up in one statement.
    for column in ("usable_steps", "usable_nosteps"):
        op.add_column(
            "walk_edge",
            sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.true()),
        )


def downgrade() -> None:
    op.drop_column("walk_edge", "usable_nosteps")
    op.drop_column("walk_edge", "usable_steps")
    op.drop_index("ix_site_reach_site_id", table_name="site_reach")
    op.drop_index("ix_walk_site_snap_edge", table_name="walk_site_snap")
    op.drop_table("walk_site_snap")
