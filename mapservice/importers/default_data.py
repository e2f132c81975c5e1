"""The bundled data a fresh installation starts with."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.geocode import load_address_points
from mapservice.importers.catalogue import DEFAULT_CATALOGUE, import_catalogue
from mapservice.importers.opendata import import_opendata
from mapservice.models import Site
from mapservice.walking.default_network import load_default_network
from mapservice.walking.profiles import WalkSettings


def load_default_data_if_empty(
    session: Session, data_dir: str, *, walk_settings: WalkSettings | None = None
) -> str | None:
    """Load the bundled data when the database holds no site yet; return a summary."""
    if session.scalar(select(func.count()).select_from(Site)):
        return None
    return load_default_data(session, data_dir, progress=True, walk_settings=walk_settings)


def load_default_data(
    session: Session,
    data_dir: str,
    *,
    progress: bool = False,
    walk_settings: WalkSettings | None = None,
) -> str:
    """Load everything a fresh installation starts with; return a summary.

    1. the city's open data for Innenstadt-Nord, with all sub-districts and the quarter
       (:func:`mapservice.importers.opendata.import_opendata`);
    2. the network's own catalogue ``data/infamilie-offers.toml``, which refers to the
       quarter and to the open-data school, so it comes second;
    3. the OpenStreetMap walking network of Witten-Stockum with its day-care centres and
       school, and walking times from every site
       (:func:`mapservice.walking.default_network.load_default_network`); it comes last so
       that walking times are computed for all the sites above;
    4. the ``addr:*`` points of the OpenStreetMap extracts, for the offline address search
       (:func:`mapservice.geocode.load_address_points`).

    Raises :class:`mapservice.importers.records.ImportFailed` if a source has bad rows;
    nothing is written then.
    """
    opendata = import_opendata(session, Path(data_dir), progress=progress)
    catalogue = import_catalogue(session, DEFAULT_CATALOGUE, progress=progress)
    walking = load_default_network(session, data_dir, walk_settings)
    addresses = load_address_points(session, data_dir)
    return (
        f"Open data (Innenstadt-Nord): {opendata.summary()}. "
        f"INFamilie catalogue: {catalogue.summary()}. {walking} "
        f"Addresses for search: {addresses}."
    )
