"""Checked records every importer produces, and the errors they report.

An import runs in two phases: first every row of the source is turned into a
record here (collecting a :class:`RowError` for each bad row instead of stopping),
then, only if no row failed, :mod:`mapservice.importers.store` writes the records
in one transaction. So a bad file never leaves half an import behind.

Rows are numbered as a user counts them: CSV data rows after the header (``row 1``
is the first line below the header), GeoJSON features by position (``feature 1``),
catalogue entries by their position in the file (``offer 3``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

# The field parsers live in their own module (fields.py); they are re-exported here
# because every importer reads them as ``records.<parser>``.
from mapservice.importers.fields import (
    UNKNOWN_WORDS,
    WEEKDAY_KEYS,
    RowInvalid,
    SlotRecord,
    age_range,
    boolean,
    capacity,
    category,
    choice,
    clock,
    coordinates,
    date,
    format_schedule_text,
    format_time,
    integer,
    languages,
    multipolygon,
    number,
    optional_boolean,
    parse_schedule_text,
    provider_kind,
    required_text,
    schedule,
    schedule_dicts,
    slot,
    slot_from_mapping,
    status,
    text,
    translations,
    weekday,
    wheelchair,
)

__all__ = [
    "UNKNOWN_WORDS",
    "WEEKDAY_KEYS",
    "AreaRecord",
    "Batch",
    "ErrorCollector",
    "ImportCounts",
    "ImportFailed",
    "OfferRecord",
    "ProviderRecord",
    "RowError",
    "RowInvalid",
    "SiteRecord",
    "SlotRecord",
    "SourceKey",
    "age_range",
    "boolean",
    "capacity",
    "category",
    "choice",
    "clock",
    "coordinates",
    "date",
    "format_schedule_text",
    "format_time",
    "integer",
    "languages",
    "multipolygon",
    "number",
    "offer_details",
    "optional_boolean",
    "parse_schedule_text",
    "provider_kind",
    "required_text",
    "schedule",
    "schedule_dicts",
    "slot",
    "slot_from_mapping",
    "status",
    "text",
    "translations",
    "weekday",
    "wheelchair",
]


@dataclass(frozen=True)
class RowError:
    """One bad row: where it is (``row_number``, 1-based; None for the whole file) and why."""

    row_number: int | None
    reason: str
    unit: str = "row"
    source: str | None = None

    def __str__(self) -> str:
        where = f"{self.unit} {self.row_number}" if self.row_number is not None else ""
        prefix = " ".join(part for part in (self.source, where) if part)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class ImportFailed(Exception):
    """The source has bad rows; nothing was written. ``errors`` lists every bad row."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(error) for error in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"import failed, {len(self.errors)} bad row(s): {shown}{more}")


@dataclass
class ImportCounts:
    """What an import did, by kind of record: ``created``/``updated``/``removed`` rows, and
    stored rows the source holds exactly as they are (``unchanged``, left untouched)."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    BUCKETS = ("created", "updated", "removed", "unchanged")

    def add(self, what: str, kind: str, count: int = 1) -> None:
        bucket = getattr(self, what)
        bucket[kind] = bucket.get(kind, 0) + count

    def merge(self, other: ImportCounts) -> None:
        for what in self.BUCKETS:
            for kind, count in getattr(other, what).items():
                self.add(what, kind, count)

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything."""
        return bool(self.created or self.updated or self.removed)

    def summary(self) -> str:
        """``updated 2 offers; unchanged 94 offers, 96 sites``, or, when nothing was written,
        ``nothing changed (unchanged 96 offers, 96 sites)``."""
        parts = {}
        for what in self.BUCKETS:
            bucket: dict[str, int] = getattr(self, what)
            if bucket:
                items = ", ".join(f"{count} {kind}" for kind, count in sorted(bucket.items()))
                parts[what] = f"{what} {items}"
        if self.changed:
            return "; ".join(parts.values())
        return f"nothing changed ({parts['unchanged']})" if parts else "nothing changed"


SourceKey = tuple[str, str]  # (source_dataset, source_id)


