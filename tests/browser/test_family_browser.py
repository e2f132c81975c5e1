"""The whole family flow in a real browser on a phone-sized screen, in German and Arabic;
the calendar file, the print view, accessibility (axe-core) and no request leaving
127.0.0.1 with the default settings."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from browser_support import wait_until
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mapservice.models import Offer, ScheduleSlot

SCREENSHOTS = os.environ.get("MAPSERVICE_SCREENSHOTS")  # e.g. docs/, to refresh the README's
BLOCKING = ("serious", "critical")


def base_map_drawn(page: Page) -> None:
    """Wait until the base map's tiles for the current view are drawn (for screenshots)."""
    wait_until(page, "document.documentElement.dataset.basemap === 'drawn'")


def updated(page: Page, count: int) -> None:
    wait_until(page, f"Number(document.documentElement.dataset.updated) >= {count}")


def run_flow(page: Page, base_url: str, lang: str) -> None:
    """Age → address → pick a suggestion → list nearest first with minutes and the isochrone;
    then a filter change refreshes the list without reloading the page."""
    page.goto(f"{base_url}/?lang={lang}")
    expect(page.locator("#locate")).to_be_visible()  # geolocation offered with JavaScript
    page.select_option("select[name=age_years]", "1")
    updated(page, 1)
    page.fill("#where", "Missundestr")
    first = page.locator("#suggestions button").first
    expect(first).to_contain_text("Missundestraße")
    first.click()
    updated(page, 2)
    wait_until(page, "document.documentElement.dataset.reach !== undefined")
    assert "lat=" in page.url and "age_years=1" in page.url  # all of it in the URL
    minutes = page.locator("#results .walk-minutes")
    assert minutes.count() > 3
    values = [int("".join(ch for ch in text if ch.isdigit())) for text in minutes.all_inner_texts()]
    assert values == sorted(values)  # nearest first
    # Missundestraße is in the quarter, on the loaded Dortmund network: routed, not estimated.
    expect(page.locator("#results .notice.estimated")).to_have_count(0)
    assert page.evaluate("document.documentElement.dataset.reach") == "network"
    assert page.locator(".leaflet-overlay-pane path").count() > 5  # isochrones and sites
    before = page.locator("#results li.offer").count()
    page.select_option("select[name=minutes]", "5")
    updated(page, 3)
    assert "minutes=5" in page.url
    assert page.locator("#results li.offer").count() < before
    wait_until(page, "window.familyLastUpdateMs < 3000")


def test_flow_in_german_on_a_phone(phone_de: Page, base_url: str, requests) -> None:
    page = phone_de
    run_flow(page, base_url, "de")
    assert page.locator("html").get_attribute("lang") == "de"
    expect(page.locator("#results h2")).to_contain_text("in 5 Minuten")
    # A tap on the map moves the starting point there.
    map_box = page.locator(".folium-map")
    map_box.scroll_into_view_if_needed()
    box = map_box.bounding_box()
    assert box is not None
    map_box.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
    updated(page, 4)
    expect(page.locator("#where")).to_have_value("Punkt auf der Karte")
    if SCREENSHOTS:
        page.goto(page.url.replace("minutes=5", "minutes=10"))
        wait_until(page, "document.documentElement.dataset.reach !== undefined")
        base_map_drawn(page)
        page.locator(".map-section").scroll_into_view_if_needed()
        page.screenshot(path=str(Path(SCREENSHOTS, "phone-de.png")))
    assert requests.elsewhere() == []


