"""Import of the exchange format: a GeoJSON or CSV file read into records and written all
or nothing; errors name the row or feature (the fields are described in
:mod:`mapservice.importers.exchange.format`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy.orm import Session

from mapservice.importers import records as r
from mapservice.importers.exchange.format import COLUMNS, format_of
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
)
from mapservice.importers.store import reference_problems, write_batch


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
