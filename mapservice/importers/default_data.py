"""The bundled data a fresh installation starts with."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.importers.catalogue import DEFAULT_CATALOGUE, import_catalogue
from mapservice.importers.opendata import import_opendata
from mapservice.models import Site


def load_default_data_if_empty(session: Session, data_dir: str) -> str | None:
    """Load the bundled data when the database holds no site yet; return a summary."""
    if session.scalar(select(func.count()).select_from(Site)):
        return None
    return load_default_data(session, data_dir)


def load_default_data(session: Session, data_dir: str, *, progress: bool = False) -> str:
    """Load everything a fresh installation starts with; return a summary.

    1. the city's open data for Innenstadt-Nord, with all sub-districts and the quarter
       (:func:`mapservice.importers.opendata.import_opendata`);
    2. the network's own catalogue ``data/infamilie-offers.toml``, which refers to the
       quarter and to the open-data school, so it comes second;
    3. (walking network: to be wired in here by the integrator, after the sites exist,
       so that reach tables can be computed for them.)

    Raises :class:`mapservice.importers.records.ImportFailed` if a source has bad rows;
    nothing is written then.
    """
    opendata = import_opendata(session, Path(data_dir), progress=progress)
    catalogue = import_catalogue(session, DEFAULT_CATALOGUE, progress=progress)
    # Walking network: the integrator adds its import (and reach precomputation) here.
    return (
        f"Open data (Innenstadt-Nord): {opendata.summary()}. "
        f"INFamilie catalogue: {catalogue.summary()}."
    )
