"""What the map shows: providers (Träger), the sites where offers happen, and the offers
themselves with their weekly schedule slots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mapservice.models.base import WGS84, Base, in_values
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS

PROVIDER_KINDS = (
    "welfare",
    "church",
    "housing",
    "authority",
    "club",
    "school",
    "city",
    "private",
)
WHEELCHAIR_VALUES = ("yes", "limited", "no", "unknown")
OFFER_STATUSES = ("active", "paused", "ended")


class Provider(Base):
    """A member of the network that runs offers (Träger)."""

    __tablename__ = "provider"
    __table_args__ = (CheckConstraint(in_values("kind", PROVIDER_KINDS), name="provider_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    contact: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))
    # Revision 0009: this provider's own changes go live without an editor's review.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    offers: Mapped[list[Offer]] = relationship(back_populates="provider")


class Site(Base):
    """A place where offers happen (a Kita, a school, a family centre, a playground)."""

    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint(in_values("wheelchair", WHEELCHAIR_VALUES), name="site_wheelchair"),
        UniqueConstraint("source_dataset", "source_id", name="site_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    subdistrict_code: Mapped[str | None] = mapped_column(String(10))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True))
    is_anchor: Mapped[bool] = mapped_column(Boolean, default=False)
    wheelchair: Mapped[str] = mapped_column(String(10), default="unknown")
    source_dataset: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(200))
    source_licence: Mapped[str | None] = mapped_column(String(200))
    # Revision 0012, for address search (generated, under pg_trgm indexes): the name folded,
    # and the core of the folded street (see mapservice.geocode.matching).
    name_folded: Mapped[str] = mapped_column(
        Text, Computed("mapservice_fold(name)", persisted=True), deferred=True
    )
    street_core: Mapped[str] = mapped_column(
        Text,
        Computed("mapservice_street_core(mapservice_fold(coalesce(street, '')))", persisted=True),
        deferred=True,
    )
    # Importers (revision 0002): the point is only near the real entrance (e.g. street known,
    # house number not), so the map can say "location approximate".
    location_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    offers: Mapped[list[Offer]] = relationship(back_populates="site")

    @property
    def address(self) -> str:
        street = " ".join(part for part in (self.street, self.house_number) if part)
        town = " ".join(part for part in (self.postcode, self.city) if part)
        return ", ".join(part for part in (street, town) if part)


class Offer(Base):
    """Something a family can take part in, for children of an age range."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint(in_values("category", CATEGORY_KEYS), name="offer_category"),
        CheckConstraint(in_values("status", OFFER_STATUSES), name="offer_status"),
        CheckConstraint(
            f"age_min_months >= 0 AND age_max_months <= {MAX_AGE_MONTHS} "
            "AND age_min_months < age_max_months",
            name="offer_age_range",
        ),
        CheckConstraint(
            "site_id IS NOT NULL OR service_area IS NOT NULL", name="offer_site_or_service_area"
        ),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="offer_capacity_positive"),
        CheckConstraint(
            "taxonomy_facts <@ ARRAY['cost_free', 'registration_required']::varchar[]",
            name="offer_taxonomy_facts",
        ),
        UniqueConstraint("source_dataset", "source_id", name="offer_source"),
        Index("ix_offer_age", "age_min_months", "age_max_months"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), index=True)
    age_min_months: Mapped[int] = mapped_column(SmallInteger)
    age_max_months: Mapped[int] = mapped_column(SmallInteger)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    # Three-valued facts (revision 0008): True / False as a source or the taxonomy states
    # them, None = not known (shown as "not known, ask the provider", never as free or
    # "no registration").
    cost_free: Mapped[bool | None] = mapped_column(Boolean)
    cost_text: Mapped[str | None] = mapped_column(String(300))
    registration_required: Mapped[bool | None] = mapped_column(Boolean)
    # Names of the fields above whose value is a general rule of the category in NRW from
    # data/taxonomy.toml (its source is named there), not a statement of the offer's source.
    taxonomy_facts: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default="{}"
    )
    contact: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    last_verified: Mapped[dt.date | None] = mapped_column(Date)
    # Translated title/description by language code; German in the columns is the fallback.
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id", ondelete="SET NULL"))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), index=True
    )
    # For offers that come to the family's home (welcome visit): where they are offered.
    service_area: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=WGS84, spatial_index=True)
    )
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)
    source_dataset: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(200))
    # Revision 0009: the offer pauses during the NRW school holidays.
    no_school_holidays: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Revision 0010: moved by a trigger when the offer or one of its slots changes.
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), server_onupdate=FetchedValue()
    )

    provider: Mapped[Provider | None] = relationship(back_populates="offers")
    site: Mapped[Site | None] = relationship(back_populates="offers")
    schedule: Mapped[list[ScheduleSlot]] = relationship(
        back_populates="offer",
        cascade="all, delete-orphan",
        order_by="(ScheduleSlot.weekday, ScheduleSlot.start_time)",
    )


class ScheduleSlot(Base):
    """A weekly time slot of an offer, valid within an optional date range."""

    __tablename__ = "schedule_slot"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="slot_weekday"),  # 0 = Monday (ISO - 1)
        CheckConstraint("start_time < end_time", name="slot_times"),
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to",
            name="slot_validity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    offer: Mapped[Offer] = relationship(back_populates="schedule")
