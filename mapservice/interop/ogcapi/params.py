"""Query parameters of OGC API – Features Part 1 (Core): ``limit``, ``offset``, ``bbox``,
``datetime`` and ``f``, checked with errors that name the parameter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mapservice.validation import DATABASE_ID_MAX, BBox, ParameterError, parse_bbox

LIMIT_DEFAULT = 10
LIMIT_MAXIMUM = 1000
# Offsets beyond this are refused rather than passed on to the database.
OFFSET_MAXIMUM = 1_000_000
FORMATS = ("json", "html")
# ``lang`` chooses the HTML pages' language (the language links of every page set it).
COMMON_PARAMETERS = frozenset({"f", "lang"})
ITEMS_PARAMETERS = COMMON_PARAMETERS | {"limit", "offset", "bbox", "datetime"}


@dataclass(frozen=True)
class Interval:
    """A closed time interval; None is an open end (``..`` or empty in ``datetime``)."""

    start: dt.datetime | None
    end: dt.datetime | None


def check_known(args: Iterable[str], known: Iterable[str]) -> None:
    """Unknown parameters answer 400 (OGC API – Features /req/core/query-param-unknown)."""
    allowed = set(known)
    for name in args:
        if name not in allowed:
            raise ParameterError(
                name, f"unknown parameter; this resource accepts {', '.join(sorted(allowed))}"
            )


def parse_limit(args: Mapping[str, str]) -> int:
    """``limit``: 1 or more; larger than :data:`LIMIT_MAXIMUM` is served as the maximum."""
    raw = args.get("limit")
    if raw is None or raw == "":
        return LIMIT_DEFAULT
    if not raw.isdigit() or len(raw) > 12:
        raise ParameterError("limit", f"must be a whole number from 1, got {raw[:20]!r}")
    value = int(raw)
    if value < 1:
        raise ParameterError("limit", "must be at least 1")
    return min(value, LIMIT_MAXIMUM)


def parse_offset(args: Mapping[str, str]) -> int:
    raw = args.get("offset")
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or len(raw) > 12 or int(raw) > OFFSET_MAXIMUM:
        raise ParameterError("offset", f"must be a whole number from 0 to {OFFSET_MAXIMUM}")
    return int(raw)


def parse_ogc_bbox(args: Mapping[str, str]) -> BBox | None:
    """Four numbers (2D) or six (3D, heights ignored), CRS84."""
    raw = args.get("bbox")
    if raw is not None and len(parts := raw.split(",")) == 6:
        raw = ",".join((parts[0], parts[1], parts[3], parts[4]))
    return parse_bbox({"bbox": raw} if raw is not None else {})


def _instant(text: str, *, end: bool) -> dt.datetime | None:
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            return moment.replace(tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParameterError(
            "datetime",
            "must be an RFC 3339 date-time or date, or an interval like 2025-01-01/.. ",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_datetime(args: Mapping[str, str]) -> Interval | None:
    """``datetime``: an instant, or an interval ``start/end`` with ``..`` or empty for open."""
    raw = args.get("datetime")
    if raw is None or raw == "":
        return None
    if "/" in raw:
        first, _, second = raw.partition("/")
        start, end = _instant(first, end=False), _instant(second, end=True)
        if start is None and end is None and first == second == "":
            raise ParameterError("datetime", "an interval needs at least one end")
        if start and end and start > end:
            raise ParameterError("datetime", "the interval's start lies after its end")
        return Interval(start, end)
    start = _instant(raw, end=False)
    if start is None:
        raise ParameterError("datetime", "'..' is only allowed as one end of an interval")
    if len(raw) == 10:
        return Interval(start, _instant(raw, end=True))
    return Interval(start, start)


def parse_feature_id(raw: str) -> int | None:
    """A numeric feature id within the database's integer range, else None (answered 404)."""
    if not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= DATABASE_ID_MAX else None
