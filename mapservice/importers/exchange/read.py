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

import csv
import io
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from tqdm import tqdm

from mapservice.importers import records as r
from mapservice.importers.facts import check_stated_facts, parse_taxonomy_facts
from mapservice.importers.records import (
    Batch,
    ErrorCollector,
    ImportCounts,
    ImportFailed,
    OfferRecord,
    ProviderRecord,
    RowError,
    RowInvalid,
    SiteRecord,
    SlotRecord,
)
from mapservice.importers.store import reference_problems, write_batch
from mapservice.models import Offer, Site

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


# --- export -------------------------------------------------------------------------------


def _slot_records(offer: Offer) -> tuple[SlotRecord, ...]:
    return tuple(
        SlotRecord(slot.weekday, slot.start_time, slot.end_time, slot.valid_from, slot.valid_to)
        for slot in offer.schedule
    )


def _site_fields(site: Site | None) -> dict[str, Any]:
    if site is None:
        return dict.fromkeys(SITE_FIELDS)
    point = to_shape(site.geom)
    assert isinstance(point, Point)
    return {
        "site_dataset": site.source_dataset,
        "site_id": site.source_id,
        "site_name": site.name,
        "street": site.street,
        "house_number": site.house_number,
        "postcode": site.postcode,
        "city": site.city,
        "subdistrict_code": site.subdistrict_code,
        "is_anchor": bool(site.is_anchor),
        "wheelchair": site.wheelchair,
        "location_approximate": bool(site.location_approximate),
        "site_licence": site.source_licence,
        "lon": point.x,
        "lat": point.y,
    }


def export_rows(session: Session, *, progress: bool = False) -> Iterator[dict[str, Any]]:
    """Every offer (any status) and every site without offers, as flat records with JSON
    types, ordered by source key so that two exports of the same data are identical."""
    offers = session.scalars(
        select(Offer)
        .options(joinedload(Offer.site), joinedload(Offer.provider), selectinload(Offer.schedule))
        .order_by(Offer.source_dataset, Offer.source_id)
    ).unique()
    for offer in tqdm(list(offers), desc="export", file=sys.stderr, disable=not progress):
        provider = offer.provider
        row: dict[str, Any] = {
            "offer_dataset": offer.source_dataset,
            "offer_id": offer.source_id,
            "title": offer.title,
            "description": offer.description,
            "category": offer.category,
            "age_min_months": offer.age_min_months,
            "age_max_months": offer.age_max_months,
            "languages": list(offer.languages or []),
            "cost_free": offer.cost_free,
            "cost_text": offer.cost_text,
            "registration_required": offer.registration_required,
            "taxonomy_facts": sorted(offer.taxonomy_facts or []),
            "contact": offer.contact,
            "capacity": offer.capacity,
            "status": offer.status,
            "last_verified": offer.last_verified.isoformat() if offer.last_verified else None,
            "is_example": offer.is_example,
            "schedule": r.schedule_dicts(_slot_records(offer)),
            "translations": offer.translations or {},
            "provider_name": provider.name if provider else None,
            "provider_kind": provider.kind if provider else None,
            "provider_contact": provider.contact if provider else None,
            "provider_website": provider.website if provider else None,
            **_site_fields(offer.site),
            "service_area": (
                mapping(to_shape(offer.service_area)) if offer.service_area is not None else None
            ),
        }
        yield row
    lonely = session.scalars(
        select(Site).where(~Site.offers.any()).order_by(Site.source_dataset, Site.source_id)
    )
    for site in lonely:
        yield {
            **dict.fromkeys(OFFER_FIELDS),
            **dict.fromkeys(PROVIDER_FIELDS),
            **_site_fields(site),
            "service_area": None,
        }


def _plain(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """shapely's mapping() uses tuples; JSON wants lists (and tests compare them)."""
    return json.loads(json.dumps(geometry))


def rows_to_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for row in rows:
        properties = {k: v for k, v in row.items() if k not in ("lon", "lat", "service_area")}
        if row["site_dataset"] is not None:
            geometry = {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
            properties["service_area"] = (
                _plain(row["service_area"]) if row["service_area"] is not None else None
            )
        else:
            geometry = _plain(row["service_area"])
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {
        "type": "FeatureCollection",
        "name": "mapservice sites and offers",
        "features": features,
    }


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in ("languages", "taxonomy_facts"):
        return ";".join(value)
    if name == "schedule":
        return r.format_schedule_text(r.schedule(value))
    if name == "translations":
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    if name == "service_area":
        return shapely.to_wkt(shape(value), rounding_precision=-1)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(name, row.get(name)) for name in COLUMNS})
    return buffer.getvalue()


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


