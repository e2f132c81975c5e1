"""The bundled data a fresh installation starts with."""

from __future__ import annotations

from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.geocode import load_address_points
from mapservice.importers.catalogue import DEFAULT_CATALOGUE, import_catalogue
from mapservice.importers.default_network import load_default_network
from mapservice.importers.opendata import INNENSTADT_NORD, import_opendata
from mapservice.models import METRIC_SRID, WGS84, Area, Site
from mapservice.walking.profiles import WalkSettings

# The walking network reaches this far beyond the district that is loaded, so that the family
# and outreach views of the quarter never meet its edge (the 30 minutes a request may ask for
# at 5 km/h are 2.5 km, but nobody walks from the quarter to the district's far edge and on).
NETWORK_MARGIN_M = 2000.0
# With the whole city: enough for the paths along the city boundary to stay whole.
CITY_NETWORK_MARGIN_M = 500.0


def load_default_data_if_empty(
    session: Session,
    data_dir: str,
    *,
    walk_settings: WalkSettings | None = None,
    all_city: bool = False,
) -> str | None:
    """Load the bundled data when the database holds no site yet; return a summary."""
    if session.scalar(select(func.count()).select_from(Site)):
        return None
    return load_default_data(
        session, data_dir, progress=True, walk_settings=walk_settings, all_city=all_city
    )


def load_default_data(
    session: Session,
    data_dir: str,
    *,
    progress: bool = False,
    walk_settings: WalkSettings | None = None,
    all_city: bool = False,
) -> str:
    """Load everything a fresh installation starts with; return a summary.

    1. the city's open data for Innenstadt-Nord (``all_city``: for all of Dortmund), with
       all sub-districts and the quarter (:func:`mapservice.importers.opendata.import_opendata`);
    2. the network's own catalogue ``data/infamilie-offers.toml``, which refers to the
       quarter and to the open-data school, so it comes second;
    3. the walking networks: Dortmund's, for the same district as the open data with a
       margin of :data:`NETWORK_MARGIN_M`, and Witten-Stockum's with its day-care centres and
       school; then walking times from every site
       (:func:`mapservice.importers.default_network.load_default_network`); it comes last so
       that walking times are computed for all the sites above;
    4. the ``addr:*`` points of the OpenStreetMap extracts, for the offline address search
       (:func:`mapservice.geocode.load_address_points`).

    Raises :class:`mapservice.importers.records.ImportFailed` if a source has bad rows;
    nothing is written then.
    """
    opendata = import_opendata(session, Path(data_dir), all_city=all_city, progress=progress)
    catalogue = import_catalogue(session, DEFAULT_CATALOGUE, progress=progress)
    walking = load_default_network(
        session,
        data_dir,
        walk_settings,
        dortmund_area=network_area(session, all_city=all_city),
        progress=progress,
    )
    addresses = load_address_points(session, data_dir)
    district = "Dortmund" if all_city else "Innenstadt-Nord"
    return (
        f"Open data ({district}): {opendata.summary()}. "
        f"INFamilie catalogue: {catalogue.summary()}. Walking: {walking}. "
        f"Addresses for search: {addresses}."
    )


def network_area(session: Session, *, all_city: bool = False) -> BaseGeometry:
    """Where the Dortmund walking network is loaded (WGS84): the sub-districts of
    Innenstadt-Nord (``all_city``: all of them) with a margin, from the imported areas."""
    metric = func.ST_Transform(Area.geom, METRIC_SRID)
    margin = CITY_NETWORK_MARGIN_M if all_city else NETWORK_MARGIN_M
    query = select(
        func.ST_AsBinary(
            func.ST_Transform(
                func.ST_SetSRID(func.ST_Buffer(func.ST_Union(metric), margin), METRIC_SRID),
                WGS84,
            )
        )
    ).where(Area.kind == "subdistrict")
    if not all_city:
        query = query.where(Area.code.in_(INNENSTADT_NORD))
    found = session.scalar(query)
    if found is None:
        raise ValueError("the sub-districts are not loaded; import the open data first")
    return shapely.from_wkb(bytes(found))
