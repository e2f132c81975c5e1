"""Writing checked records: upserts keyed on the source, in one savepoint.

Sites and offers are keyed on ``(source_dataset, source_id)``, providers on their
name, areas on ``(kind, code)``: importing the same source twice updates rows and
never duplicates them. Everything runs inside ``session.begin_nested()`` so that a
failure undoes this import only and leaves the caller's transaction usable.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, selectinload
from tqdm import tqdm

from mapservice.importers.records import (
    AreaRecord,
    Batch,
    ImportCounts,
    OfferRecord,
    ProviderRecord,
    SiteRecord,
    SlotRecord,
    SourceKey,
)
from mapservice.models import WGS84, Area, Offer, Provider, ScheduleSlot, Site


def existing_site_keys(session: Session, keys: Iterable[SourceKey]) -> set[SourceKey]:
    """Which of ``keys`` are already stored as sites."""
    wanted = set(keys)
    if not wanted:
        return set()
    rows = session.execute(
        select(Site.source_dataset, Site.source_id).where(
            tuple_(Site.source_dataset, Site.source_id).in_(list(wanted))
        )
    )
    return {(dataset, source_id) for dataset, source_id in rows}


def existing_provider_names(session: Session, names: Iterable[str]) -> set[str]:
    wanted = set(names)
    if not wanted:
        return set()
    return set(session.scalars(select(Provider.name).where(Provider.name.in_(wanted))))


def reference_problems(session: Session, batch: Batch) -> list[tuple[int, str]]:
    """Offers whose site or provider exists neither in the batch nor in the database.

    Returns ``(offer index in batch.offers, reason)`` pairs for the importer to number.
    """
    batch_sites = {site.key for site in batch.sites}
    stored_sites = existing_site_keys(
        session, (offer.site_key for offer in batch.offers if offer.site_key)
    )
    new_providers = {provider.name for provider in batch.providers if provider.kind}
    stored_providers = existing_provider_names(
        session, (offer.provider_name for offer in batch.offers if offer.provider_name)
    )
    known_providers = new_providers | stored_providers
    unknown_kinds = {
        provider.name
        for provider in batch.providers
        if provider.kind is None and provider.name not in stored_providers
    }
    problems = []
    for index, offer in enumerate(batch.offers):
        if offer.site_key is None and offer.service_area is None:
            problems.append((index, "offer has neither a site nor a service area"))
        if offer.site_key and offer.site_key not in batch_sites | stored_sites:
            dataset, source_id = offer.site_key
            problems.append((index, f"site {source_id!r} of {dataset!r} does not exist"))
        if offer.provider_name in unknown_kinds:
            problems.append(
                (index, f"provider {offer.provider_name!r} is new, so provider_kind is needed")
            )
        elif offer.provider_name and offer.provider_name not in known_providers:
            problems.append((index, f"provider {offer.provider_name!r} does not exist"))
    return problems


def write_batch(
    session: Session, batch: Batch, *, progress: bool = False, label: str = "import"
) -> ImportCounts:
    """Upsert everything in ``batch`` in one savepoint; return what changed."""
    counts = ImportCounts()
    total = len(batch.sites) + len(batch.offers) + len(batch.areas)
    with (
        session.begin_nested(),
        tqdm(total=total, desc=label, unit="rec", file=sys.stderr, disable=not progress) as bar,
    ):
        _upsert_areas(session, batch.areas, counts, bar)
        providers = _upsert_providers(session, batch.providers, counts)
        sites = _upsert_sites(session, batch.sites, counts, bar)
        for dataset, current in batch.complete_datasets.items():
            # A bulk delete: the database cascades to the offers and reach tables.
            result = session.execute(
                delete(Site).where(
                    Site.source_dataset == dataset, Site.source_id.not_in(list(current))
                )
            )
            if result.rowcount:  # type: ignore[attr-defined]
                counts.add("removed", "sites", result.rowcount)  # type: ignore[attr-defined]
        if batch.site_flags:
            flagged = _sites_by_key(session, batch.site_flags)
            for key, flags in batch.site_flags.items():
                for name, value in flags.items():
                    setattr(flagged[key], name, value)
                counts.add("updated", "sites")
        _upsert_offers(session, batch.offers, sites, providers, counts, bar)
        session.flush()
    return counts


def _upsert_areas(
    session: Session, records: Sequence[AreaRecord], counts: ImportCounts, bar: tqdm
) -> None:
    if not records:
        return
    wanted = [(record.kind, record.code) for record in records]
    stored = {
        (area.kind, area.code): area
        for area in session.scalars(select(Area).where(tuple_(Area.kind, Area.code).in_(wanted)))
    }
    for record in records:
        area = stored.get((record.kind, record.code))
        if area is None:
            area = Area(kind=record.kind, code=record.code)
            session.add(area)
            counts.add("created", "areas")
        else:
            counts.add("updated", "areas")
        area.name = record.name
        area.geom = from_shape(record.geom, srid=WGS84)  # type: ignore[assignment]
        area.share_children_0_6_pct = record.share_children_0_6_pct
        area.share_children_6_18_pct = record.share_children_6_18_pct
        area.attributes = dict(record.attributes)
        area.source_dataset = record.source_dataset
        bar.update()


def _upsert_providers(
    session: Session, records: Sequence[ProviderRecord], counts: ImportCounts
) -> dict[str, Provider]:
    names = {record.name for record in records}
    stored = {
        provider.name: provider
        for provider in session.scalars(select(Provider).where(Provider.name.in_(names)))
    }
    for record in records:
        provider = stored.get(record.name)
        if provider is None:
            assert record.kind is not None  # checked by reference_problems
            provider = Provider(name=record.name, kind=record.kind)
            session.add(provider)
            stored[record.name] = provider
            counts.add("created", "providers")
        else:
            counts.add("updated", "providers")
        if record.kind is not None:
            provider.kind = record.kind
        provider.contact = record.contact if record.contact is not None else provider.contact
        provider.website = record.website if record.website is not None else provider.website
    return stored


def _sites_by_key(session: Session, keys: Iterable[SourceKey]) -> dict[SourceKey, Site]:
    by_dataset: dict[str, set[str]] = defaultdict(set)
    for dataset, source_id in keys:
        by_dataset[dataset].add(source_id)
    result: dict[SourceKey, Site] = {}
    for dataset, ids in by_dataset.items():
        for site in session.scalars(select(Site).where(Site.source_dataset == dataset)):
            if site.source_id in ids:
                result[(dataset, site.source_id)] = site
    return result


def _upsert_sites(
    session: Session, records: Sequence[SiteRecord], counts: ImportCounts, bar: tqdm
) -> dict[SourceKey, Site]:
    stored = _sites_by_key(session, (record.key for record in records))
    for record in records:
        site = stored.get(record.key)
        if site is None:
            site = Site(
                source_dataset=record.source_dataset,
                source_id=record.source_id,
                is_anchor=False,
                wheelchair="unknown",
                location_approximate=False,
            )
            session.add(site)
            stored[record.key] = site
            counts.add("created", "sites")
        else:
            counts.add("updated", "sites")
        site.name = record.name
        site.geom = from_shape(Point(record.lon, record.lat), srid=WGS84)  # type: ignore[assignment]
        site.street = record.street
        site.house_number = record.house_number
        site.postcode = record.postcode
        site.city = record.city
        site.subdistrict_code = record.subdistrict_code
        site.source_licence = record.source_licence
        # None means "the source does not say": keep what another source (the catalogue) set.
        if record.is_anchor is not None:
            site.is_anchor = record.is_anchor
        if record.wheelchair is not None:
            site.wheelchair = record.wheelchair
        if record.location_approximate is not None:
            site.location_approximate = record.location_approximate
        bar.update()
    session.flush()
    return stored


def _slots_of(offer: Offer) -> tuple[SlotRecord, ...]:
    return tuple(
        SlotRecord(slot.weekday, slot.start_time, slot.end_time, slot.valid_from, slot.valid_to)
        for slot in offer.schedule
    )


def _upsert_offers(
    session: Session,
    records: Sequence[OfferRecord],
    sites: dict[SourceKey, Site],
    providers: dict[str, Provider],
    counts: ImportCounts,
    bar: tqdm,
) -> None:
    if not records:
        return
    missing_sites = {r.site_key for r in records if r.site_key and r.site_key not in sites}
    sites = sites | _sites_by_key(session, (key for key in missing_sites if key))
    missing_providers = {
        r.provider_name for r in records if r.provider_name and r.provider_name not in providers
    }
    if missing_providers:
        providers = providers | {
            provider.name: provider
            for provider in session.scalars(
                select(Provider).where(Provider.name.in_(missing_providers))
            )
        }
    stored: dict[SourceKey, Offer] = {}
    for dataset in {record.source_dataset for record in records}:
        for offer in session.scalars(
            select(Offer)
            .where(Offer.source_dataset == dataset)
            .options(selectinload(Offer.schedule))
        ):
            stored[(offer.source_dataset, offer.source_id)] = offer
    for record in records:
        found = stored.get(record.key)
        if found is None:
            offer = Offer(source_dataset=record.source_dataset, source_id=record.source_id)
            session.add(offer)
            stored[record.key] = offer
            counts.add("created", "offers")
        else:
            offer = found
            counts.add("updated", "offers")
        offer.title = record.title
        offer.description = record.description
        offer.category = record.category
        offer.age_min_months = record.age_min_months
        offer.age_max_months = record.age_max_months
        offer.languages = list(record.languages)
        offer.cost_free = record.cost_free
        offer.cost_text = record.cost_text
        offer.registration_required = record.registration_required
        offer.contact = record.contact
        offer.capacity = record.capacity
        offer.status = record.status
        offer.last_verified = record.last_verified
        offer.translations = {code: dict(entry) for code, entry in record.translations.items()}
        offer.is_example = record.is_example
        offer.site = sites[record.site_key] if record.site_key else None
        offer.provider = providers[record.provider_name] if record.provider_name else None
        offer.service_area = (  # type: ignore[assignment]
            from_shape(record.service_area, srid=WGS84) if record.service_area is not None else None
        )
        if offer.id is None or _slots_of(offer) != record.schedule:
            offer.schedule = [
                ScheduleSlot(
                    weekday=slot.weekday,
                    start_time=slot.start,
                    end_time=slot.end,
                    valid_from=slot.valid_from,
                    valid_to=slot.valid_to,
                )
                for slot in record.schedule
            ]
        bar.update()
