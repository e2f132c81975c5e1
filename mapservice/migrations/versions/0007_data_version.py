"""data version: a number that changes whenever offers, sites, providers or schedules change

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

Hot read paths (the reach query) keep an in-memory snapshot of the offers keyed by this
number. It is drawn from a sequence, so it is never reused, not even after a rollback.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("offer", "site", "provider", "schedule_slot")


def upgrade() -> None:
    op.execute("CREATE SEQUENCE data_version_seq")
    op.execute(
        "CREATE TABLE data_version (id smallint PRIMARY KEY CHECK (id = 1), n bigint NOT NULL)"
    )
    op.execute("INSERT INTO data_version VALUES (1, nextval('data_version_seq'))")
    op.execute(
        """
        CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE data_version SET n = nextval('data_version_seq') WHERE id = 1;
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bumps_data_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_bumps_data_version ON {table}")
    op.execute("DROP FUNCTION bump_data_version()")
    op.execute("DROP TABLE data_version")
    op.execute("DROP SEQUENCE data_version_seq")
