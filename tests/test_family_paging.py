"""The family list in pages: the quarter's offers first, a "more" link that works without
JavaScript, and the page's cached map and choices following every change of the data."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select, update
from test_page import LAT, LON

from mapservice.family import PAGE_SIZE
from mapservice.models import Area, Offer, Site

# In the quarter (the place the issue measured).
HERE = {"lat": "51.5226", "lon": "7.4722"}


def listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="offer[^"]*" id="offer-(\d+)"', html)]


def more_link(html: str) -> str | None:
    found = re.search(r'<a class="more-link[^"]*" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def heading_count(html: str) -> int:
    return int(re.search(r'id="results-heading"[^>]*>\s*(\d+) Angebot', html).group(1))


def test_the_list_shows_a_page_and_says_how_many_fit(client):
    html = client.get("/").get_data(as_text=True)
    total = heading_count(html)
    assert total > PAGE_SIZE  # the bundled data holds more than one page
    assert len(listed(html)) == PAGE_SIZE
    assert f"{PAGE_SIZE} von {total} angezeigt" in html
    link = more_link(html)
    assert link is not None
    assert parse_qs(urlsplit(link).query)["shown"] == [str(2 * PAGE_SIZE)]


def test_more_lists_the_next_page_after_the_first_without_javascript(client):
    first = client.get("/").get_data(as_text=True)
    link = more_link(first)
    page = client.get(link.split("#")[0]).get_data(as_text=True)
    ids = listed(page)
    assert len(ids) == min(2 * PAGE_SIZE, heading_count(first))
    assert set(listed(first)) <= set(ids)
    # The link jumps to the first offer the first page did not show.
    anchor = int(urlsplit(link).fragment.removeprefix("offer-"))
    assert anchor in ids and anchor not in listed(first)


def test_the_quarters_offers_come_first(client, db_session):
    quarter = select(Area.geom).where(Area.kind == "quarter").scalar_subquery()
    at_site = (
        select(Offer.id)
        .join(Site, Offer.site_id == Site.id)
        .where(func.ST_Intersects(quarter, Site.geom), Offer.status == "active")
    )
    at_home = select(Offer.id).where(
        func.ST_Intersects(quarter, Offer.service_area), Offer.status == "active"
    )
    in_quarter = set(db_session.scalars(at_site.union(at_home)))
    assert 0 < len(in_quarter) < PAGE_SIZE  # the bundled data: 22 of 110 in the quarter
    first = client.get("/").get_data(as_text=True)
    assert set(listed(first)) >= in_quarter
    exactly = client.get("/", query_string={"shown": str(len(in_quarter))})
    assert set(listed(exactly.get_data(as_text=True))) == in_quarter


def test_a_place_pages_its_nearest_offers(client):
    args = HERE | {"minutes": "20"}
    everything = client.get("/results", query_string=args | {"shown": "1000"}).get_json()
    paged = client.get("/results", query_string=args | {"shown": "2"}).get_json()
    assert paged["count"] == everything["count"] > 2
    assert listed(paged["html"]) == listed(everything["html"])[:2]
    assert "more-link" in paged["html"]
    # The map shows what the list shows.
    shown_on_map = {i for site in paged["map"]["sites"] for i in site[5]}
    assert shown_on_map <= set(listed(paged["html"]))


def test_the_more_link_keeps_the_filter(client):
    html = client.get("/", query_string={"age_years": "2", "shown": "3"}).get_data(as_text=True)
    query = parse_qs(urlsplit(more_link(html)).query)
    assert query["age_years"] == ["2"]
    assert query["shown"] == [str(3 + PAGE_SIZE)]


@pytest.mark.parametrize("value", ["0", "-3", "many", "99999999999999999999"])
def test_a_bad_page_size_is_named(client, value):
    response = client.get("/", query_string={"shown": value})
    assert response.status_code == 400
    assert 'name="shown"' in response.get_data(as_text=True) or "shown" in response.get_data(
        as_text=True
    )


def test_a_renamed_quarter_shows_on_the_next_page(client, db_session):
    before = client.get("/").get_data(as_text=True)
    name = db_session.scalar(select(Area.name).where(Area.kind == "quarter"))
    assert name in before
    db_session.execute(update(Area).where(Area.kind == "quarter").values(name="Quartier Umbenannt"))
    db_session.flush()
    after = client.get("/").get_data(as_text=True)
    assert "Quartier Umbenannt" in after


def test_a_new_offer_language_shows_in_the_filter_at_once(client, db_session):
    assert 'value="sw"' not in client.get("/").get_data(as_text=True)
    site = Site(
        name="Sprachcafé",
        geom=from_shape(Point(LON, LAT), srid=4326),
        source_dataset="test",
        source_id="lang-site",
    )
    db_session.add(
        Offer(
            title="Sprachtreff",
            category="baby_parent_meetup",
            age_min_months=0,
            age_max_months=36,
            languages=["sw"],
            site=site,
            source_dataset="test",
            source_id="lang-offer",
        )
    )
    db_session.flush()
    assert 'value="sw"' in client.get("/").get_data(as_text=True)


def test_changed_offer_facts_show_on_the_next_page(client, db_session):
    args = HERE | {"minutes": "10", "age_months": "18"}
    html = client.get("/", query_string=args).get_data(as_text=True)
    offer_id = listed(html)[0]
    offer = db_session.get(Offer, offer_id)
    offer.contact = "Telefon 0231 000000 (geändert)"
    db_session.flush()
    entry = client.get("/", query_string=args).get_data(as_text=True)
    entry = entry.split(f'id="offer-{offer_id}"')[1].split("</li>")[0]
    assert "Telefon 0231 000000 (geändert)" in entry
    english = client.get("/", query_string=args | {"lang": "en"}).get_data(as_text=True)
    assert "Contact" in english.split(f'id="offer-{offer_id}"')[1].split("</li>")[0]
