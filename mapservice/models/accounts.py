"""Who signs in: accounts with their role (revision 0005; provider accounts since 0009)
and their API tokens (revision 0009)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapservice.models.base import Base, in_values

if TYPE_CHECKING:  # relationships find these by name in Base's registry; no import cycle
    from mapservice.models.offers import Provider
    from mapservice.models.planning import Scenario

USER_ROLES = ("planner", "outreach", "admin", "editor", "provider")


class User(Base):
    """A person who signs in: a planner, an outreach worker or an admin.

    The ``is_*``/``get_id`` members are what Flask-Login asks of a user object.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(in_values("role", USER_ROLES), name="app_user_role"),
        CheckConstraint(
            "(role = 'provider') = (provider_id IS NOT NULL)", name="app_user_provider_binding"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Revision 0009: a provider account acts for this provider only.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id", ondelete="RESTRICT"))

    provider: Mapped[Provider | None] = relationship()

    scenarios: Mapped[list[Scenario]] = relationship(
        back_populates="owner", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token of an account; only its SHA-256 digest is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
