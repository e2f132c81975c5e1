"""Writing checked records: upserts keyed on the source, in one savepoint.

Sites and offers are keyed on ``(source_dataset, source_id)``, providers on their
name, areas on ``(kind, code)``: importing the same source twice updates rows and
never duplicates them. Everything runs inside ``session.begin_nested()`` so that a
failure undoes this import only and leaves the caller's transaction usable.

Only values that differ from the stored ones are assigned, and a stored row counts as
``updated`` only if one did; otherwise it is ``unchanged`` and gets no UPDATE at all. That
matters beyond the count: an UPDATE moves ``site.updated_at`` (so its walking times are
recomputed) and bumps the data version (so the offer snapshot is rebuilt), even when it
writes the same values.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, selectinload
from tqdm import tqdm

from mapservice.editing.revisions import ChangeTracker, import_author
from mapservice.importers.facts import with_category_facts
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
    """Upsert everything in ``batch`` in one savepoint; return what changed.

    Every created, changed or removed offer, site and provider gets a revision whose
    author is ``import:<label>`` (written in one INSERT at the end).
    """
    counts = ImportCounts()
    tracker = ChangeTracker()
    total = len(batch.sites) + len(batch.offers) + len(batch.areas)
    with (
        session.begin_nested(),
        tqdm(total=total, desc=label, unit="rec", file=sys.stderr, disable=not progress) as bar,
    ):
        _upsert_areas(session, batch.areas, counts, bar)
        providers = _upsert_providers(session, batch.providers, counts, tracker)
        sites = _upsert_sites(session, batch.sites, counts, bar, tracker)
        for dataset, current in batch.complete_datasets.items():
            removed = _remove_vanished_sites(session, dataset, current, tracker)
            if removed:
                counts.add("removed", "sites", len(removed))
                tracker.deleted("site", removed)
        if batch.site_flags:
            flagged = _sites_by_key(session, batch.site_flags)
            for key, flags in batch.site_flags.items():
                tracker.watch("site", flagged[key], created=False)
                counts.add(_outcome(_assign(flagged[key], flags)), "sites")
        _upsert_offers(session, batch.offers, sites, providers, counts, bar, tracker)
        session.flush()
        tracker.write(session, import_author(label))
    return counts


def _assign(row: object, values: Mapping[str, Any]) -> bool:
    """Set the attributes of ``row`` whose stored value differs; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _assign_geometry(row: object, name: str, shape: BaseGeometry | None) -> bool:
    """Set a geometry column unless it holds the same shape already; whether it changed.

    A freshly built WKBElement never compares equal to the stored one, so the shapes are
    compared (exactly, up to float noise far below a millimetre).
    """
    stored: WKBElement | None = getattr(row, name)
    if stored is None and shape is None:
        return False
    if stored is not None and shape is not None and to_shape(stored).equals_exact(shape, 1e-9):
        return False
    setattr(row, name, from_shape(shape, srid=WGS84) if shape is not None else None)
    return True


def _as_json(value: Mapping[str, Any]) -> Any:
    """``value`` as it comes back from a JSONB column (tuples as lists, keys as text, any
    mapping as a dict), so that it compares equal to the stored value of the same data."""
    return json.loads(json.dumps(value, default=dict))


def _outcome(changed: bool) -> str:
    return "updated" if changed else "unchanged"


def _remove_vanished_sites(
    session: Session, dataset: str, current: set[str], tracker: ChangeTracker
) -> list[int]:
    """Delete the sites of ``dataset`` not in ``current``; their ids.

    Looked up first because the data-version trigger fires for every DELETE statement,
    even one that matches no row.
    """
    gone = list(
        session.scalars(
            select(Site.id).where(
                Site.source_dataset == dataset, Site.source_id.not_in(list(current))
            )
        )
    )
    if gone:
        tracker.deleted("offer", session.scalars(select(Offer.id).where(Offer.site_id.in_(gone))))
        # A bulk delete: the database cascades to the offers and reach tables.
        session.execute(delete(Site).where(Site.id.in_(gone)))
    return gone


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
        created = area is None
        if area is None:
            area = Area(kind=record.kind, code=record.code)
            session.add(area)
        changed = _assign(
            area,
            {
                "name": record.name,
                "share_children_0_6_pct": record.share_children_0_6_pct,
                "share_children_6_18_pct": record.share_children_6_18_pct,
                "attributes": _as_json(record.attributes),
                "source_dataset": record.source_dataset,
            },
        )
        changed |= _assign_geometry(area, "geom", record.geom)
        counts.add("created" if created else _outcome(changed), "areas")
        bar.update()


