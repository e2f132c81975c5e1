"""Offers that pause in the NRW school holidays: the dates (data/nrw-school-holidays.toml),
the calendar export without those days, the next dates and what the offer page says."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.family.dates import next_dates, offer_calendar
from mapservice.models import Offer, ScheduleSlot
from mapservice.school_holidays import HOLIDAYS_FILE, nrw, read

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_data_file_names_its_source_and_holds_two_school_years() -> None:
    holidays = read(HOLIDAYS_FILE)
    assert "schulministerium.nrw" in holidays.source
    assert {item.school_year for item in holidays.breaks} == {"2025/26", "2026/27"}
    assert [item.name for item in holidays.breaks[:5]] == [
        "Herbstferien",
        "Weihnachtsferien",
        "Osterferien",
        "Pfingstferien",
        "Sommerferien",
    ]
    for earlier, later in zip(holidays.breaks, holidays.breaks[1:], strict=False):
        assert earlier.last < later.first  # in order, never overlapping
    assert all(holidays.known(item.first) and holidays.known(item.last) for item in holidays.breaks)
    assert holidays.is_holiday(dt.date(2026, 12, 24)) is True
    assert holidays.is_holiday(dt.date(2026, 12, 1)) is False
    # after the known school years: not known, never "no holiday"
    assert holidays.is_holiday(dt.date(2027, 10, 25)) is None


def pausing_offer(session: Session) -> Offer:
    offer = session.scalar(
        select(Offer)
        .where(Offer.status == "active", Offer.site_id.is_not(None))
        .order_by(Offer.id)
        .limit(1)
    )
    assert offer is not None
    offer.schedule = [
        ScheduleSlot(weekday=1, start_time=dt.time(9), end_time=dt.time(11))  # Tuesdays
    ]
    offer.no_school_holidays = True
    session.flush()
    return offer


def calendar_of(offer: Offer, today: dt.date, note: str | None = None) -> Calendar:
    data = offer_calendar(
        offer,
        title="Elterncafé",
        description=None,
        url="https://example.org/o",
        today=today,
        pause_note=note,
    )
    return Calendar.from_ical(data)


def exdates(calendar: Calendar) -> set[dt.datetime]:
    (event,) = calendar.walk("VEVENT")
    found = event.get("exdate")
    if found is None:
        return set()
    lists = found if isinstance(found, list) else [found]
    return {item.dt for entry in lists for item in entry.dts}


def test_calendar_leaves_out_every_meeting_in_the_school_holidays(db_session: Session) -> None:
    offer = pausing_offer(db_session)
    today = dt.date(2026, 11, 29)
    skipped = exdates(calendar_of(offer, today, note="pausiert in den NRW-Schulferien"))
    expected = {
        dt.datetime.combine(day, dt.time(9), BERLIN)
        for item in nrw().breaks
        for day in item.days()
        if day >= today and day.weekday() == 1
    }
    # Weihnachtsferien 2026/27: Tuesdays 29 Dec and 5 Jan; Osterferien 2027: 23 and 30 Mar;
    # Pfingstferien 2027: Tuesday 18 May; Sommerferien 2027: 20 Jul … 31 Aug.
    assert dt.datetime(2026, 12, 29, 9, tzinfo=BERLIN) in skipped
    assert dt.datetime(2027, 5, 18, 9, tzinfo=BERLIN) in skipped
    assert dt.datetime(2027, 8, 31, 9, tzinfo=BERLIN) in skipped
    assert dt.datetime(2026, 12, 22, 9, tzinfo=BERLIN) not in skipped  # a school day
    assert skipped == expected and len(expected) == 2 + 2 + 1 + 7
    (event,) = calendar_of(offer, today, note="pausiert in den NRW-Schulferien").walk("VEVENT")
    assert "pausiert in den NRW-Schulferien" in str(event.get("description"))
    # an offer that does not pause has no exceptions
    offer.no_school_holidays = False
    assert exdates(calendar_of(offer, today)) == set()


def test_next_dates_skip_the_school_holidays(db_session: Session) -> None:
    offer = pausing_offer(db_session)
    found = next_dates(
        offer.schedule, today=dt.date(2026, 12, 20), count=3, skip_school_holidays=True
    )
    assert [start.date() for start, _ in found] == [
        dt.date(2026, 12, 22),
        dt.date(2027, 1, 12),
        dt.date(2027, 1, 19),
    ]
    plain = next_dates(offer.schedule, today=dt.date(2026, 12, 20), count=2)
    assert [start.date() for start, _ in plain] == [dt.date(2026, 12, 22), dt.date(2026, 12, 29)]


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("de", "pausiert in den NRW-Schulferien"),
        ("en", "pauses during NRW school holidays"),
        ("ar", "يتوقف خلال العطل المدرسية"),
        ("uk", "перерва під час шкільних канікул"),
    ],
)
def test_offer_page_and_ics_say_it_pauses(
    client: FlaskClient, db_session: Session, lang: str, text: str
) -> None:
    offer = pausing_offer(db_session)
    db_session.commit()
    html = client.get(f"/offer/{offer.id}?lang={lang}").get_data(as_text=True)
    assert text in html
    upcoming = nrw().current_or_next(dt.date.today())
    if upcoming is not None:
        assert 'class="school-pause"' in html
    ics = client.get(f"/offer/{offer.id}.ics?lang={lang}")
    assert ics.status_code == 200
    body = Calendar.from_ical(ics.data)
    (event,) = body.walk("VEVENT")
    assert text in str(event.get("description"))
    if dt.date.today() <= nrw().known_until:
        assert exdates(body)  # the known holidays still to come are left out
