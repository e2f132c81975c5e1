"""What the family map asks and answers. Free of Flask.

A family gives the child's age, where they are (an address, a tap on the map, or the phone's
location) and a few filters; the answer is the fitting offers they reach on foot within the
chosen minutes, nearest first. Without a place the answer is every fitting offer, by
category. Also: an offer's next dates, its iCalendar file and its schema.org description.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from icalendar import Calendar, Event, vRecur
from shapely.geometry import Point
from sqlalchemy.orm import Session

from mapservice import geocode, queries, school_holidays
from mapservice.models import Offer, ScheduleSlot
from mapservice.offer_snapshot import OfferRecords
from mapservice.offer_snapshot import answers as records_answer
from mapservice.validation import (
    BBox,
    ParameterError,
    parse_choice,
    parse_int,
    parse_latitude,
    parse_longitude,
    parse_weekday,
)
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.reach import reachable_offers, site_times

TIMEZONE = ZoneInfo("Europe/Berlin")
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
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


@dataclass(frozen=True)
class Listed:
    """An offer in the answer; ``minutes`` on foot when a place was given."""

    offer: Offer
    minutes: float | None = None
    estimated: bool = False
    comes_home: bool = False


@dataclass(frozen=True)
class FamilyAnswer:
    """``items``: the offers listed (at most ``query.shown``, from the ``start``-th of all
    that fit, 0 first), ``total``: all that fit; ``next_offer``: the id of the first offer
    after them (where the next page starts)."""

    items: list[Listed] = field(default_factory=list)
    located: bool = False
    estimated: bool = False
    total: int = 0
    next_offer: int | None = None
    start: int = 0

    @property
    def more(self) -> int:
        """How many fitting offers follow the listed ones."""
        return max(0, self.total - self.start - len(self.items))


def find_for_family(
    session: Session,
    query: FamilyQuery,
    settings: WalkSettings,
    records: OfferRecords | None = None,
) -> FamilyAnswer:
    """The offers that fit; reachable ones nearest first when a place is given.

    ``records``: the data version's offers in memory (:mod:`mapservice.offer_snapshot`),
    used where they can answer the filter (not for weekday or time of day), so the answer
    costs the walking times' one statement and no loading of offers.

    Raises ``ParameterError`` (``lat``) when the walking engine refuses the point.
    """
    if records is not None and records_answer(query.criteria):
        return _from_records(session, query, settings, records)
    if query.location is None:
        if query.shown is None:
            offers = queries.find_offers(session, query.criteria)
            return FamilyAnswer([Listed(o, comes_home=o.site is None) for o in offers])
        # One more than shown: where the next page starts.
        total, offers = queries.find_offers_page(
            session, query.criteria, query.shown + 1, offset=query.start
        )
        listed = [Listed(o, comes_home=o.site is None) for o in offers]
        return _paged(
            listed, total, query.shown, query.start, located=False, estimated=False, offset=True
        )
    loc = query.location
    profile = settings.profiles[query.profile]
    answer = reachable_offers(
        session, loc.lon, loc.lat, query.minutes, profile, query.criteria, settings
    )
    items = [
        Listed(offer, round(time.seconds / 60, 1), time.estimated) for offer, time in answer.offers
    ]
    # Offers that come to the family's home, where the home lies in their service area
    # (a box of a few centimetres meets the areas that contain the point).
    eps = 1e-7
    here = BBox(loc.lon - eps, loc.lat - eps, loc.lon + eps, loc.lat + eps)
    home = queries.find_offers(session, replace(query.criteria, bbox=here))
    items += [Listed(o, comes_home=True) for o in home if o.site is None]
    return _paged(
        items, len(items), query.shown, query.start, located=True, estimated=answer.estimated
    )


def _from_records(
    session: Session, query: FamilyQuery, settings: WalkSettings, records: OfferRecords
) -> FamilyAnswer:
    """:func:`find_for_family` with the offers taken from memory: the same answer."""
    criteria = query.criteria
    if query.location is None:
        # Paged: the quarter's first (as find_offers_page); everything: by category.
        fitting = records.fitting(criteria, quarter_first=query.shown is not None)
        listed = [Listed(o, comes_home=o.site is None) for o in fitting]
        if query.shown is None:
            return FamilyAnswer(listed)
        return _paged(listed, len(listed), query.shown, query.start, located=False, estimated=False)
    loc = query.location
    profile = settings.profiles[query.profile]
    origin, found = site_times(session, loc.lon, loc.lat, query.minutes, profile, settings)
    times = {time.site_id: time for time in found}  # nearest first
    pairs = sorted(
        (
            (offer, time)
            for site_id, time in times.items()
            for offer in records.at_site(site_id, criteria)
        ),
        key=lambda pair: (pair[1].seconds, pair[0].title, pair[0].id),
    )
    items = [Listed(offer, round(time.seconds / 60, 1), time.estimated) for offer, time in pairs]
    estimated = origin.estimated or any(time.estimated for _, time in pairs)
    items += [Listed(o, comes_home=True) for o in records.coming_home(loc.lon, loc.lat, criteria)]
    return _paged(items, len(items), query.shown, query.start, located=True, estimated=estimated)


def _paged(
    items: list[Listed],
    total: int,
    shown: int | None,
    start: int,
    *,
    located: bool,
    estimated: bool,
    offset: bool = False,
) -> FamilyAnswer:
    """The page of ``shown`` items from the ``start``-th; ``offset``: ``items`` begin there
    already (the database skipped the ones before)."""
    first = 0 if offset else start
    listed = items[first:] if shown is None else items[first : first + shown]
    after = first + len(listed)
    following = items[after] if len(items) > after else None
    return FamilyAnswer(
        listed,
        located=located,
        estimated=estimated,
        total=total,
        next_offer=following.offer.id if following else None,
        start=start,
    )


# --- dates -------------------------------------------------------------------------------


def _valid_on(slot: ScheduleSlot, day: dt.date) -> bool:
    return (slot.valid_from is None or slot.valid_from <= day) and (
        slot.valid_to is None or slot.valid_to >= day
    )


def next_dates(
    slots: Iterable[ScheduleSlot],
    today: dt.date | None = None,
    count: int = 4,
    weeks: int = 8,
    *,
    skip_school_holidays: bool = False,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The next ``count`` meetings (start, end; Europe/Berlin) within ``weeks`` from ``today``;
    ``skip_school_holidays``: none on a (known) NRW school holiday."""
    today = today or dt.datetime.now(TIMEZONE).date()
    holidays = school_holidays.nrw() if skip_school_holidays else None
    found = []
    for offset in range(weeks * 7):
        day = today + dt.timedelta(days=offset)
        if holidays is not None and holidays.is_holiday(day):
            continue
        for slot in slots:
            if slot.weekday == day.weekday() and _valid_on(slot, day):
                found.append(
                    (
                        dt.datetime.combine(day, slot.start_time, TIMEZONE),
                        dt.datetime.combine(day, slot.end_time, TIMEZONE),
                    )
                )
    return sorted(found)[:count]


