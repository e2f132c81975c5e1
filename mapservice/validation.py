"""Parsing of user input into checked values, with errors that name the parameter.

Free of Flask: the web adapters turn :class:`ParameterError` into a 400 answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS

# Every id column is a PostgreSQL ``integer``: a larger id can name nothing.
DATABASE_ID_MAX = 2**31 - 1


class ParameterError(ValueError):
    """A request parameter is missing or out of range."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"error": "invalid parameter", "parameter": self.parameter, "message": self.message}


@dataclass(frozen=True)
class BBox:
    """A WGS84 bounding box (west, south, east, north)."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def parse_float(args: Mapping[str, str], name: str, *, low: float, high: float) -> float | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ParameterError(name, f"must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ParameterError(name, f"must be between {low:g} and {high:g}, got {value:g}")
    return value


def parse_int(args: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ParameterError(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ParameterError(name, f"must be between {low} and {high}, got {value}")
    return value


def parse_latitude(args: Mapping[str, str], name: str = "lat") -> float | None:
    return parse_float(args, name, low=-90, high=90)


# Walking times are computed in EPSG:25832 (UTM zone 32N, central meridian 9° E); far from it
# the projection is undefined (PostGIS raised "Point outside of projection domain", a 500).
# Within 60° of the meridian it is defined everywhere.
WALKING_LONGITUDES = (-51.0, 69.0)


def parse_longitude(args: Mapping[str, str], name: str = "lon") -> float | None:
    """A longitude where walking times can be computed (see :data:`WALKING_LONGITUDES`)."""
    value = parse_float(args, name, low=-180, high=180)
    low, high = WALKING_LONGITUDES
    if value is not None and not low <= value <= high:
        raise ParameterError(
            name,
            f"{value:g} lies outside the area walking times are computed for ({low:g}..{high:g})",
        )
    return value


def parse_age_months(args: Mapping[str, str], *, today: dt.date | None = None) -> int | None:
    """The child's age in months from ``age_months``, ``age_years`` (+ ``age_extra_months``)
    or ``birth_month`` (YYYY-MM)."""
    months = parse_int(args, "age_months", low=0, high=MAX_AGE_MONTHS - 1)
    if months is not None:
        return months
    years = parse_int(args, "age_years", low=0, high=MAX_AGE_MONTHS // 12 - 1)
    extra = parse_int(args, "age_extra_months", low=0, high=11)
    if years is not None:
        return years * 12 + (extra or 0)
    if extra is not None:
        return extra
    raw = args.get("birth_month")
    if raw:
        try:
            born = dt.datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            raise ParameterError("birth_month", f"must look like 2024-05, got {raw!r}") from None
        today = today or dt.date.today()
        months = (today.year - born.year) * 12 + today.month - born.month
        if not 0 <= months < MAX_AGE_MONTHS:
            raise ParameterError("birth_month", "must lie in the last 18 years, not in the future")
        return months
    return None


def parse_categories(args: Mapping[str, str], name: str = "category") -> tuple[str, ...]:
    """Comma-separated category keys; each must be in the taxonomy."""
    raw = args.get(name) or ""
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    for key in keys:
        if key not in CATEGORY_KEYS:
            raise ParameterError(
                name, f"unknown category {key!r}; known: {', '.join(CATEGORY_KEYS)}"
            )
    return keys


def parse_bbox(args: Mapping[str, str], name: str = "bbox") -> BBox | None:
    """``west,south,east,north`` in WGS84 degrees."""
    raw = args.get(name)
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        raise ParameterError(name, "must be four numbers: west,south,east,north")
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        raise ParameterError(name, "must be four numbers: west,south,east,north") from None
    for value, low, high, what in (
        (west, -180, 180, "longitude"),
        (east, -180, 180, "longitude"),
        (south, -90, 90, "latitude"),
        (north, -90, 90, "latitude"),
    ):
        if not low <= value <= high:
            raise ParameterError(name, f"{what} {value:g} is outside {low}..{high}")
    if south > north or west > east:
        raise ParameterError(name, "south must not exceed north, nor west exceed east")
    return BBox(west, south, east, north)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_flag(args: Mapping[str, str], name: str) -> bool:
    """A yes/no switch: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``."""
    raw = (args.get(name) or "").strip().lower()
    if raw == "" or raw in _FALSE:
        return False
    if raw in _TRUE:
        return True
    raise ParameterError(name, f"must be 1 or 0, got {raw!r}")


def parse_languages(args: Mapping[str, str], name: str = "language") -> tuple[str, ...]:
    """Comma-separated two-letter language codes (ISO 639-1), e.g. ``tr,ar``."""
    raw = args.get(name) or ""
    codes = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for code in codes:
        if len(code) != 2 or not code.isascii() or not code.isalpha():
            raise ParameterError(name, f"must be two-letter language codes like tr, got {code!r}")
    return codes


def parse_choice(
    args: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None = None
) -> str | None:
    """One of ``choices`` (or ``default`` when absent/empty)."""
    raw = (args.get(name) or "").strip()
    if raw == "":
        return default
    if raw not in choices:
        raise ParameterError(name, f"must be one of {', '.join(choices)}, got {raw!r}")
    return raw


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekday(args: Mapping[str, str], name: str = "day") -> int | None:
    """A weekday as ``mon`` … ``sun``; 0 = Monday."""
    key = parse_choice(args, name, WEEKDAY_NAMES)
    return None if key is None else WEEKDAY_NAMES.index(key)
