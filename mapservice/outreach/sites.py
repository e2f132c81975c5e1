"""The network's anchor sites (the quick choices for a round's start) and where a site is."""

from __future__ import annotations

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.models import Site


def site_point(site: Site) -> tuple[float, float]:
    """Where the site is, as ``(lat, lon)``."""
    point = to_shape(site.geom)
    assert isinstance(point, shapely.Point)
    return float(point.y), float(point.x)


def anchor_sites(session: Session) -> list[Site]:
    """The network's anchor sites, offered as quick choices for the start."""
    return list(session.scalars(select(Site).where(Site.is_anchor).order_by(Site.name, Site.id)))