def _upsert_providers(
    session: Session,
    records: Sequence[ProviderRecord],
    counts: ImportCounts,
    tracker: ChangeTracker,
) -> dict[str, Provider]:
    names = {record.name for record in records}
    stored = {
        provider.name: provider
        for provider in session.scalars(select(Provider).where(Provider.name.in_(names)))
    }
    for record in records:
        provider = stored.get(record.name)
        created = provider is None
        if provider is None:
            assert record.kind is not None  # checked by reference_problems
            provider = Provider(name=record.name, kind=record.kind, trusted=False)
            session.add(provider)
            stored[record.name] = provider
        tracker.watch("provider", provider, created=created)
        # None means "the source does not say": keep what is stored.
        given = {"kind": record.kind, "contact": record.contact, "website": record.website}
        changed = _assign(
            provider, {name: value for name, value in given.items() if value is not None}
        )
        counts.add("created" if created else _outcome(changed), "providers")
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
    session: Session,
    records: Sequence[SiteRecord],
    counts: ImportCounts,
    bar: tqdm,
    tracker: ChangeTracker,
) -> dict[SourceKey, Site]:
    stored = _sites_by_key(session, (record.key for record in records))
    for record in records:
        site = stored.get(record.key)
        created = site is None
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
        tracker.watch("site", site, created=created)
        # None means "the source does not say": keep what another source (the catalogue) set.
        flags = {
            "is_anchor": record.is_anchor,
            "wheelchair": record.wheelchair,
            "location_approximate": record.location_approximate,
        }
        changed = _assign(
            site,
            {
                "name": record.name,
                "street": record.street,
                "house_number": record.house_number,
                "postcode": record.postcode,
                "city": record.city,
                "subdistrict_code": record.subdistrict_code,
                "source_licence": record.source_licence,
            }
            | {name: value for name, value in flags.items() if value is not None},
        )
        changed |= _assign_geometry(site, "geom", Point(record.lon, record.lat))
        counts.add("created" if created else _outcome(changed), "sites")
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
    tracker: ChangeTracker,
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
        # Where the source says nothing, the category's general rule (if any) fills in.
        record = with_category_facts(record)
        found = stored.get(record.key)
        if found is None:
            offer = Offer(
                source_dataset=record.source_dataset,
                source_id=record.source_id,
                no_school_holidays=False,
            )
            session.add(offer)
            stored[record.key] = offer
        else:
            offer = found
        tracker.watch("offer", offer, created=found is None)
        changed = _assign(
            offer,
            {
                "title": record.title,
                "description": record.description,
                "category": record.category,
                "age_min_months": record.age_min_months,
                "age_max_months": record.age_max_months,
                "languages": list(record.languages),
                "cost_free": record.cost_free,
                "cost_text": record.cost_text,
                "registration_required": record.registration_required,
                "taxonomy_facts": sorted(record.taxonomy_facts),
                "contact": record.contact,
                "capacity": record.capacity,
                "status": record.status,
                "last_verified": record.last_verified,
                "translations": _as_json(record.translations),
                "is_example": record.is_example,
                # Models compare by identity, and each site and provider is loaded once.
                "site": sites[record.site_key] if record.site_key else None,
                "provider": providers[record.provider_name] if record.provider_name else None,
            },
        )
        changed |= _assign_geometry(offer, "service_area", record.service_area)
        if offer.id is None or _slots_of(offer) != record.schedule:
            changed = True
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
        counts.add("created" if found is None else _outcome(changed), "offers")
        bar.update()
