"""The bundled walking networks.

* **Dortmund**: the walkable network of the city reconstructed from OpenStreetMap vector
  tiles (``osm/dortmund-walk-2021.osm.pbf``, see the data's PROVENANCE.md for its limits),
  cut to an area the caller chooses (by default Innenstadt-Nord with a margin, so that the
  quarter's family and outreach views never meet the network's edge).
* **Witten-Stockum**: a real, complete OpenStreetMap extract of the town bordering Dortmund
  to the south-west, with its day-care centres and primary school as places.
"""

from __future__ import annotations

from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.importers.records import Batch, OfferRecord, SiteRecord
from mapservice.importers.store import write_batch
from mapservice.models import WalkNetwork
from mapservice.taxonomy import MAX_AGE_MONTHS, categories
from mapservice.walking.osm import Place, read_places
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.store import import_network

DEFAULT_EXTRACT = Path("osm") / "Witten_Stockum.pbf"
DEFAULT_NETWORK = "witten-stockum"
DORTMUND_EXTRACT = Path("osm") / "dortmund-walk-2021.osm.pbf"
DORTMUND_NETWORK = "dortmund"
SOURCE_DATASET = "osm:witten-stockum"
OSM_LICENCE = "ODbL 1.0, © OpenStreetMap contributors"
WHEELCHAIR = {"yes": "yes", "limited": "limited", "no": "no"}
FEE_FREE = {"no": True, "yes": False}  # OSM ``fee=*``: is the place free of charge?


def category_of(place: Place) -> str | None:
    """``day_care`` for a kindergarten, ``primary_school_ogs`` for a primary school.

    Other schools (here: a school for non-medical practitioners) are not for children.
    """
    tags = place.tags
    if tags.get("amenity") == "kindergarten":
        return "day_care"
    levels = {level.strip() for level in tags.get("isced:level", "").split(";")}
    if tags.get("amenity") == "school" and (
        "1" in levels or tags.get("school:de") == "Grundschule" or tags.get("school") == "primary"
    ):
        return "primary_school_ogs"
    return None


def _age_range(place: Place, category: str) -> tuple[int, int]:
    """The extract's ``min_age``/``max_age`` (years) where given, else the taxonomy's."""
    default = categories()[category]
    try:
        low = int(place.tags["min_age"]) * 12
        high = int(place.tags["max_age"]) * 12
    except (KeyError, ValueError):
        return default.min_months, default.max_months
    if 0 <= low < high <= MAX_AGE_MONTHS:
        return low, high
    return default.min_months, default.max_months


def place_records(places: list[Place]) -> Batch:
    """Sites and offers for the places that are for children, keyed on their OSM id.

    The extract is read completely, so a place that vanished from it is removed.
    """
    batch = Batch(complete_datasets={SOURCE_DATASET: set()})
    for place in places:
        category = category_of(place)
        name = place.tags.get("name")
        if category is None or not name:
            continue
        tags = place.tags
        site = SiteRecord(
            source_dataset=SOURCE_DATASET,
            source_id=place.source_id,
            name=name[:300],
            lon=place.lon,
            lat=place.lat,
            street=(tags.get("addr:street") or "")[:200] or None,
            house_number=(tags.get("addr:housenumber") or "")[:20] or None,
            postcode=(tags.get("addr:postcode") or "")[:10] or None,
            city=(tags.get("addr:city") or "")[:100] or None,
            source_licence=OSM_LICENCE,
            is_anchor=False,
            wheelchair=WHEELCHAIR.get(tags.get("wheelchair", ""), "unknown"),
        )
        low, high = _age_range(place, category)
        opening_hours = tags.get("opening_hours")
        batch.sites.append(site)
        batch.complete_datasets[SOURCE_DATASET].add(place.source_id)
        batch.offers.append(
            OfferRecord(
                source_dataset=SOURCE_DATASET,
                source_id=place.source_id,
                title=name[:300],
                category=category,
                age_min_months=low,
                age_max_months=high,
                site_key=site.key,
                description=f"Öffnungszeiten: {opening_hours}" if opening_hours else None,
                # No language tag is read: an empty list means "not known" (the former
                # "de" for every place was invented). ``fee=yes/no`` is a real statement;
                # no fee tag means not known.
                cost_free=FEE_FREE.get(tags.get("fee", "")),
                contact=tags.get("contact:phone") or tags.get("phone"),
            )
        )
    return batch


def load_default_network(
    session: Session,
    data_dir: str | Path,
    settings: WalkSettings | None = None,
    *,
    dortmund_area: BaseGeometry | None = None,
    progress: bool = False,
) -> str:
    """Import the Dortmund network (the ways reaching into ``dortmund_area``, WGS84; the
    whole file when None) and Witten-Stockum's network and places, then precompute reach
    for all sites.

    Witten-Stockum is left out of the Dortmund area (the Dortmund file's margin covers it),
    so that no street is there twice. Idempotent: a second run replaces the networks and
    updates the places. Call it after the other default data, so that their sites get reach
    times too. Returns a summary.
    """
    witten_path = Path(data_dir) / DEFAULT_EXTRACT
    places = read_places(witten_path, frozenset({"kindergarten", "school"}))
    counts = write_batch(session, place_records(places), label="places")
    witten = import_network(
        session, witten_path, DEFAULT_NETWORK, settings, refresh=False, progress=progress
    )
    area = _without_network(session, dortmund_area, witten.network_id)
    dortmund = import_network(
        session,
        Path(data_dir) / DORTMUND_EXTRACT,
        DORTMUND_NETWORK,
        settings,
        within=area,
        refresh=False,
        progress=progress,
    )
    reach = refresh_reach(session, settings, progress=progress)
    return f"{dortmund}; {witten} (places from the extract: {counts.summary()}); {reach}"


def _without_network(session: Session, area: BaseGeometry | None, network_id: int) -> BaseGeometry:
    """``area`` (everywhere when None) less the extent of the network ``network_id``."""
    extent = session.scalar(
        select(func.ST_AsBinary(WalkNetwork.extent)).where(WalkNetwork.id == network_id)
    )
    everywhere = shapely.box(-180, -90, 180, 90) if area is None else area
    if extent is None:
        return everywhere
    return everywhere.difference(shapely.from_wkb(bytes(extent)))
