"""Generic exchange of sites and offers as GeoJSON or CSV, readable back without loss.

Both formats carry the same flat fields, one record per offer (plus one record per
site that has no offer, with the offer fields empty):

``offer_dataset, offer_id``
    the offer's source key (``source_dataset``, ``source_id``); empty for a site-only row
``title, description, category, age_min_months, age_max_months, languages, cost_free,
cost_text, registration_required, taxonomy_facts, contact, capacity, status,
last_verified, is_example, schedule, translations``
    the offer's fields. ``cost_free`` and ``registration_required`` are three-valued:
    true, false, or empty/null = not known (never read as "free" or "no registration").
    ``taxonomy_facts`` lists those of the two whose value is the category's general rule
    from ``data/taxonomy.toml`` rather than the source's statement; on import the rule
    must exist and match. An empty ``languages`` means not known.
``provider_name, provider_kind, provider_contact, provider_website``
    the provider (matched by name; ``provider_kind`` is needed for a new provider)
``site_dataset, site_id, site_name, street, house_number, postcode, city,
subdistrict_code, is_anchor, wheelchair, location_approximate, site_licence, lon, lat``
    the site (matched by ``site_dataset``/``site_id``); empty for a home-visit offer
``service_area``
    the area an offer comes to families in (home visits)

GeoJSON (RFC 7946): a FeatureCollection; the geometry is the site's Point (or, for an
offer without a site, its service area), so ``lon``/``lat`` are not repeated; the
properties hold the other fields with JSON types: ``languages`` a list of ISO 639-1
codes, ``schedule`` a list of ``{weekday, start, end, valid_from, valid_to}``,
``translations`` ``{"en": {"title": …, "description": …}}``, ``service_area`` a
GeoJSON geometry (only when the offer also has a site).

CSV (UTF-8, comma-separated, header row; a BOM is accepted): one row per offer with
all columns above. Empty cell = no value (for cost and registration: not known).
Booleans ``true``/``false``; ``languages`` ``de;tr;ar``; ``taxonomy_facts``
``cost_free;registration_required``; ``schedule``
``mon 09:00-11:00; wed 14:00-16:00 (2025-09-01..2026-07-31)`` (weekday ``mon``…``sun``,
24-hour times, the optional validity in brackets with either date left empty);
``translations`` a JSON object; ``service_area`` WKT in WGS84.

Errors name the CSV data row (``row 1`` is the first row below the header) or the
GeoJSON feature (``feature 1`` is the first feature).
"""

from __future__ import annotations

from pathlib import Path

OFFER_FIELDS = (
    "offer_dataset",
    "offer_id",
    "title",
    "description",
    "category",
    "age_min_months",
    "age_max_months",
    "languages",
    "cost_free",
    "cost_text",
    "registration_required",
    "taxonomy_facts",
    "contact",
    "capacity",
    "status",
    "last_verified",
    "is_example",
    "schedule",
    "translations",
)
PROVIDER_FIELDS = ("provider_name", "provider_kind", "provider_contact", "provider_website")
SITE_FIELDS = (
    "site_dataset",
    "site_id",
    "site_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "subdistrict_code",
    "is_anchor",
    "wheelchair",
    "location_approximate",
    "site_licence",
    "lon",
    "lat",
)
COLUMNS = (*OFFER_FIELDS, *PROVIDER_FIELDS, *SITE_FIELDS, "service_area")
FORMATS = ("geojson", "csv")


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """``geojson`` or ``csv`` from ``fmt`` or the file's extension."""
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"cannot tell the format of {Path(path).name}: use .geojson or .csv")
