"""An offer's place as its calendar file and its schema.org description give it: the site's
coordinates, and its name and address as one line."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point

from mapservice.models import Offer


def lat_lon(geom: WKBElement) -> tuple[float, float]:
    """A site's point as (latitude, longitude)."""
    point = to_shape(geom)
    assert isinstance(point, Point)
    return float(point.y), float(point.x)


def place_text(offer: Offer) -> str:
    """The site's name and address, or "" for an offer without a site."""
    site = offer.site
    if site is None:
        return ""
    return ", ".join(part for part in (site.name, site.address) if part)