def export_file(
    session: Session, path: str | Path, fmt: str | None = None, *, progress: bool = False
) -> int:
    """Write all sites and offers to ``path``; return the number of records written."""
    kind = format_of(path, fmt)
    rows = list(export_rows(session, progress=progress))
    if kind == "geojson":
        content = json.dumps(rows_to_geojson(rows), ensure_ascii=False, indent=1) + "\n"
    else:
        content = rows_to_csv(rows)
    Path(path).write_text(content, encoding="utf-8")
    return len(rows)


# --- import -------------------------------------------------------------------------------


def _service_area(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            geometry = shapely.from_wkt(value)
        elif isinstance(value, Mapping):
            geometry = shape(dict(value))
        else:
            raise RowInvalid(f"service_area must be a geometry, got {value!r}")
    except (shapely.errors.GEOSException, AttributeError, KeyError, TypeError, ValueError):
        raise RowInvalid("service_area is not a readable geometry") from None
    return r.multipolygon(geometry, "service_area")


def _translations(value: Any) -> dict[str, dict[str, str]]:
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowInvalid(f"translations is not a JSON object: {exc.msg}") from None
    return r.translations(value)


def _row_records(
    row: Mapping[str, Any],
) -> tuple[SiteRecord | None, ProviderRecord | None, OfferRecord | None]:
    site = None
    if any(row.get(name) not in (None, "") for name in ("site_dataset", "site_id")):
        lon, lat = r.coordinates(row.get("lon"), row.get("lat"))
        site = SiteRecord(
            source_dataset=r.required_text(row.get("site_dataset"), "site_dataset", max_length=100),
            source_id=r.required_text(row.get("site_id"), "site_id", max_length=200),
            name=r.required_text(row.get("site_name"), "site_name"),
            lon=lon,
            lat=lat,
            street=r.text(row.get("street"), "street", max_length=200),
            house_number=r.text(row.get("house_number"), "house_number", max_length=20),
            postcode=r.text(row.get("postcode"), "postcode", max_length=10),
            city=r.text(row.get("city"), "city", max_length=100),
            subdistrict_code=r.text(row.get("subdistrict_code"), "subdistrict_code", max_length=10),
            source_licence=r.text(row.get("site_licence"), "site_licence", max_length=200),
            is_anchor=r.boolean(row.get("is_anchor"), "is_anchor", default=False),
            wheelchair=r.wheelchair(row.get("wheelchair")) or "unknown",
            location_approximate=r.boolean(
                row.get("location_approximate"), "location_approximate", default=False
            ),
        )
    provider = None
    provider_name = r.text(row.get("provider_name"), "provider_name")
    if provider_name:
        provider = ProviderRecord(
            name=provider_name,
            kind=r.provider_kind(row.get("provider_kind")),
            contact=r.text(row.get("provider_contact"), "provider_contact", max_length=2000),
            website=r.text(row.get("provider_website"), "provider_website", max_length=500),
        )
    if all(row.get(name) in (None, "") for name in ("offer_dataset", "offer_id")):
        if site is None:
            raise RowInvalid("a row needs an offer (offer_dataset, offer_id) or a site")
        return site, provider, None
    service_area = _service_area(row.get("service_area"))
    if site is None and service_area is None:
        raise RowInvalid("an offer needs a site (site_dataset, site_id, lon, lat) or service_area")
    low, high = r.age_range(row.get("age_min_months"), row.get("age_max_months"))
    offer = OfferRecord(
        source_dataset=r.required_text(row.get("offer_dataset"), "offer_dataset", max_length=100),
        source_id=r.required_text(row.get("offer_id"), "offer_id", max_length=200),
        **r.offer_details(row, example_key="is_example"),
        category=r.category(row.get("category")),
        age_min_months=low,
        age_max_months=high,
        site_key=site.key if site else None,
        service_area=service_area,
        translations=_translations(row.get("translations")),
        provider_name=provider_name,
        taxonomy_facts=parse_taxonomy_facts(row.get("taxonomy_facts")),
    )
    return site, provider, check_stated_facts(offer)


def rows_to_batch(
    session: Session, rows: list[tuple[int, Mapping[str, Any]]], errors: ErrorCollector
) -> Batch:
    """Records from numbered rows; conflicting repeats and dangling references are errors."""
    batch = Batch()
    sites: dict[tuple[str, str], tuple[int, SiteRecord]] = {}
    providers: dict[str, tuple[int, ProviderRecord]] = {}
    offers: dict[tuple[str, str], int] = {}
    offer_rows: list[int] = []
    for number, row in rows:
        try:
            site, provider, offer = _row_records(row)
            if site is not None and site.key in sites and sites[site.key][1] != site:
                raise RowInvalid(
                    f"site {site.source_id!r} differs from the same site in "
                    f"{errors.unit} {sites[site.key][0]}"
                )
            if provider is not None and provider.name in providers:
                first_number, first = providers[provider.name]
                if first != provider:
                    raise RowInvalid(
                        f"provider {provider.name!r} differs from the same provider in "
                        f"{errors.unit} {first_number}"
                    )
            if offer is not None and offer.key in offers:
                raise RowInvalid(
                    f"offer {offer.source_id!r} of {offer.source_dataset!r} repeats "
                    f"{errors.unit} {offers[offer.key]}"
                )
        except RowInvalid as exc:
            errors.add(number, str(exc))
            continue
        if site is not None and site.key not in sites:
            sites[site.key] = (number, site)
            batch.sites.append(site)
        if provider is not None and provider.name not in providers:
            providers[provider.name] = (number, provider)
            batch.providers.append(provider)
        if offer is not None:
            offers[offer.key] = number
            offer_rows.append(number)
            batch.offers.append(offer)
    if not errors.errors:
        for index, reason in reference_problems(session, batch):
            errors.add(offer_rows[index], reason)
    errors.raise_if_any()
    return batch


def read_geojson(session: Session, path: str | Path) -> Batch:
    source = Path(path).name
    errors = ErrorCollector("feature", source)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            [RowError(exc.lineno, f"not valid JSON: {exc.msg}", "line", source)]
        ) from None
    except UnicodeDecodeError as exc:
        raise ImportFailed([RowError(None, f"not UTF-8 text: {exc}", source=source)]) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportFailed([RowError(None, "not a GeoJSON FeatureCollection", source=source)])
    features = data.get("features")
    if not isinstance(features, list):
        raise ImportFailed([RowError(None, "features must be a list", source=source)])
    rows: list[tuple[int, Mapping[str, Any]]] = []
    for number, feature in enumerate(features, start=1):
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise RowInvalid("not a GeoJSON Feature")
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                raise RowInvalid("properties must be an object")
            unknown = set(properties) - set(COLUMNS)
            if unknown:
                raise RowInvalid(f"unknown propert(y/ies) {', '.join(sorted(unknown))}")
            row = dict(properties)
            geometry = feature.get("geometry") or {}
            if not isinstance(geometry, dict):
                raise RowInvalid("geometry must be an object")
            if row.get("site_dataset") or row.get("site_id"):
                coords = geometry.get("coordinates")
                if geometry.get("type") != "Point" or not isinstance(coords, list):
                    raise RowInvalid("a feature with a site needs a Point geometry")
                if len(coords) < 2:
                    raise RowInvalid("a Point needs [lon, lat] coordinates")
                row["lon"], row["lat"] = coords[0], coords[1]
            elif geometry:
                row["service_area"] = geometry
        except RowInvalid as exc:
            errors.add(number, str(exc))
            continue
        rows.append((number, row))
    return rows_to_batch(session, rows, errors)


