"""street index: every named street of the walking networks, for address search

Revision ID: 0012
Revises: 0011

One row per street name and connected stretch of a network, with its lines (EPSG:25832), a
point on it nearest its centre, and the folded name under a pg_trgm index; filled here for
the networks already imported, and by every import from now on
(:mod:`mapservice.walking.streets`).

For a search that stays a few milliseconds, nothing is folded while searching: the address
points, sites and areas get their folded text as stored generated columns under pg_trgm
indexes. A street is found by its *core* (``mapservice_street_core``: the folded name
without "strasse", "weg", "platz", …), since every other street shares the trigrams of
"strasse". fuzzystrmatch gives the edit distance that tells a typo from another street.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same statement an import runs (kept here verbatim: a migration must not follow later
# changes of the application code). ``:network_id`` names the network.
STREET_INDEX_SQL = """
WITH named AS (
    SELECT e.name, e.geom,
           ST_ClusterDBSCAN(e.geom, eps := 250.0, minpoints := 1)
               OVER (PARTITION BY e.name) AS stretch
    FROM walk_edge e
    WHERE e.network_id = :network_id AND e.name IS NOT NULL AND btrim(e.name) <> ''
),
stretches AS (
    SELECT name, ST_Multi(ST_Collect(geom)) AS geom
    FROM named
    GROUP BY name, stretch
)
INSERT INTO walk_street (network_id, name, place, length_m, geom, point)
SELECT :network_id, st.name,
       coalesce((SELECT a.name FROM area a
                 WHERE a.kind = 'subdistrict' AND ST_Intersects(a.geom, p.point)
                 ORDER BY a.id LIMIT 1),
                (SELECT initcap(n.name) FROM walk_network n WHERE n.id = :network_id)),
       ST_Length(st.geom), st.geom, p.point
FROM stretches st
CROSS JOIN LATERAL (
    SELECT ST_Transform(ST_ClosestPoint(st.geom, ST_Centroid(st.geom)), 4326) AS point
) p
WHERE mapservice_fold(st.name) <> ''
"""


# The distinctive part of a folded street name: the generic kind of street at its end goes
# ("schleswiger strasse" -> "schleswiger", "missundestrasse" -> "missunde"); a name that is
# nothing else ("ring") stays whole.
CORE_SQL = r"""
CREATE OR REPLACE FUNCTION mapservice_street_core(folded text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(btrim(regexp_replace(coalesce(folded, ''),
    '(strasse|weg|platz|allee|gasse|ring|ufer|damm|pfad)$', '')), ''), coalesce(folded, ''))
$$
"""

# Stored generated columns (table, column, expression) and their indexes (method, operator
# class): the streets' cores and the names of sites and areas are searched nearest first
# (GiST, ``<->``: the few most similar without computing the similarity of every row), the
# streets' folded names by equality, the streets of addresses through GIN with a threshold
# (``%``) next to the house number.
FOLDED_COLUMNS = (
    ("walk_street", "folded", "mapservice_fold(name)", "btree", ""),
    (
        "walk_street",
        "core",
        "mapservice_street_core(mapservice_fold(name))",
        "gist",
        "gist_trgm_ops",
    ),
    (
        "address_point",
        "street_core",
        "mapservice_street_core(mapservice_fold(street))",
        "gin",
        "gin_trgm_ops",
    ),
    ("site", "name_folded", "mapservice_fold(name)", "gist", "gist_trgm_ops"),
    (
        "site",
        "street_core",
        "mapservice_street_core(mapservice_fold(coalesce(street, '')))",
        "gin",
        "gin_trgm_ops",
    ),
    ("area", "name_folded", "mapservice_fold(name)", "gist", "gist_trgm_ops"),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch SCHEMA public")
    op.execute(CORE_SQL)
    op.create_geospatial_table(
        "walk_street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=25832,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "point",
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
        sa.ForeignKeyConstraint(["network_id"], ["walk_network.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_walk_street_network_id", "walk_street", ["network_id"])
    op.create_geospatial_index(
        "idx_walk_street_geom",
        "walk_street",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    for table, column, expression, method, opclass in FOLDED_COLUMNS:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} text "
            f"GENERATED ALWAYS AS ({expression}) STORED NOT NULL"
        )
        op.execute(
            f"CREATE INDEX ix_{table}_{column} ON {table} USING {method} ({column} {opclass})"
        )
    connection = op.get_bind()
    for (network_id,) in connection.execute(sa.text("SELECT id FROM walk_network")):
        connection.execute(sa.text(STREET_INDEX_SQL), {"network_id": network_id})


def downgrade() -> None:
    for table, column, *_rest in FOLDED_COLUMNS:
        if table != "walk_street":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")
    op.drop_geospatial_index(
        "idx_walk_street_geom",
        table_name="walk_street",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_index("ix_walk_street_network_id", table_name="walk_street")
    op.drop_geospatial_table("walk_street")
    op.execute("DROP FUNCTION IF EXISTS mapservice_street_core(text)")
    op.execute("DROP EXTENSION IF EXISTS fuzzystrmatch")