@dataclass(frozen=True)
class ProviderRecord:
    name: str
    kind: str | None = None  # None: keep the stored kind (the provider must exist then)
    contact: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class SiteRecord:
    """A site to create or update.

    Name, position and address are the source's (None clears a stored value). The flags
    ``is_anchor``, ``wheelchair`` and ``location_approximate`` are None where the source
    does not say, and then keep what another source (the catalogue) set.
    """

    source_dataset: str
    source_id: str
    name: str
    lon: float
    lat: float
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None
    subdistrict_code: str | None = None
    source_licence: str | None = None
    is_anchor: bool | None = None
    wheelchair: str | None = None
    location_approximate: bool | None = None

    @property
    def key(self) -> SourceKey:
        return (self.source_dataset, self.source_id)


@dataclass(frozen=True)
class OfferRecord:
    """An offer to create or replace (all fields are the source's)."""

    source_dataset: str
    source_id: str
    title: str
    category: str
    age_min_months: int
    age_max_months: int
    site_key: SourceKey | None = None
    service_area: BaseGeometry | None = None
    description: str | None = None
    languages: tuple[str, ...] = ()
    # Three-valued: None = the source does not say (shown as "not known"; the category's
    # taxonomy fact may fill it in at write time, see importers/facts.py).
    cost_free: bool | None = None
    cost_text: str | None = None
    registration_required: bool | None = None
    contact: str | None = None
    capacity: int | None = None
    status: str = "active"
    last_verified: dt.date | None = None
    translations: Mapping[str, Any] = field(default_factory=dict)
    provider_name: str | None = None
    is_example: bool = False
    schedule: tuple[SlotRecord, ...] = ()
    # Fields whose value is the taxonomy's general rule rather than the source's statement.
    taxonomy_facts: frozenset[str] = frozenset()
    # How the source itself classifies the record (open data ``objektart``): some taxonomy
    # facts hold only for some kinds. Not stored.
    source_kind: str | None = None

    @property
    def key(self) -> SourceKey:
        return (self.source_dataset, self.source_id)


@dataclass(frozen=True)
class AreaRecord:
    kind: str
    code: str
    name: str
    geom: MultiPolygon
    source_dataset: str
    share_children_0_6_pct: float | None = None
    share_children_6_18_pct: float | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    """Everything one import writes."""

    providers: list[ProviderRecord] = field(default_factory=list)
    sites: list[SiteRecord] = field(default_factory=list)
    offers: list[OfferRecord] = field(default_factory=list)
    areas: list[AreaRecord] = field(default_factory=list)
    # Datasets read completely, with every site id the source holds: stored sites of such a
    # dataset whose id is not listed vanished from the source and are deleted.
    complete_datasets: dict[str, set[str]] = field(default_factory=dict)
    # Flags another source sets on a site it does not own (the catalogue marks an open-data
    # school as anchor): site key -> {"is_anchor": …, "wheelchair": …}.
    site_flags: dict[SourceKey, dict[str, Any]] = field(default_factory=dict)


class ErrorCollector:
    """Collects row errors while records are parsed."""

    def __init__(self, unit: str = "row", source: str | None = None) -> None:
        self.unit = unit
        self.source = source
        self.errors: list[RowError] = []

    def add(self, row_number: int | None, reason: str) -> None:
        self.errors.append(RowError(row_number, reason, self.unit, self.source))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ImportFailed(self.errors)


def offer_details(entry: Mapping[str, Any], *, example_key: str) -> dict[str, Any]:
    """The checked offer fields that every source format spells alike, as keyword
    arguments of :class:`OfferRecord` (the caller adds keys, category, ages, place,
    provider and translations, which the formats spell differently)."""
    return {
        "title": required_text(entry.get("title"), "title"),
        "description": text(entry.get("description"), "description", max_length=5000),
        "languages": languages(entry.get("languages")),
        "cost_free": optional_boolean(entry.get("cost_free"), "cost_free"),
        "cost_text": text(entry.get("cost_text"), "cost_text"),
        "registration_required": optional_boolean(
            entry.get("registration_required"), "registration_required"
        ),
        "contact": text(entry.get("contact"), "contact", max_length=2000),
        "capacity": capacity(entry.get("capacity")),
        "status": status(entry.get("status")),
        "last_verified": date(entry.get("last_verified"), "last_verified"),
        "is_example": boolean(entry.get(example_key), example_key, default=False),
        "schedule": schedule(entry.get("schedule")),
    }
