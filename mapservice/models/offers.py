"""The data model: providers, sites, offers with schedules, areas, the walking network.

Geometries are stored in WGS84 (EPSG:4326) where they meet the web, and in
ETRS89 / UTM 32N (EPSG:25832, the official CRS of NRW) where metres matter
(the walking network and the planners' grid).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    Float,
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
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS

METRIC_SRID = 25832
WGS84 = 4326

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
AREA_KINDS = ("quarter", "subdistrict", "network_extent")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSONB}


class Provider(Base):
    """A member of the network that runs offers (Träger)."""

    __tablename__ = "provider"
    __table_args__ = (CheckConstraint(_in("kind", PROVIDER_KINDS), name="provider_kind"),)

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
        CheckConstraint(_in("wheelchair", WHEELCHAIR_VALUES), name="site_wheelchair"),
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
        CheckConstraint(_in("category", CATEGORY_KEYS), name="offer_category"),
        CheckConstraint(_in("status", OFFER_STATUSES), name="offer_status"),
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


class Area(Base):
    """The quarter, a statistical sub-district, or the extent of an imported network."""

    __tablename__ = "area"
    __table_args__ = (
        CheckConstraint(_in("kind", AREA_KINDS), name="area_kind"),
        UniqueConstraint("kind", "code", name="area_kind_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=WGS84, spatial_index=True)
    )
    share_children_0_6_pct: Mapped[float | None] = mapped_column(Float)
    share_children_6_18_pct: Mapped[float | None] = mapped_column(Float)
    # Everything else the source says about the area (indicators, year, source).
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_dataset: Mapped[str] = mapped_column(String(100))
    # Revision 0012, for address search (generated, under a pg_trgm index).
    name_folded: Mapped[str] = mapped_column(
        Text, Computed("mapservice_fold(name)", persisted=True), deferred=True
    )


class WalkNetwork(Base):
    """One imported walking network (an OSM extract)."""

    __tablename__ = "walk_network"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source_file: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    extent: Mapped[WKBElement | None] = mapped_column(Geometry("POLYGON", srid=WGS84))


class WalkNode(Base):
    """A junction or end point of the walking network."""

    __tablename__ = "walk_node"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("walk_network.id", ondelete="CASCADE"), index=True
    )
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=METRIC_SRID, spatial_index=True)
    )


class WalkEdge(Base):
    """A walkable way between two junctions; length in metres (EPSG:25832)."""

    __tablename__ = "walk_edge"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("walk_network.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[int] = mapped_column(BigInteger, index=True)
    target: Mapped[int] = mapped_column(BigInteger, index=True)
    length_m: Mapped[float] = mapped_column(Float)
    highway: Mapped[str | None] = mapped_column(String(40))
    steps: Mapped[bool] = mapped_column(Boolean, default=False)
    surface: Mapped[str | None] = mapped_column(String(40))
    osm_way_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("LINESTRING", srid=METRIC_SRID, spatial_index=True)
    )
    # Revision 0004: a route may start here (allowed, not on a cut-off fragment).
    usable_steps: Mapped[bool] = mapped_column(Boolean, server_default=true())
    usable_nosteps: Mapped[bool] = mapped_column(Boolean, server_default=true())


class WalkStreet(Base):
    """A named street of a walking network, one row per name and connected stretch
    (revision 0009), for address search; rebuilt with the network
    (:mod:`mapservice.walking.streets`)."""

    __tablename__ = "walk_street"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("walk_network.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Where it is, to tell namesakes apart: the sub-district, else the network's name.
    place: Mapped[str] = mapped_column(String(200))
    # Generated, under pg_trgm indexes: the folded name, and its core for finding it.
    folded: Mapped[str] = mapped_column(Text, Computed("mapservice_fold(name)", persisted=True))
    core: Mapped[str] = mapped_column(
        Text, Computed("mapservice_street_core(mapservice_fold(name))", persisted=True)
    )
    length_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTILINESTRING", srid=METRIC_SRID, spatial_index=True)
    )
    # On the street, nearest the stretch's centre: where a search for the street lands.
    point: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=False))


class WalkSiteSnap(Base):
    """Where a site meets the walking network for a profile (revision 0004).

    ``edge_id`` is None when no usable path lies within the snapping distance: such a
    site's walking time is estimated from the straight line. A reach request searches the
    graph from its point and reads the sites' times at their edges' ends (revision 0013
    dropped the per-node times of ``site_reach``; writing here bumps the data version).
    ``computed_at`` tells whether the precomputation is older than the site.
    """

    __tablename__ = "walk_site_snap"
    __table_args__ = (Index("ix_walk_site_snap_edge", "profile", "edge_id"),)

    site_id: Mapped[int] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), primary_key=True
    )
    profile: Mapped[str] = mapped_column(String(20), primary_key=True)
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("walk_network.id", ondelete="CASCADE")
    )
    edge_id: Mapped[int | None] = mapped_column(BigInteger)
    fraction: Mapped[float | None] = mapped_column(Float)  # position along the edge, 0..1
    snap_m: Mapped[float | None] = mapped_column(Float)  # from the site to the edge
    computed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


# --- Planners: accounts, scenarios, census grid (revision 0005) ---------------------------

USER_ROLES = ("planner", "outreach", "admin", "editor", "provider")
HYPOTHETICAL_ACTIONS = ("add", "move", "remove")


class User(Base):
    """A person who signs in: a planner, an outreach worker or an admin.

    The ``is_*``/``get_id`` members are what Flask-Login asks of a user object.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", USER_ROLES), name="app_user_role"),
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
        CheckConstraint(_in("action", HYPOTHETICAL_ACTIONS), name="hypothetical_action"),
        CheckConstraint(_in("category", CATEGORY_KEYS), name="hypothetical_category"),
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
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=WGS84))

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


# --- Family map: address search (revision 0006) -------------------------------------------


class AddressPoint(Base):
    """A house address from an OpenStreetMap extract (``addr:*`` tags), for address search.

    Sites, areas and named paths of the walking network are searched where they are; this
    table holds only what no other table has: addresses of ordinary houses.
    """

    __tablename__ = "address_point"
    __table_args__ = (UniqueConstraint("source_dataset", "source_id", name="address_point_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street: Mapped[str] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True))
    source_dataset: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(200))
    # Revision 0012, for address search (generated, under a pg_trgm index).
    street_core: Mapped[str] = mapped_column(
        Text, Computed("mapservice_street_core(mapservice_fold(street))", persisted=True)
    )


# --- Editing: revisions, providers' proposals, API tokens (revision 0009) ------------------

REVISION_ENTITIES = ("offer", "site", "provider")
REVISION_ACTIONS = ("create", "update", "delete", "restore")
PROPOSAL_STATUSES = ("pending", "approved", "declined")
PROPOSAL_ENTITIES = ("offer", "provider")


class Revision(Base):
    """One change to an offer, site or provider: who (an account name or ``import:<run>``),
    when, and ``changes`` as ``{field: [old, new]}`` in JSON values."""

    __tablename__ = "revision"
    __table_args__ = (
        CheckConstraint(_in("entity", REVISION_ENTITIES), name="revision_entity"),
        CheckConstraint(_in("action", REVISION_ACTIONS), name="revision_action"),
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
        CheckConstraint(_in("status", PROPOSAL_STATUSES), name="proposal_status"),
        CheckConstraint(_in("entity", PROPOSAL_ENTITIES), name="proposal_entity"),
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
