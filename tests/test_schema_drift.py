"""The migrations build the schema the models describe: nothing one declares is missing
from the other, except what only the migrations own on purpose."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from mapservice.db import include_in_migrations
from mapservice.models import Base

# Declared only in the migrations: the data version (a trigger-maintained counter, never
# mapped) and the address search's trigram and expression indexes, which SQLAlchemy cannot
# declare with their operator classes.
MIGRATIONS_ONLY = {
    ("remove_table", "data_version"),
    ("remove_index", "ix_address_point_fold"),
    ("remove_index", "ix_address_point_street_core"),
    ("remove_index", "ix_area_name_folded"),
    ("remove_index", "ix_site_name_folded"),
    ("remove_index", "ix_site_street_core"),
    ("remove_index", "ix_walk_street_core"),
    ("remove_index", "ix_walk_street_folded"),
}


def _name(difference: Any) -> tuple[str, str]:
    if isinstance(difference, list):  # column-level changes come grouped per column
        return (difference[0][0], f"{difference[0][2]}.{difference[0][3]}")
    return (difference[0], difference[1].name)


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_in_migrations, "compare_type": True}
        )
        differences = {_name(item) for item in compare_metadata(context, Base.metadata)}
    assert differences == MIGRATIONS_ONLY
