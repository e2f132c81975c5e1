"""Importer for the network's own offer catalogue (``data/infamilie-offers.toml``).

The file format is described at the top of that file. In short: ``[providers.<key>]``,
``[sites.<key>]`` (own sites, or ``open_data = {dataset, id}`` references to sites
another import holds) and ``[[offers]]`` with structured weekly schedules. Every site
and offer defined in the file gets ``source_dataset = [catalogue].dataset`` and its
key/id as ``source_id``; offers the file no longer lists are *not* deleted (a paused
offer should be set to ``status = "paused"``).

Errors are numbered by position: ``provider 2``, ``site 1``, ``offer 5`` (1-based, in
file order), each with the entry's key in the reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.importers import records as r
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
    SourceKey,
)
from mapservice.importers.store import existing_site_keys, reference_problems, write_batch
from mapservice.models import AREA_KINDS, Area
from mapservice.taxonomy import categories

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[2] / "data" / "infamilie-offers.toml"
DEFAULT_DATASET = "infamilie-catalogue"

_TOP_KEYS = {"catalogue", "providers", "sites", "offers"}
_PROVIDER_KEYS = {"name", "kind", "contact", "website"}
_OWN_SITE_KEYS = {
    "name",
    "street",
    "house_number",
    "postcode",
    "city",
    "subdistrict_code",
    "lon",
    "lat",
    "location_approximate",
    "is_anchor",
    "wheelchair",
    "licence",
}
_REF_SITE_KEYS = {"open_data", "is_anchor", "wheelchair"}
_OFFER_KEYS = {
    "id",
    "title",
    "description",
    "category",
    "age_min_months",
    "age_max_months",
    "site",
    "service_area",
    "provider",
    "languages",
    "cost_free",
    "cost_text",
    "registration_required",
    "contact",
    "capacity",
    "status",
    "last_verified",
    "example",
    "schedule",
    "translations",
}


def _check_keys(entry: Any, allowed: set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise RowInvalid(f"{what} must be a table")
    unknown = set(entry) - allowed
    if unknown:
        raise RowInvalid(f"unknown field(s) {', '.join(sorted(unknown))}")
    return entry


def _service_area(session: Session, value: Any) -> Any:
    """The geometry of ``"<kind>:<code>"``, an Area already in the database."""
    reference = r.required_text(value, "service_area", max_length=100)
    kind, _, code = reference.partition(":")
    if kind not in AREA_KINDS or not code:
        raise RowInvalid(f"service_area {reference!r} must look like 'quarter:<code>'")
    geom = session.scalar(select(Area.geom).where(Area.kind == kind, Area.code == code))
    if geom is None:
        raise RowInvalid(
            f"service area {reference!r} is not in the database; run import-opendata first"
        )
    return r.multipolygon(to_shape(geom), "service_area")


def read_catalogue(session: Session, path: str | Path) -> Batch:
    """Parse and check the catalogue; raise :class:`ImportFailed` listing every bad entry."""
    path = Path(path)
    source = path.name
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportFailed([RowError(None, f"file {path} is missing")]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportFailed([RowError(None, f"not valid TOML: {exc}", source=source)]) from None

    errors: list[RowError] = []
    unknown = set(document) - _TOP_KEYS
    if unknown:
        reason = f"unknown section(s) {', '.join(sorted(unknown))}"
        errors.append(RowError(None, reason, "", source))
    meta = document.get("catalogue", {})
    dataset = DEFAULT_DATASET
    if isinstance(meta, Mapping) and meta.get("dataset"):
        dataset = str(meta["dataset"]).strip()
    batch = Batch()

    # Providers: key -> name.
    provider_names: dict[str, str] = {}
    collector = ErrorCollector("provider", source)
    for number, (key, entry) in enumerate(dict(document.get("providers", {})).items(), start=1):
        try:
            entry = _check_keys(entry, _PROVIDER_KEYS, "a provider")
            kind = r.provider_kind(entry.get("kind"))
            if kind is None:
                raise RowInvalid("kind is missing")
            provider_record = ProviderRecord(
                name=r.required_text(entry.get("name"), "name"),
                kind=kind,
                contact=r.text(entry.get("contact"), "contact", max_length=2000),
                website=r.text(entry.get("website"), "website", max_length=500),
            )
        except RowInvalid as exc:
            collector.add(number, f"{key!r}: {exc}")
            continue
        provider_names[key] = provider_record.name
        batch.providers.append(provider_record)
    errors.extend(collector.errors)

    # Sites: key -> source key (own or referenced).
    site_keys: dict[str, SourceKey] = {}
    referenced: dict[SourceKey, int] = {}
    collector = ErrorCollector("site", source)
    for number, (key, entry) in enumerate(dict(document.get("sites", {})).items(), start=1):
        try:
            if isinstance(entry, Mapping) and "open_data" in entry:
                entry = _check_keys(entry, _REF_SITE_KEYS, "a site")
                ref = entry["open_data"]
                if not isinstance(ref, Mapping) or set(ref) != {"dataset", "id"}:
                    raise RowInvalid("open_data must be { dataset = ..., id = ... }")
                site_key = (
                    r.required_text(ref["dataset"], "open_data.dataset", max_length=100),
                    r.required_text(ref["id"], "open_data.id", max_length=200),
                )
                flags: dict[str, Any] = {}
                if "is_anchor" in entry:
                    flags["is_anchor"] = r.boolean(entry["is_anchor"], "is_anchor")
                wheelchair = r.wheelchair(entry.get("wheelchair"))
                if wheelchair is not None:
                    flags["wheelchair"] = wheelchair
                batch.site_flags[site_key] = flags
                referenced[site_key] = number
            else:
                entry = _check_keys(entry, _OWN_SITE_KEYS, "a site")
                lon, lat = r.coordinates(entry.get("lon"), entry.get("lat"))
                site_record = SiteRecord(
                    source_dataset=dataset,
                    source_id=key,
                    name=r.required_text(entry.get("name"), "name"),
                    lon=lon,
                    lat=lat,
                    street=r.text(entry.get("street"), "street", max_length=200),
                    house_number=r.text(entry.get("house_number"), "house_number", max_length=20),
                    postcode=r.text(entry.get("postcode"), "postcode", max_length=10),
                    city=r.text(entry.get("city"), "city", max_length=100),
                    subdistrict_code=r.text(
                        entry.get("subdistrict_code"), "subdistrict_code", max_length=10
                    ),
                    source_licence=r.text(entry.get("licence"), "licence", max_length=200),
                    is_anchor=r.boolean(entry.get("is_anchor"), "is_anchor", default=False),
                    wheelchair=r.wheelchair(entry.get("wheelchair")) or "unknown",
                    location_approximate=r.boolean(
                        entry.get("location_approximate"), "location_approximate", default=False
                    ),
                )
                site_key = site_record.key
                batch.sites.append(site_record)
        except RowInvalid as exc:
            collector.add(number, f"{key!r}: {exc}")
            continue
        site_keys[key] = site_key
    for missing in set(referenced) - existing_site_keys(session, referenced):
        collector.add(
            referenced[missing],
            f"open-data site {missing[1]!r} of {missing[0]!r} is not in the database; "
            "run import-opendata first",
        )
        del batch.site_flags[missing]
    errors.extend(collector.errors)

    # Offers.
    collector = ErrorCollector("offer", source)
    offer_rows: list[int] = []
    seen: dict[str, int] = {}
    offers = document.get("offers", [])
    if not isinstance(offers, list):
        collector.add(None, "offers must be an array of tables ([[offers]])")
        offers = []
    taxonomy = categories()
    for number, entry in enumerate(offers, start=1):
        try:
            entry = _check_keys(entry, _OFFER_KEYS, "an offer")
            offer_id = r.required_text(entry.get("id"), "id", max_length=200)
            if offer_id in seen:
                raise RowInvalid(f"id {offer_id!r} repeats offer {seen[offer_id]}")
            seen[offer_id] = number
            category = r.category(entry.get("category"))
            low, high = r.age_range(
                entry.get("age_min_months", taxonomy[category].min_months),
                entry.get("age_max_months", taxonomy[category].max_months),
            )
            offer_site: SourceKey | None = None
            if entry.get("site") is not None:
                if entry["site"] not in site_keys:
                    raise RowInvalid(f"site {entry['site']!r} is not defined in [sites]")
                offer_site = site_keys[entry["site"]]
            provider = None
            if entry.get("provider") is not None:
                if entry["provider"] not in provider_names:
                    raise RowInvalid(f"provider {entry['provider']!r} is not in [providers]")
                provider = provider_names[entry["provider"]]
            service_area = (
                _service_area(session, entry["service_area"])
                if entry.get("service_area") is not None
                else None
            )
            if offer_site is None and service_area is None:
                raise RowInvalid("an offer needs a site or a service_area")
            offer_record = OfferRecord(
                source_dataset=dataset,
                source_id=offer_id,
                **r.offer_details(entry, example_key="example"),
                category=category,
                age_min_months=low,
                age_max_months=high,
                site_key=offer_site,
                service_area=service_area,
                translations=r.translations(entry.get("translations")),
                provider_name=provider,
            )
        except RowInvalid as exc:
            label = entry.get("id") if isinstance(entry, Mapping) else None
            collector.add(number, f"{label!r}: {exc}" if label else str(exc))
            continue
        batch.offers.append(offer_record)
        offer_rows.append(number)
    if not errors and not collector.errors:
        for index, reason in reference_problems(session, batch):
            collector.add(offer_rows[index], reason)
    errors.extend(collector.errors)
    if errors:
        raise ImportFailed(errors)
    return batch


def import_catalogue(
    session: Session, path: str | Path = DEFAULT_CATALOGUE, *, progress: bool = False
) -> ImportCounts:
    """Import the catalogue at ``path``; all or nothing. Needs the open data first."""
    batch = read_catalogue(session, path)
    return write_batch(session, batch, progress=progress, label="catalogue")
