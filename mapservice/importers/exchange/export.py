"""Export of the exchange format: every site and offer as flat records, written as GeoJSON
or CSV (the fields are described in :mod:`mapservice.importers.exchange.format`)."""

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
from mapservice.importers.exchange.format import (
    COLUMNS,
    OFFER_FIELDS,
    PROVIDER_FIELDS,
    SITE_FIELDS,
    format_of,
)
from mapservice.importers.records import SlotRecord
from mapservice.models import Offer, Site


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
