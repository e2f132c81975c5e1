"""An offer's dates: its next meetings (Europe/Berlin, optionally none in the NRW school
holidays) and its RFC 5545 calendar file of weekly repeating events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from mapservice import school_holidays
from mapservice.family.place import lat_lon, place_text
from mapservice.models import Offer, ScheduleSlot

TIMEZONE = ZoneInfo("Europe/Berlin")
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


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
    place = place_text(offer)
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
            lat, lon = lat_lon(offer.site.geom)
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