def test_flow_in_arabic_right_to_left(phone_ar: Page, base_url: str, requests) -> None:
    page = phone_ar
    run_flow(page, base_url, "ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    expect(page.locator("legend").first).to_have_text("عمر الطفل")
    expect(page.locator("#results h2")).to_contain_text("دقيقة")
    # Right to left: the form's labels start at the right edge.
    label = page.locator("fieldset.age legend").bounding_box()
    assert label is not None and label["x"] + label["width"] > 300
    if SCREENSHOTS:
        page.select_option("select[name=minutes]", "10")
        updated(page, 4)
        wait_until(page, "document.documentElement.dataset.reach !== undefined")
        base_map_drawn(page)
        page.locator(".map-section").scroll_into_view_if_needed()
        page.screenshot(path=str(Path(SCREENSHOTS, "phone-ar.png")))
    assert requests.elsewhere() == []


def _offer_with_dates(engine) -> int:
    with Session(engine) as session:
        # A slot still to come (one that ended has no calendar event); ordered, because rows
        # other tests changed move within the table.
        offer_id = session.scalar(
            select(Offer.id)
            .join(ScheduleSlot)
            .where(Offer.status == "active")
            .where(or_(ScheduleSlot.valid_to.is_(None), ScheduleSlot.valid_to >= dt.date.today()))
            .order_by(Offer.id)
            .limit(1)
        )
    assert offer_id is not None, "the default data has offers with weekly dates"
    return offer_id


def test_calendar_download_parses(phone_de: Page, base_url: str, engine, requests) -> None:
    page = phone_de
    offer_id = _offer_with_dates(engine)
    page.goto(f"{base_url}/offer/{offer_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="In den Kalender eintragen (.ics)").click()
    calendar = Calendar.from_ical(Path(download_info.value.path()).read_bytes())
    events = calendar.walk("VEVENT")
    assert events and all(event["RRULE"]["FREQ"] == ["WEEKLY"] for event in events)
    assert str(events[0]["SUMMARY"]) == page.locator("h1").inner_text()
    assert requests.elsewhere() == []


def test_print_view_renders_for_a4(phone_de: Page, base_url: str, requests) -> None:
    page = phone_de
    page.goto(f"{base_url}/?age_years=3&lat=51.5246&lon=7.474&where=Missundestra%C3%9Fe")
    page.click("#print-link")
    expect(page.locator("figure.qr svg")).to_be_visible()
    rows = page.locator("table.print-list tbody tr")
    assert rows.count() > 3
    page.emulate_media(media="print")
    expect(page.locator("nav.languages")).to_have_count(0)
    expect(page.locator(".screen-only")).to_be_hidden()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert requests.elsewhere() == []


def _blocking(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def test_accessibility_main_offer_and_print(phone_de: Page, base_url: str, engine) -> None:
    page = phone_de
    offer_id = _offer_with_dates(engine)
    for path in (
        "/?age_years=2",
        "/?lang=ar&age_years=2&lat=51.5246&lon=7.474",
        f"/offer/{offer_id}",
        "/print?age_years=2",
    ):
        page.goto(base_url + path)
        page.wait_for_load_state("load")
        assert _blocking(page) == [], path


def test_list_pages_load_in_place_and_back(phone_de: Page, base_url: str, requests) -> None:
    """ "Next page" and "previous page" replace the list in place (no reload), keep the URL
    in step and move the focus to the new page's start."""
    page = phone_de
    page.goto(f"{base_url}/")
    entries = page.locator("#results li.offer")
    first_page = [entries.nth(i).get_attribute("id") for i in range(entries.count())]
    heading = page.locator("#results-heading").inner_text()
    following = page.locator("#results a.next-link")
    target = following.get_attribute("data-next")
    following.click()
    updated(page, 1)
    assert "start=25" in page.url
    second_page = [entries.nth(i).get_attribute("id") for i in range(entries.count())]
    assert second_page[0] == target and not set(first_page) & set(second_page)
    assert page.locator("#results-heading").inner_text() == heading  # same count of all
    assert page.evaluate("document.activeElement.closest('li.offer').id") == target
    page.locator("#results a.prev-link").click()
    updated(page, 2)
    assert [entries.nth(i).get_attribute("id") for i in range(entries.count())] == first_page
    assert "start=" not in page.url
    assert page.evaluate("document.activeElement.id") == "results-heading"
    assert requests.elsewhere() == []
