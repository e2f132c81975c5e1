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
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from shapely.validation import explain_validity, make_valid

from mapservice.models import OFFER_STATUSES, PROVIDER_KINDS, WHEELCHAIR_VALUES
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# One slot in the text form: "mon 09:00-11:00" with an optional "(2025-01-01..2025-06-30)".
_SLOT = re.compile(
    r"^(?P<day>\S+)\s+(?P<start>\S+?)\s*-\s*(?P<end>[^\s(]+)"
    r"(?:\s*\((?P<from>[^.)]*)\.\.(?P<to>[^)]*)\))?$"
)


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


class RowInvalid(ValueError):
    """Raised by the field parsers; the importer turns it into a :class:`RowError`."""


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
class SlotRecord:
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


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
    cost_free: bool = True
    cost_text: str | None = None
    registration_required: bool = False
    contact: str | None = None
    capacity: int | None = None
    status: str = "active"
    last_verified: dt.date | None = None
    translations: Mapping[str, Any] = field(default_factory=dict)
    provider_name: str | None = None
    is_example: bool = False
    schedule: tuple[SlotRecord, ...] = ()

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


# --- field parsers: each raises RowInvalid with a message naming the field -----------------


def text(value: Any, name: str, *, required: bool = False, max_length: int = 300) -> str | None:
    """A trimmed string; empty means None."""
    if value is None:
        result = ""
    elif isinstance(value, str):
        result = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = str(value)
    else:
        raise RowInvalid(f"{name} must be text, got {type(value).__name__}")
    if not result:
        if required:
            raise RowInvalid(f"{name} is missing")
        return None
    if len(result) > max_length:
        raise RowInvalid(f"{name} is longer than {max_length} characters")
    return result


def required_text(value: Any, name: str, *, max_length: int = 300) -> str:
    result = text(value, name, required=True, max_length=max_length)
    assert result is not None
    return result


def number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise RowInvalid(f"{name} is missing")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise RowInvalid(f"{name} must be a number, got {value!r}") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise RowInvalid(f"{name} must be a finite number, got {value!r}")
    return result


def coordinates(lon_value: Any, lat_value: Any) -> tuple[float, float]:
    lon = number(lon_value, "lon")
    lat = number(lat_value, "lat")
    if not -90 <= lat <= 90:
        raise RowInvalid(f"lat {lat:g} is outside -90..90")
    if not -180 <= lon <= 180:
        raise RowInvalid(f"lon {lon:g} is outside -180..180")
    return lon, lat


