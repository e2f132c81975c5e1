"""Where things are, besides sites: areas (the quarter, statistical sub-districts with their
child shares, the extents of imported walking networks) and house addresses from an
OpenStreetMap extract (revision 0006) for address search."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, Computed, Float, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mapservice.models.base import WGS84, Base, in_values

AREA_KINDS = ("quarter", "subdistrict", "network_extent")


class Area(Base):
    """The quarter, a statistical sub-district, or the extent of an imported network."""

    __tablename__ = "area"
    __table_args__ = (
        CheckConstraint(in_values("kind", AREA_KINDS), name="area_kind"),
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
