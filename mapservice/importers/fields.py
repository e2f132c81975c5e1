"""Field parsers of the importers: each turns one source value into a checked Python
value or raises :class:`RowInvalid` with a message naming the field.

Shared by every source format (open data, the network's catalogue, GeoJSON/CSV
exchange). Three-valued facts (cost, registration) read with :func:`optional_boolean`:
an empty value means "not known", never "no".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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

# Spellings of "not known" a person may type into a spreadsheet cell (besides leaving it empty).
UNKNOWN_WORDS = ("unknown", "not known", "unbekannt", "nicht bekannt")


class RowInvalid(ValueError):
    """Raised by the field parsers; the importer turns it into a :class:`RowError`."""


@dataclass(frozen=True)
class SlotRecord:
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


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


def optional_boolean(value: Any, name: str) -> bool | None:
    """True, False, or None where the source says nothing (an empty cell, JSON null, or a
    spelling of "not known"): a missing fact stays unknown, it never becomes "no"."""
    if value is None or isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if not lowered or lowered in UNKNOWN_WORDS:
        return None
    if lowered in ("true", "yes", "1", "ja"):
        return True
    if lowered in ("false", "no", "0", "nein"):
        return False
    raise RowInvalid(f"{name} must be true, false or empty (not known), got {value!r}")


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