def integer(value: Any, name: str, *, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise RowInvalid(f"{name} is missing")
        return None
    if isinstance(value, bool):
        raise RowInvalid(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise RowInvalid(f"{name} must be a whole number, got {value!r}") from None


def boolean(value: Any, name: str, *, default: bool | None = None) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        if default is None:
            raise RowInvalid(f"{name} is missing")
        return default
    lowered = str(value).strip().lower()
    if lowered in ("true", "yes", "1", "ja"):
        return True
    if lowered in ("false", "no", "0", "nein"):
        return False
    raise RowInvalid(f"{name} must be true or false, got {value!r}")


def choice(value: Any, name: str, allowed: Sequence[str], *, default: str | None = None) -> str:
    result = text(value, name, max_length=40)
    if result is None:
        if default is None:
            raise RowInvalid(f"{name} is missing")
        return default
    if result not in allowed:
        raise RowInvalid(f"unknown {name} {result!r}; known: {', '.join(allowed)}")
    return result


def category(value: Any) -> str:
    return choice(value, "category", CATEGORY_KEYS)


def age_range(min_value: Any, max_value: Any) -> tuple[int, int]:
    """Months, min inclusive, max exclusive, within 0..216 and min < max."""
    low = integer(min_value, "age_min_months")
    high = integer(max_value, "age_max_months")
    assert low is not None and high is not None
    if not 0 <= low <= MAX_AGE_MONTHS or not 0 <= high <= MAX_AGE_MONTHS:
        raise RowInvalid(f"age range {low}–{high} months is outside 0–{MAX_AGE_MONTHS}")
    if low >= high:
        raise RowInvalid(f"age_min_months {low} must be less than age_max_months {high}")
    return low, high


def languages(value: Any) -> tuple[str, ...]:
    """ISO 639-1 codes from a list or a ``de;tr``/``de, tr`` string."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = re.split(r"[;,\s]+", value.strip())
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise RowInvalid(f"languages must be a list of codes, got {value!r}")
    codes: list[str] = []
    for item in items:
        if not isinstance(item, str) or not _LANGUAGE.match(item.strip().lower()):
            raise RowInvalid(f"language {item!r} is not a two-letter ISO 639-1 code")
        code = item.strip().lower()
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise RowInvalid(f"{name} must be a date like 2025-01-31, got {value!r}") from None


def weekday(value: Any) -> int:
    key = str(value).strip().lower()[:3] if isinstance(value, str) else None
    if key not in WEEKDAY_KEYS:
        raise RowInvalid(f"weekday {value!r} is not one of {', '.join(WEEKDAY_KEYS)}")
    return WEEKDAY_KEYS.index(key)


def clock(value: Any, name: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise RowInvalid(f"{name} time {value!r} is not a time like 09:30")
    return dt.time(int(match.group(1)), int(match.group(2)))


def slot(
    day: Any, start: Any, end: Any, valid_from: Any = None, valid_to: Any = None
) -> SlotRecord:
    record = SlotRecord(
        weekday=weekday(day),
        start=clock(start, "start"),
        end=clock(end, "end"),
        valid_from=date(valid_from, "valid_from"),
        valid_to=date(valid_to, "valid_to"),
    )
    if record.start >= record.end:
        raise RowInvalid(
            f"slot {WEEKDAY_KEYS[record.weekday]} {format_time(record.start)}-"
            f"{format_time(record.end)} ends before it starts"
        )
    if record.valid_from and record.valid_to and record.valid_from > record.valid_to:
        raise RowInvalid(f"slot valid_from {record.valid_from} is after valid_to {record.valid_to}")
    return record


def slot_from_mapping(value: Any) -> SlotRecord:
    if not isinstance(value, Mapping):
        raise RowInvalid(f"a schedule entry must be an object, got {value!r}")
    unknown = set(value) - {"weekday", "start", "end", "valid_from", "valid_to"}
    if unknown:
        raise RowInvalid(f"unknown schedule field(s) {', '.join(sorted(unknown))}")
    return slot(
        value.get("weekday"),
        value.get("start"),
        value.get("end"),
        value.get("valid_from"),
        value.get("valid_to"),
    )


def schedule(value: Any) -> tuple[SlotRecord, ...]:
    """A list of slot objects, or the text form ``mon 09:00-11:00; wed 14:00-16:00``."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return parse_schedule_text(value)
    if isinstance(value, list | tuple):
        return tuple(slot_from_mapping(item) for item in value)
    raise RowInvalid(f"schedule must be a list or text, got {value!r}")


def parse_schedule_text(value: str) -> tuple[SlotRecord, ...]:
    """``mon 09:00-11:00; wed 14:00-16:00 (2025-01-01..2025-06-30)``; either date may be empty."""
    slots = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        match = _SLOT.match(part)
        if not match:
            raise RowInvalid(f"schedule entry {part!r} is not like 'mon 09:00-11:00'")
        valid_from, valid_to = match["from"] or None, match["to"] or None
        slots.append(slot(match["day"], match["start"], match["end"], valid_from, valid_to))
    return tuple(slots)


def format_time(value: dt.time) -> str:
    return value.strftime("%H:%M")


def format_schedule_text(slots: Iterable[SlotRecord]) -> str:
    parts = []
    for item in slots:
        text_ = f"{WEEKDAY_KEYS[item.weekday]} {format_time(item.start)}-{format_time(item.end)}"
        if item.valid_from or item.valid_to:
            start = item.valid_from.isoformat() if item.valid_from else ""
            end = item.valid_to.isoformat() if item.valid_to else ""
            text_ += f" ({start}..{end})"
        parts.append(text_)
    return "; ".join(parts)


def schedule_dicts(slots: Iterable[SlotRecord]) -> list[dict[str, str | None]]:
    return [
        {
            "weekday": WEEKDAY_KEYS[item.weekday],
            "start": format_time(item.start),
            "end": format_time(item.end),
            "valid_from": item.valid_from.isoformat() if item.valid_from else None,
            "valid_to": item.valid_to.isoformat() if item.valid_to else None,
        }
        for item in slots
    ]


def translations(value: Any) -> dict[str, dict[str, str]]:
    """``{"en": {"title": …, "description": …}, …}``; language codes are ISO 639-1."""
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise RowInvalid("translations must map a language code to title/description")
    result: dict[str, dict[str, str]] = {}
    for code, entry in value.items():
        if not isinstance(code, str) or not _LANGUAGE.match(code):
            raise RowInvalid(f"translation language {code!r} is not a two-letter code")
        if not isinstance(entry, Mapping) or not set(entry) <= {"title", "description"}:
            raise RowInvalid(f"translation {code!r} must have only title and description")
        cleaned = {
            key: required_text(entry[key], f"translations.{code}.{key}", max_length=5000)
            for key in ("title", "description")
            if entry.get(key) not in (None, "")
        }
        if cleaned:
            result[code] = cleaned
    return result


def status(value: Any) -> str:
    return choice(value, "status", OFFER_STATUSES, default="active")


def wheelchair(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return choice(value, "wheelchair", WHEELCHAIR_VALUES)


def provider_kind(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return choice(value, "provider_kind", PROVIDER_KINDS)


def capacity(value: Any) -> int | None:
    result = integer(value, "capacity", required=False)
    if result is not None and result <= 0:
        raise RowInvalid(f"capacity must be positive, got {result}")
    return result


def multipolygon(geometry: BaseGeometry, name: str = "area") -> MultiPolygon:
    """A valid MultiPolygon in WGS84 degrees from a Polygon or MultiPolygon."""
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon([geometry])
    if not isinstance(geometry, MultiPolygon):
        raise RowInvalid(f"{name} must be a Polygon or MultiPolygon, got {geometry.geom_type}")
    if geometry.is_empty:
        raise RowInvalid(f"{name} is empty")
    if not geometry.is_valid:
        # Official boundaries often touch themselves at a vertex; GEOS repairs that without
        # changing the area. A repair that changes the area noticeably means a broken shape.
        repaired = make_valid(geometry)
        parts = [
            part
            for part in getattr(repaired, "geoms", [repaired])
            if isinstance(part, Polygon | MultiPolygon)
        ]
        fixed = unary_union(parts) if parts else None
        if not isinstance(fixed, Polygon | MultiPolygon) or (
            abs(fixed.area - geometry.area) > 0.001 * geometry.area
        ):
            raise RowInvalid(f"{name} is not a valid polygon: {explain_validity(geometry)}")
        geometry = MultiPolygon([fixed]) if isinstance(fixed, Polygon) else fixed
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise RowInvalid(f"{name} has coordinates outside WGS84 degrees")
    return geometry


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
        "cost_free": boolean(entry.get("cost_free"), "cost_free", default=True),
        "cost_text": text(entry.get("cost_text"), "cost_text"),
        "registration_required": boolean(
            entry.get("registration_required"), "registration_required", default=False
        ),
        "contact": text(entry.get("contact"), "contact", max_length=2000),
        "capacity": capacity(entry.get("capacity")),
        "status": status(entry.get("status")),
        "last_verified": date(entry.get("last_verified"), "last_verified"),
        "is_example": boolean(entry.get(example_key), example_key, default=False),
        "schedule": schedule(entry.get("schedule")),
    }
