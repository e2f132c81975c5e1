"""address search: unaccent, a folding function for fuzzy matching, OSM address points

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Folds text for typo-tolerant matching: lower case, ß -> ss, accents and umlauts dropped
# (unaccent), and the spelled-out umlauts ae/oe/ue folded the same way, so "Münsterstraße",
# "Muensterstrasse" and "Munsterstr." all meet. unaccent() itself is only STABLE (its
# dictionary could change); naming the dictionary makes the wrapper safe to index.
FOLD_SQL = r"""
CREATE OR REPLACE FUNCTION mapservice_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    public.unaccent('public.unaccent'::regdictionary,
                    replace(replace(lower(coalesce(value, '')), 'ß', 'ss'), 'ẞ', 'ss')),
    'ae', 'a', 'g'), 'oe', 'o', 'g'), 'ue', 'u', 'g'),
    'str(\.|\M)', 'strasse', 'g'), '[\s,.;:/()"''-]+', ' ', 'g'))
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(FOLD_SQL)
    op.create_geospatial_table(
        "address_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("house_number", sa.String(length=20), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source_dataset", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_dataset", "source_id", name="address_point_source"),
    )
    op.create_geospatial_index(
        "idx_address_point_geom",
        "address_point",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.execute(
        "CREATE INDEX ix_address_point_fold ON address_point "
        "USING gin (mapservice_fold(street || ' ' || coalesce(house_number, '')) gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_address_point_fold")
    op.drop_geospatial_index(
        "idx_address_point_geom",
        table_name="address_point",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("address_point")
    op.execute("DROP FUNCTION IF EXISTS mapservice_fold(text)")
