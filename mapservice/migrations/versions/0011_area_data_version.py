"""data version: areas (quarters, sub-districts) bump it too

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

The family page caches the map's outlines by data version (mapservice/data_cache.py), so a
changed area must change the number like a changed offer does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER area_bumps_data_version "
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON area "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER area_bumps_data_version ON area")
