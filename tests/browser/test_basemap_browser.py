"""The base map in a real browser: it is drawn from the service's own PMTiles archive with
range requests, a chosen place in Witten ends up in view with its walking area and offers,
and the staff pages with a map (planners, outreach) ask no other host for anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from accounts import PASSWORD
from browser_support import wait_until
from playwright.sync_api import Browser, Page, Response, expect
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from mapservice.auth import create_user
from mapservice.models import Offer, User
from mapservice.outreach.form import visit_field

ARCHIVE_PATH = "/tiles/basemap.pmtiles"
# Share of sampled pixels of the map's canvases that must differ from the background colour.
DRAWN_SHARE = 0.05

PAINTED = """() => {
  const canvases = Array.from(document.querySelectorAll('.leaflet-tile-pane canvas'));
  let sampled = 0, differing = 0, colours = new Set();
  for (const canvas of canvases) {
    if (!canvas.width) continue;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const background = pixels.slice(0, 3).join(',');
    for (let i = 0; i < pixels.length; i += 4 * 97) {
      const colour = pixels[i] + ',' + pixels[i + 1] + ',' + pixels[i + 2];
      sampled++;
      colours.add(colour);
      if (pixels[i + 3] > 0 && colour !== background) differing++;
    }
  }
  return {canvases: canvases.length, sampled, differing, colours: colours.size};
}"""


class ArchiveResponses:
    """Answers to the base map archive, with the Range header each request carried."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str | None, str | None]] = []

    def __call__(self, response: Response) -> None:
        if ARCHIVE_PATH in response.url:
            self.seen.append(
                (
                    response.status,
                    response.request.headers.get("range"),
                    response.headers.get("content-range"),
                )
            )


def wait_for_base_map(page: Page) -> None:
    wait_until(page, "['drawn', 'failed'].includes(document.documentElement.dataset.basemap)")
    assert page.evaluate("document.documentElement.dataset.basemap") == "drawn"


def assert_painted(page: Page) -> None:
    painted = page.evaluate(PAINTED)
    assert painted["canvases"] >= 1
    assert painted["colours"] > 5, painted  # streets, buildings, water, parks …
    assert painted["differing"] > painted["sampled"] * DRAWN_SHARE, painted


def test_base_map_is_drawn_from_range_requests(phone_de: Page, base_url, requests) -> None:
    page = phone_de
    archive = ArchiveResponses()
    page.on("response", archive)
    page.goto(f"{base_url}/")
    wait_for_base_map(page)
    assert_painted(page)
    # The reader asks for the header first, then single tiles, always by byte range.
    assert archive.seen, "the archive was never requested"
    assert all(status == 206 for status, _r, _c in archive.seen), archive.seen
    assert all(rng and rng.startswith("bytes=") for _s, rng, _c in archive.seen)
    assert archive.seen[0][1] == "bytes=0-16383"
    assert all(content and content.startswith("bytes ") for _s, _r, content in archive.seen)
    assert len(archive.seen) >= 2  # header and at least one tile
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).to_contain_text("© OpenStreetMap contributors")
    assert attribution.inner_text().count("OpenStreetMap") == 1
    expect(page.locator(".map-note")).to_have_count(0)  # "no background map" is gone
    assert requests.elsewhere() == []


