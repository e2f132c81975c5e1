"""The family's question: filters, place, walking minutes and profile, and the page of the
list, parsed from the URL; a typed address looked up where no point was given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from mapservice import geocode, queries
from mapservice.validation import (
    ParameterError,
    parse_choice,
    parse_int,
    parse_latitude,
    parse_longitude,
    parse_weekday,
)

MINUTE_CHOICES = (5, 10, 15, 20)
DEFAULT_MINUTES = 15
# The family page offers walking and walking with a pram (the engine's profiles).
PROFILE_CHOICES = ("adult", "pram")
DEFAULT_PROFILE = "adult"
# The family list shows a page of this many offers (``shown``) from the ``start``-th (0 first),
# with links to the previous and the next page.
PAGE_SIZE = 25
MAX_SHOWN = 5000
MAX_START = 1_000_000
DAYPART_CHOICES = ("morning", "afternoon", "evening")


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    label: str


@dataclass(frozen=True)
class FamilyQuery:
    """The family's question, parsed from the URL."""

    criteria: queries.OfferFilter
    location: Location | None = None
    where: str = ""  # what was typed, if no point was given
    minutes: int = DEFAULT_MINUTES
    profile: str = DEFAULT_PROFILE
    # How many offers to list (None: all) from the ``start``-th on. The rest is counted, not
    # loaded where avoidable.
    shown: int | None = None
    start: int = 0
    # The typed house number, when the address search landed on its street without it.
    missing_number: str = ""


def parse_family_query(args: Mapping[str, str]) -> FamilyQuery:
    """Filters, place, minutes and profile from query parameters; raises ``ParameterError``.

    ``lat``/``lon`` (both or neither) give the place; ``where`` is its label, or, without a
    point, an address to look up (:func:`locate_address`). ``day`` (``mon``…``sun``) and
    ``time`` (``morning``/``afternoon``/``evening``) ask for offers open then.
    """
    criteria = queries.offer_filter_from_args(args)
    criteria = replace(
        criteria,
        weekday=parse_weekday(args, "day"),
        daypart=parse_choice(args, "time", DAYPART_CHOICES),
    )
    lat, lon = parse_latitude(args), parse_longitude(args)
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise ParameterError(missing, "lat and lon must be given together")
    where = " ".join((args.get("where") or "").split())[: geocode.MAX_QUERY_LENGTH]
    minutes_raw = parse_choice(args, "minutes", tuple(str(m) for m in MINUTE_CHOICES))
    profile = parse_choice(args, "profile", PROFILE_CHOICES, DEFAULT_PROFILE)
    location = Location(lat, lon, where) if lat is not None and lon is not None else None
    shown = parse_int(args, "shown", low=1, high=MAX_SHOWN)
    start = parse_int(args, "start", low=0, high=MAX_START)
    return FamilyQuery(
        criteria=criteria,
        location=location,
        where=where,
        minutes=int(minutes_raw) if minutes_raw else DEFAULT_MINUTES,
        profile=profile or DEFAULT_PROFILE,
        shown=PAGE_SIZE if shown is None else shown,
        start=start or 0,
    )


def locate_address(
    session: Session, query: FamilyQuery, centre: tuple[float, float] | None = None
) -> tuple[FamilyQuery, list[geocode.Place]]:
    """Without a point but with a typed address: take the match if it is certain, and say
    which others there were; a weak match is only offered as a choice, never taken
    (:mod:`mapservice.geocode.matching`). Returns the query (with its location set when found,
    and ``missing_number`` when the street was found but not the house number) and the hits:
    the answer first, or, without one, the choices nearest to the quarter (``centre``, lat/lon,
    where no quarter is loaded) first."""
    if query.location is not None or not query.where:
        return query, []
    found = geocode.lookup(session, query.where, limit=6, centre=centre)
    best = found.answer
    if best is None:
        return query, found.places
    located = replace(
        query,
        location=Location(best.lat, best.lon, best.label),
        missing_number=found.house_number if found.number_unknown else "",
    )
    return located, found.places
