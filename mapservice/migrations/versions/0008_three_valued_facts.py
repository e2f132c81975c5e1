"""three-valued facts: cost and registration may be not known (NULL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

Until now the importers wrote "free" and "no registration" where a source said nothing,
and every OpenStreetMap place got "German" as its language. This revision makes
``offer.cost_free`` and ``offer.registration_required`` nullable (NULL = not known) and
adds ``offer.taxonomy_facts``: the fields whose value is a general rule of the category in
NRW (``data/taxonomy.toml``), not the source's statement.

Existing rows are migrated without losing anything a source said:

* the city's open data (``dortmund-opendata/*``) states neither cost nor registration:
  both become NULL;
* OpenStreetMap places (``osm:*``): ``cost_free = false`` came from ``fee=yes`` and stays;
  ``true`` may have come from ``fee=no`` or from nothing, so it becomes NULL (the next
  import of the extract sets it again where ``fee=no`` is tagged); registration becomes
  NULL; the invented language list ``{de}`` becomes empty (= not known);
* the network's catalogue and exchange imports stated their values: they stay;
* then the taxonomy's facts of this revision are applied to the rows just cleared (a
  frozen copy of ``data/taxonomy.toml`` as of 0008, so that this migration does the same
  whenever it runs): a day-care place and a primary school place need registration, as
  does a special-needs school (Förderschule); a public playground (``Spielplatz``) is free
  and needs no registration;
* the default age range of day care from open data / OSM moves from 4–72 to 0–72 months
  (the taxonomy's corrected default: no law sets a lower bound, and the network's
  life-phase model lists TEK from 0).

The data-version triggers of 0007 stay in place (ALTER TABLE keeps them) and fire for
these updates, so cached offer snapshots are rebuilt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULTED = "(source_dataset LIKE 'dortmund-opendata/%' OR source_dataset LIKE 'osm:%')"

# The taxonomy's facts as of this revision: (condition on the row, field, value).
FACTS = (
    ("category = 'day_care'", "registration_required", True),
    ("category = 'primary_school_ogs'", "registration_required", True),
    (
        "category = 'further_help' AND source_dataset = 'dortmund-opendata/schools.geojson' "
        "AND source_id LIKE 'Foerderschule|%'",
        "registration_required",
        True,
    ),
    (
        "category = 'playground' AND source_dataset = 'dortmund-opendata/playgrounds.geojson' "
        "AND source_id LIKE 'Spielplatz|%'",
        "cost_free",
        True,
    ),
    (
        "category = 'playground' AND source_dataset = 'dortmund-opendata/playgrounds.geojson' "
        "AND source_id LIKE 'Spielplatz|%'",
        "registration_required",
        False,
    ),
)


def upgrade() -> None:
    op.alter_column("offer", "cost_free", existing_type=sa.Boolean(), nullable=True)
    op.alter_column("offer", "registration_required", existing_type=sa.Boolean(), nullable=True)
    op.add_column(
        "offer",
        sa.Column(
            "taxonomy_facts",
            postgresql.ARRAY(sa.String(length=40)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_check_constraint(
        "offer_taxonomy_facts",
        "offer",
        "taxonomy_facts <@ ARRAY['cost_free', 'registration_required']::varchar[]",
    )
    op.execute(
        "UPDATE offer SET cost_free = NULL, registration_required = NULL "
        "WHERE source_dataset LIKE 'dortmund-opendata/%'"
    )
    op.execute(
        "UPDATE offer SET registration_required = NULL, "
        "cost_free = CASE WHEN cost_free THEN NULL ELSE cost_free END, "
        "languages = CASE WHEN languages = '{de}' THEN '{}' ELSE languages END "
        "WHERE source_dataset LIKE 'osm:%'"
    )
    for condition, field, value in FACTS:
        op.execute(
            f"UPDATE offer SET {field} = {str(value).lower()}, "
            f"taxonomy_facts = array_append(taxonomy_facts, '{field}') "
            f"WHERE {DEFAULTED} AND {field} IS NULL AND {condition}"
        )
    op.execute(
        "UPDATE offer SET age_min_months = 0 WHERE category = 'day_care' "
        f"AND age_min_months = 4 AND age_max_months = 72 AND {DEFAULTED}"
    )


def downgrade() -> None:
    # The old schema cannot say "not known": it gets back the defaults it had before.
    op.execute(
        "UPDATE offer SET age_min_months = 4 WHERE category = 'day_care' "
        f"AND age_min_months = 0 AND age_max_months = 72 AND {DEFAULTED}"
    )
    op.execute(
        "UPDATE offer SET languages = '{de}' WHERE source_dataset LIKE 'osm:%' AND languages = '{}'"
    )
    op.execute("UPDATE offer SET cost_free = true WHERE cost_free IS NULL")
    op.execute("UPDATE offer SET registration_required = false WHERE registration_required IS NULL")
    op.drop_constraint("offer_taxonomy_facts", "offer", type_="check")
    op.drop_column("offer", "taxonomy_facts")
    op.alter_column("offer", "registration_required", existing_type=sa.Boolean(), nullable=False)
    op.alter_column("offer", "cost_free", existing_type=sa.Boolean(), nullable=False)
