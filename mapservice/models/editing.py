"""The editing trail (revision 0009): the revision of every change to an offer, site or
provider, and providers' proposals waiting for an editor's review."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapservice.models.base import Base, in_values

if TYPE_CHECKING:  # relationships find these by name in Base's registry; no import cycle
    from mapservice.models.offers import Offer, Provider

REVISION_ENTITIES = ("offer", "site", "provider")
REVISION_ACTIONS = ("create", "update", "delete", "restore")
PROPOSAL_STATUSES = ("pending", "approved", "declined")
PROPOSAL_ENTITIES = ("offer", "provider")


class Revision(Base):
    """One change to an offer, site or provider: who (an account name or ``import:<run>``),
    when, and ``changes`` as ``{field: [old, new]}`` in JSON values."""

    __tablename__ = "revision"
    __table_args__ = (
        CheckConstraint(in_values("entity", REVISION_ENTITIES), name="revision_entity"),
        CheckConstraint(in_values("action", REVISION_ACTIONS), name="revision_action"),
        Index("ix_revision_entity", "entity", "entity_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    author: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    changes: Mapped[dict[str, Any]] = mapped_column()


class Proposal(Base):
    """A provider account's new offer (``offer_id`` None) or change, waiting for review;
    or (``entity`` "provider", revision 0014) a change of its provider's own details.

    ``data`` holds the offer as the write API spells it (or the provider's fields);
    ``base_etag`` the version of the offer it was made against, ``base_revision_id`` the
    newest revision then: later revisions of the record are what changed since."""

    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint(in_values("status", PROPOSAL_STATUSES), name="proposal_status"),
        CheckConstraint(in_values("entity", PROPOSAL_ENTITIES), name="proposal_entity"),
        CheckConstraint(
            "status <> 'declined' OR reason IS NOT NULL", name="proposal_declined_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column()
    base_etag: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(10), default="offer", server_default="offer")
    base_revision_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    offer: Mapped[Offer | None] = relationship()
    provider: Mapped[Provider] = relationship()
