"""The walking network in metres (EPSG:25832): imported networks, their junctions and
walkable ways, named streets for address search, and where each site meets the network."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from mapservice.models.base import METRIC_SRID, WGS84, Base


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