def read_csv(session: Session, path: str | Path) -> Batch:
    source = Path(path).name
    errors = ErrorCollector("row", source)
    try:
        content = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([RowError(None, f"not UTF-8 text: {exc}", source=source)]) from None
    reader = csv.DictReader(io.StringIO(content, newline=""), strict=True)
    rows: list[tuple[int, Mapping[str, Any]]] = []
    try:
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in COLUMNS]
        if not header:
            raise ImportFailed([RowError(None, "the file is empty", source=source)])
        if unknown:
            raise ImportFailed(
                [RowError(None, f"unknown column(s) {', '.join(unknown)}", source=source)]
            )
        for number, row in enumerate(reader, start=1):
            if None in row:
                errors.add(number, "the row has more cells than the header")
                continue
            rows.append((number, row))
    except csv.Error as exc:
        raise ImportFailed(
            [RowError(reader.line_num, f"malformed CSV: {exc}", "line", source)]
        ) from None
    return rows_to_batch(session, rows, errors)


def import_file(
    session: Session, path: str | Path, fmt: str | None = None, *, progress: bool = False
) -> ImportCounts:
    """Import a GeoJSON or CSV file of the exchange format; all or nothing."""
    if not Path(path).is_file():
        raise ImportFailed([RowError(None, f"file {path} is missing")])
    kind = format_of(path, fmt)
    batch = read_geojson(session, path) if kind == "geojson" else read_csv(session, path)
    return write_batch(session, batch, progress=progress, label=f"import {Path(path).name}")