def _first_meeting(slot: ScheduleSlot, today: dt.date) -> dt.date:
    start = max(today, slot.valid_from) if slot.valid_from else today
    return start + dt.timedelta(days=(slot.weekday - start.weekday()) % 7)


def offer_calendar(
    offer: Offer,
    *,
    title: str,
    description: str | None,
    url: str,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    pause_note: str | None = None,
) -> bytes:
    """An RFC 5545 calendar: one weekly repeating event per schedule slot still to come.

    ``DTSTART`` is the first meeting from today (or from ``valid_from``), in Europe/Berlin
    with its VTIMEZONE; ``valid_to`` becomes the rule's ``UNTIL`` (in UTC, as RFC 5545 asks
    when the start has a time zone). An offer that pauses in the NRW school holidays gets
    an ``EXDATE`` for every meeting that falls on a known holiday, and ``pause_note`` (what
    the caller says about it, in the reader's language) in its description.
    """
    today = today or dt.datetime.now(TIMEZONE).date()
    now = now or dt.datetime.now(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//Netzwerk INFamilie//mapservice//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", title)
    place = _place_text(offer)
    for slot in offer.schedule:
        if slot.valid_to is not None and slot.valid_to < today:
            continue
        day = _first_meeting(slot, today)
        if slot.valid_to is not None and day > slot.valid_to:
            continue
        event = Event()
        event.add("uid", f"offer-{offer.id}-slot-{slot.id}@mapservice")
        event.add("dtstamp", now)
        event.add("summary", title)
        event.add("dtstart", dt.datetime.combine(day, slot.start_time, TIMEZONE))
        event.add("dtend", dt.datetime.combine(day, slot.end_time, TIMEZONE))
        rule: dict[str, Any] = {"freq": "weekly", "byday": ICAL_DAYS[slot.weekday]}
        if slot.valid_to is not None:
            last = dt.datetime.combine(slot.valid_to, slot.end_time, TIMEZONE)
            rule["until"] = last.astimezone(dt.UTC)
        event.add("rrule", vRecur(rule))
        if offer.no_school_holidays:
            skipped = _school_holiday_meetings(slot, day)
            if skipped:
                event.add("exdate", skipped)
        text = "\n\n".join(part for part in (description, pause_note, url) if part)
        event.add("description", text)
        if place:
            event.add("location", place)
        if offer.site is not None:
            lat, lon = _lat_lon(offer.site.geom)
            event.add("geo", (round(lat, 6), round(lon, 6)))
        event.add("url", url)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data


def _school_holiday_meetings(slot: ScheduleSlot, first: dt.date) -> list[dt.datetime]:
    """The slot's meetings from ``first`` on that fall on a known NRW school holiday."""
    return [
        dt.datetime.combine(day, slot.start_time, TIMEZONE)
        for holiday in school_holidays.nrw().breaks
        for day in holiday.days()
        if day >= first
        and day.weekday() == slot.weekday
        and (slot.valid_to is None or day <= slot.valid_to)
    ]


def _lat_lon(geom: WKBElement) -> tuple[float, float]:
    point = to_shape(geom)
    assert isinstance(point, Point)
    return float(point.y), float(point.x)


def _place_text(offer: Offer) -> str:
    site = offer.site
    if site is None:
        return ""
    return ", ".join(part for part in (site.name, site.address) if part)


def offer_json_ld(
    offer: Offer, *, title: str, description: str | None, url: str, language: str
) -> dict[str, Any]:
    """schema.org for an offer: an ``Event`` with its weekly schedule where it has one,
    else a ``Service``; with the place (address, coordinates) or the area it serves."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event" if offer.schedule else "Service",
        "name": title,
        "url": url,
        "inLanguage": language,
        "audience": {
            "@type": "PeopleAudience",
            "suggestedMinAge": round(offer.age_min_months / 12, 1),
            "suggestedMaxAge": round(offer.age_max_months / 12, 1),
        },
    }
    if offer.cost_free is not None:  # said only when known
        data["isAccessibleForFree"] = offer.cost_free
    if description:
        data["description"] = description
    if offer.languages:
        data["availableLanguage"] = list(offer.languages)
    if offer.provider is not None:
        key = "organizer" if offer.schedule else "provider"
        data[key] = {"@type": "Organization", "name": offer.provider.name}
    if offer.site is not None:
        site = offer.site
        lat, lon = _lat_lon(site.geom)
        place: dict[str, Any] = {
            "@type": "Place",
            "name": site.name,
            "geo": {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon},
        }
        if site.street:
            place["address"] = {
                "@type": "PostalAddress",
                "streetAddress": " ".join(p for p in (site.street, site.house_number) if p),
                "postalCode": site.postcode,
                "addressLocality": site.city or "Dortmund",
                "addressCountry": "DE",
            }
        data["location" if offer.schedule else "areaServed"] = place
    else:
        data["areaServed"] = {"@type": "Place", "name": "Dortmund"}
    if offer.schedule:
        data["eventSchedule"] = [_schema_schedule(slot) for slot in offer.schedule]
        data["eventAttendanceMode"] = "https://schema.org/OfflineEventAttendanceMode"
        data["eventStatus"] = "https://schema.org/EventScheduled"
        first = next_dates(offer.schedule, count=1)
        if first:
            data["startDate"] = first[0][0].isoformat()
            data["endDate"] = first[0][1].isoformat()
    return data


def _schema_schedule(slot: ScheduleSlot) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "@type": "Schedule",
        "repeatFrequency": "P1W",
        "byDay": f"https://schema.org/{SCHEMA_DAYS[slot.weekday]}",
        "startTime": slot.start_time.strftime("%H:%M"),
        "endTime": slot.end_time.strftime("%H:%M"),
        "scheduleTimezone": "Europe/Berlin",
    }
    if slot.valid_from:
        schedule["startDate"] = slot.valid_from.isoformat()
    if slot.valid_to:
        schedule["endDate"] = slot.valid_to.isoformat()
    return schedule
