"""The planners' own data (revision 0005): what-if scenarios with their hypothetical
offers, and children per 100 m cell from a census grid import."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapservice.models.base import WGS84, Base, in_values
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS

if TYPE_CHECKING:  # relationships find these by name in Base's registry; no import cycle
    from mapservice.models.accounts import User

HYPOTHETICAL_ACTIONS = ("add", "move", "remove")


class Scenario(Base):
    """A planner's what-if: hypothetical offers added, real ones moved or removed."""

    __tablename__ = "planning_scenario"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="planning_scenario_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    area_key: Mapped[str] = mapped_column(String(80), default="quarter")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    owner: Mapped[User] = relationship(back_populates="scenarios")
    changes: Mapped[list[HypotheticalOffer]] = relationship(
        back_populates="scenario", cascade="all, delete-orphan", order_by="HypotheticalOffer.id"
    )


class HypotheticalOffer(Base):
    """One change of a scenario; never shown on the public map.

    ``add``: a new offer at ``geom``; ``move``: the real offer ``replaces_offer_id`` placed at
    ``geom`` instead; ``remove``: the real offer ``replaces_offer_id`` taken away.
    """

    __tablename__ = "planning_hypothetical_offer"
    __table_args__ = (
        CheckConstraint(in_values("action", HYPOTHETICAL_ACTIONS), name="hypothetical_action"),
        CheckConstraint(in_values("category", CATEGORY_KEYS), name="hypothetical_category"),
        CheckConstraint(
            f"age_min_months >= 0 AND age_max_months <= {MAX_AGE_MONTHS} "
            "AND age_min_months < age_max_months",
            name="hypothetical_age_range",
        ),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="hypothetical_capacity"),
        CheckConstraint(
            "(action = 'remove') = (geom IS NULL)", name="hypothetical_geom_unless_removed"
        ),
        CheckConstraint(
            "(action = 'add') = (replaces_offer_id IS NULL)", name="hypothetical_replaces"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("planning_scenario.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(10))
    replaces_offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40))
    age_min_months: Mapped[int] = mapped_column(SmallInteger)
    age_max_months: Mapped[int] = mapped_column(SmallInteger)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # No spatial index, as in migration 0005: a scenario holds a handful of changes, always
    # read by scenario.
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=WGS84, spatial_index=False)
    )

    scenario: Mapped[Scenario] = relationship(back_populates="changes")


class CensusCell(Base):
    """Children per 100 m cell from a census grid import; replaces the demand estimate.

    ``cell_e``/``cell_n`` are the lower-left corner of the planners' 100 m cell in EPSG:25832
    that the census cell's centre falls into.
    """

    __tablename__ = "planning_census_cell"
    __table_args__ = (
        UniqueConstraint("dataset", "cell_e", "cell_n", name="planning_census_cell_key"),
        Index("ix_planning_census_cell_en", "cell_e", "cell_n"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(60))
    cell_e: Mapped[int] = mapped_column(Integer)
    cell_n: Mapped[int] = mapped_column(Integer)
    age_0_2: Mapped[float] = mapped_column(Float, default=0.0)
    age_2_4: Mapped[float] = mapped_column(Float, default=0.0)
    age_4_6: Mapped[float] = mapped_column(Float, default=0.0)
    age_6_10: Mapped[float] = mapped_column(Float, default=0.0)
