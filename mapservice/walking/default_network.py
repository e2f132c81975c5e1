"""The bundled walking network: Witten-Stockum with its day-care centres and primary school.

No OpenStreetMap extract of Dortmund-Nordstadt is available offline; the real, complete
network of Witten-Stockum (the town bordering Dortmund to the south-west) shows routed
walking out of the box, as a second area next to the quarter.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from mapservice.importers.records import Batch, OfferRecord, SiteRecord
from mapservice.importers.store import write_batch
from mapservice.taxonomy import MAX_AGE_MONTHS, categories
from mapservice.walking.osm import Place, read_places
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.store import import_network

DEFAULT_EXTRACT = Path("osm") / "Witten_Stockum.pbf"
DEFAULT_NETWORK = "witten-stockum"
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
    session: Session, data_dir: str | Path, settings: WalkSettings | None = None
) -> str:
    """Import Witten-Stockum's network and places, precompute reach for all sites.

    Idempotent: a second run replaces the network and updates the places. Call it after
    the other default data, so that their sites get reach times too. Returns a summary.
    """
    path = Path(data_dir) / DEFAULT_EXTRACT
    places = read_places(path, frozenset({"kindergarten", "school"}))
    counts = write_batch(session, place_records(places), label="places")
    summary = import_network(session, path, DEFAULT_NETWORK, settings, refresh=False)
    reach = refresh_reach(session, settings)
    summary.reach = reach
    return f"{summary} (places from the extract: {counts.summary()})"
