"""The family list in pages: the quarter's offers first, "previous" and "next" links that work
without JavaScript and reach every offer exactly once, and the page's cached map, choices and
entries following every change of the data."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select, update
from test_page import LAT, LON

from mapservice.family.query import PAGE_SIZE
from mapservice.models import Area, Offer, Site

# In the quarter (the place the issue measured).
HERE = {"lat": "51.5226", "lon": "7.4722"}


def listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="offer[^"]*" id="offer-(\d+)"', html)]


def page_link(html: str, rel: str) -> str | None:
    """The href of the list's "next" or "prev" link (plain links: no JavaScript needed)."""
    found = re.search(rf'<a class="more-link[^"]*" rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def more_link(html: str) -> str | None:
    return page_link(html, "next")


def heading_count(html: str) -> int:
    return int(re.search(r'id="results-heading"[^>]*>\s*(\d+) Angebot', html).group(1))


def walk_pages(client, first_url: str) -> list[list[int]]:
    """Follow the "next" links from ``first_url`` to the last page; the ids of each page."""
    pages = []
    url: str | None = first_url
    while url is not None:
        html = client.get(url.split("#")[0]).get_data(as_text=True)
        pages.append(listed(html))
        url = page_link(html, "next")
        assert len(pages) < 100
    return pages


def test_the_list_shows_a_page_and_says_how_many_fit(client):
    html = client.get("/").get_data(as_text=True)
    total = heading_count(html)
    assert total > PAGE_SIZE  # the bundled data holds more than one page
    assert len(listed(html)) == PAGE_SIZE
    assert f"Angebote 1–{PAGE_SIZE} von {total}" in html
    assert page_link(html, "prev") is None
    link = page_link(html, "next")
    assert link is not None
    assert parse_qs(urlsplit(link).query)["start"] == [str(PAGE_SIZE)]


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"age_years": "3"},
        HERE | {"minutes": "20"},
        # weekday and time of day: answered by the database, not the in-memory records
        {"day": "wed"},
        HERE | {"minutes": "20", "day": "tue", "shown": "4"},
    ],
    ids=["all", "age", "place", "day", "place-day-small-pages"],
)
def test_next_and_previous_links_reach_every_offer_exactly_once(client, args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    first = client.get(f"/?{query}").get_data(as_text=True)
    total = heading_count(first)
    pages = walk_pages(client, f"/?{query}")
    seen = [offer for page in pages for offer in page]
    assert len(seen) == len(set(seen)) == total
    size = int(args.get("shown", PAGE_SIZE))
    assert len(pages) == max(1, -(-total // size))
    # Back from the last page with "prev": the same pages in reverse, ending at the first.
    html = client.get(f"/?{query}&start={(len(pages) - 1) * size}").get_data(as_text=True)
    back = [listed(html)]
    while (link := page_link(html, "prev")) is not None:
        html = client.get(link.split("#")[0]).get_data(as_text=True)
        back.append(listed(html))
        assert len(back) <= len(pages)
    assert back[::-1] == pages


def test_the_next_link_jumps_to_the_first_offer_of_the_next_page(client):
    first = client.get("/").get_data(as_text=True)
    link = more_link(first)
    page = client.get(link.split("#")[0]).get_data(as_text=True)
    ids = listed(page)
    anchor = int(urlsplit(link).fragment.removeprefix("offer-"))
    assert ids[0] == anchor and anchor not in listed(first)
    assert f"Angebote {PAGE_SIZE + 1}–{PAGE_SIZE + len(ids)} von" in page
    # The map shows the page it lists.
    data = client.get("/results", query_string={"start": str(PAGE_SIZE)}).get_json()
    shown_on_map = {i for site in data["map"]["sites"] for i in site[5]}
    assert shown_on_map <= set(ids) and shown_on_map


def test_a_page_past_the_end_links_back_and_says_how_many_fit(client):
    html = client.get("/", query_string={"start": "100000"}).get_data(as_text=True)
    total = heading_count(html)
    assert listed(html) == []
    assert "Keine Angebote passen" not in html  # they do fit: this page is past them
    back = page_link(html, "prev")
    assert back is not None
    last = client.get(back.split("#")[0]).get_data(as_text=True)
    assert len(listed(last)) == PAGE_SIZE
    assert f"von {total}" in last


def test_the_page_status_is_translated(client):
    for lang, words in {
        "en": "Offers 1–25 of",
        "ar": "العروض 1–25 من",
        "uk": "Пропозиції 1–25 з",
    }.items():
        html = client.get("/", query_string={"lang": lang}).get_data(as_text=True)
        assert words in html.split('class="more-status">')[1].split("</span>")[0]


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


def test_the_page_links_keep_the_filter(client):
    html = client.get("/", query_string={"age_years": "2", "shown": "3"}).get_data(as_text=True)
    query = parse_qs(urlsplit(more_link(html)).query)
    assert query["age_years"] == ["2"]
    assert query["shown"] == ["3"]
    assert query["start"] == ["3"]
    second = client.get(more_link(html).split("#")[0]).get_data(as_text=True)
    back = parse_qs(urlsplit(page_link(second, "prev")).query)
    assert back == {"age_years": ["2"], "shown": ["3"]}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("shown", "0"),
        ("shown", "-3"),
        ("shown", "many"),
        ("shown", "99999999999999999999"),
        ("start", "-1"),
        ("start", "first"),
        ("start", "99999999999999999999"),
    ],
)
def test_a_bad_page_size_or_start_is_named(client, name, value):
    response = client.get("/", query_string={name: value})
    assert response.status_code == 400
    assert name in response.get_data(as_text=True)  # named in the message


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
