"""offer.updated_at: when an offer (or one of its time slots) last changed, for HSDS'
``last_modified`` and ``modified_after``

Revision ID: 0010
Revises: 0007 (on the interop branch; the lead re-chains it after 0008/0009 at merge)
Create Date: 2026-11-29

A trigger keeps it, not the application, so every writer (importers, admin pages, the API)
moves it, and an UPDATE that changes nothing does not. Existing offers start at the time of
the migration (their earlier history is not known).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE offer ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()")
    op.execute(
        """
        CREATE FUNCTION offer_touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- A writer that sets updated_at itself (a restore) keeps its value.
            IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
                NEW.updated_at := now();
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER offer_touches BEFORE UPDATE ON offer FOR EACH ROW "
        "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION offer_touch()"
    )
    op.execute(
        """
        CREATE FUNCTION schedule_slot_touches_offer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- Once per offer and transaction: later slots of the same change find it done.
            UPDATE offer SET updated_at = now()
             WHERE id IN (NEW.offer_id, OLD.offer_id) AND updated_at <> now();
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER schedule_slot_touches_offer AFTER INSERT OR UPDATE OR DELETE "
        "ON schedule_slot FOR EACH ROW EXECUTE FUNCTION schedule_slot_touches_offer()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER schedule_slot_touches_offer ON schedule_slot")
    op.execute("DROP FUNCTION schedule_slot_touches_offer()")
    op.execute("DROP TRIGGER offer_touches ON offer")
    op.execute("DROP FUNCTION offer_touch()")
    op.execute("ALTER TABLE offer DROP COLUMN updated_at")
