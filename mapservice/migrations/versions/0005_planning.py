"""planners: user accounts, scenarios with hypothetical offers, census grid cells

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = (
    "welcome_visit",
    "baby_parent_meetup",
    "day_care",
    "kinderstube",
    "parents_cafe",
    "parent_seminar",
    "language_support",
    "individual_support",
    "primary_school_ogs",
    "youth_centre",
    "playground",
    "further_help",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(_in("role", ("planner", "outreach", "admin")), name="app_user_role"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "planning_scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_key", sa.String(length=80), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "name", name="planning_scenario_owner_name"),
    )
    op.create_index("ix_planning_scenario_owner_id", "planning_scenario", ["owner_id"])
    op.create_table(
        "planning_hypothetical_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("replaces_offer_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("age_min_months", sa.SmallInteger(), nullable=False),
        sa.Column("age_max_months", sa.SmallInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.CheckConstraint(_in("action", ("add", "move", "remove")), name="hypothetical_action"),
        sa.CheckConstraint(_in("category", CATEGORIES), name="hypothetical_category"),
        sa.CheckConstraint(
            "age_min_months >= 0 AND age_max_months <= 216 AND age_min_months < age_max_months",
            name="hypothetical_age_range",
        ),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="hypothetical_capacity"),
        sa.CheckConstraint(
            "(action = 'remove') = (geom IS NULL)", name="hypothetical_geom_unless_removed"
        ),
        sa.CheckConstraint(
            "(action = 'add') = (replaces_offer_id IS NULL)", name="hypothetical_replaces"
        ),
        sa.ForeignKeyConstraint(["scenario_id"], ["planning_scenario.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["replaces_offer_id"], ["offer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_planning_hypothetical_offer_scenario_id", "planning_hypothetical_offer", ["scenario_id"]
    )
    op.create_table(
        "planning_census_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=60), nullable=False),
        sa.Column("cell_e", sa.Integer(), nullable=False),
        sa.Column("cell_n", sa.Integer(), nullable=False),
        sa.Column("age_0_2", sa.Float(), nullable=False),
        sa.Column("age_2_4", sa.Float(), nullable=False),
        sa.Column("age_4_6", sa.Float(), nullable=False),
        sa.Column("age_6_10", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "cell_e", "cell_n", name="planning_census_cell_key"),
    )
    op.create_index("ix_planning_census_cell_en", "planning_census_cell", ["cell_e", "cell_n"])


def downgrade() -> None:
    op.drop_table("planning_census_cell")
    op.drop_table("planning_hypothetical_offer")
    op.drop_index("ix_planning_scenario_owner_id", table_name="planning_scenario")
    op.drop_table("planning_scenario")
    op.drop_table("app_user")
