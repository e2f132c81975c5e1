"""proposals of provider details and the version a proposal was made against

Revision ID: 0014
Revises: 0013

* ``proposal.entity``: what a proposal changes, an offer (as before) or a provider's own
  details (name, contact, website …); ``offer_id`` stays empty for the latter.
* ``proposal.base_revision_id``: the newest revision (of any record) when the proposal was
  made. Revisions of the record written after it are what changed since; approving over
  them needs the editor's explicit decision. Filled for existing proposals from their time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "proposal",
        sa.Column("entity", sa.String(10), nullable=False, server_default="offer"),
    )
    op.create_check_constraint("proposal_entity", "proposal", "entity IN ('offer', 'provider')")
    op.add_column("proposal", sa.Column("base_revision_id", sa.BigInteger))
    op.execute(
        """
        UPDATE proposal SET base_revision_id = (
            SELECT max(revision.id) FROM revision WHERE revision.created_at <= proposal.created_at
        )
        """
    )


def downgrade() -> None:
    op.execute("DELETE FROM proposal WHERE entity <> 'offer'")
    op.drop_column("proposal", "base_revision_id")
    op.drop_constraint("proposal_entity", "proposal", type_="check")
    op.drop_column("proposal", "entity")