def test_a_place_in_witten_is_in_view_with_its_walking_area(
    phone_de: Page, base_url, requests
) -> None:
    page = phone_de
    page.goto(f"{base_url}/?lat=51.4700&lon=7.3670&minutes=15")
    wait_until(page, "document.documentElement.dataset.reach !== undefined")
    # The view follows the place once the walking area is drawn; on a busy machine the page
    # may still be laying out then, so allow it a moment to settle there.
    wait_until(page, "window.mapserviceMap.getBounds().contains([51.47, 7.367])", 15_000)
    wait_for_base_map(page)
    assert_painted(page)
    view = page.evaluate(
        """() => {
          const map = window.mapserviceMap;
          const bounds = map.getBounds();
          const data = JSON.parse(document.getElementById('map-data').textContent);
          const reached = data.sites.filter(row => row[5].length).map(row => [row[0], row[1]]);
          let area = null;
          map.eachLayer(layer => {
            if (layer.getBounds && layer.feature && layer.feature.properties.minutes) {
              area = area ? area.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds());
            }
          });
          return {
            zoom: map.getZoom(),
            origin: bounds.contains([51.47, 7.367]),
            reached: reached.length,
            reachedInView: reached.every(point => bounds.contains(point)),
            area: area !== null,
            areaInView: area !== null && bounds.pad(0.02).contains(area),
            quarterInView: bounds.contains([51.5253, 7.4727]),
          };
        }"""
    )
    assert view["origin"], view
    assert view["reached"] >= 1 and view["reachedInView"], view
    assert view["area"] and view["areaInView"], view
    assert not view["quarterInView"], view  # it left the Nordstadt for Witten
    assert view["zoom"] >= 13, view  # close enough to read the streets
    assert requests.elsewhere() == []


def test_without_a_place_the_quarter_is_in_view(phone_de: Page, base_url) -> None:
    page = phone_de
    page.goto(f"{base_url}/")
    wait_for_base_map(page)
    # Brunnenstraße / Hannibalviertel (Nordmarkt-Südost and Borsigplatz).
    assert page.evaluate("window.mapserviceMap.getBounds().contains([51.5253, 7.4727])")
    assert page.evaluate("window.mapserviceMap.getZoom()") >= 13


def test_offer_page_shows_the_site_on_the_streets(
    phone_de: Page, base_url, engine, requests
) -> None:
    with Session(engine) as session:
        offer_id = session.scalars(
            select(Offer.id).where(Offer.site_id.is_not(None)).order_by(Offer.id)
        ).first()
    page = phone_de
    page.goto(f"{base_url}/offer/{offer_id}")
    expect(page.locator("#offer-map")).to_be_visible()
    wait_for_base_map(page)
    assert_painted(page)
    assert page.locator("#offer-map .leaflet-interactive").count() == 1  # the site
    assert requests.elsewhere() == []


# --- staff pages ---------------------------------------------------------------------------


@pytest.fixture
def staff(engine: Engine) -> Iterator[dict[str, str]]:
    """A planner and an outreach account committed to the live database, removed after."""
    emails = {role: f"browser-{role}@example.org" for role in ("planner", "outreach")}
    with Session(engine) as session, session.begin():
        for role, email in emails.items():
            create_user(session, email, PASSWORD, role)
    yield emails
    with Session(engine) as session, session.begin():
        session.execute(delete(User).where(User.email.in_(emails.values())))


def logged_in_page(browser: Browser, base_url: str, email: str, requests) -> Page:
    # A laptop screen: where planners and outreach workers prepare their work.
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("request", requests)
    page.goto(f"{base_url}/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()
    return page


def test_planners_page_draws_the_base_map_and_asks_no_one_else(
    browser: Browser, base_url, staff, requests
) -> None:
    page = logged_in_page(browser, base_url, staff["planner"], requests)
    try:
        page.goto(f"{base_url}/planners/")
        expect(page.locator(".folium-map")).to_be_visible()
        wait_for_base_map(page)
        assert_painted(page)
        assert requests.elsewhere() == []
    finally:
        page.context.close()


def test_outreach_route_draws_the_base_map_and_asks_no_one_else(
    browser: Browser, base_url, staff, requests
) -> None:
    page = logged_in_page(browser, base_url, staff["outreach"], requests)
    try:
        page.goto(f"{base_url}/outreach/")
        page.check("input[name=start][value=other]")
        page.fill("input[name=start_lat]", "51.524600")
        page.fill("input[name=start_lon]", "7.474000")
        page.fill(f"input[name={visit_field(1, 'lat')}]", "51.525000")
        page.fill(f"input[name={visit_field(1, 'lon')}]", "7.478000")
        page.fill(f"input[name={visit_field(1, 'age_months')}]", "6")
        page.click("text=Route planen")
        page.wait_for_load_state()
        expect(page.locator(".folium-map")).to_be_visible()
        wait_for_base_map(page)
        assert_painted(page)
        assert requests.elsewhere() == []
    finally:
        page.context.close()
