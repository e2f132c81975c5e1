"""``/api/offers`` in pages: a default limit, how many matched, next/prev links a client can
follow, and answers from memory that follow every change of the data."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from mapservice.models import Offer, Site
from mapservice.paging import DEFAULT_LIMIT, MAX_LIMIT


def get_page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def link(body, rel):
    found = [item["href"] for item in body["links"] if item["rel"] == rel]
    return found[0] if found else None


def relative(href: str) -> str:
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def many_offers(db_session):
    """Enough offers for more than one default page."""
    site = Site(
        name="Pagingzentrum",
        geom=from_shape(Point(7.4712, 51.5268), srid=4326),
        source_dataset="test",
        source_id="paging-site",
    )
    db_session.add(site)
    offers = [
        Offer(
            title=f"Pagingtreff {n:03d}",
            category="baby_parent_meetup",
            age_min_months=0,
            age_max_months=36,
            site=site,
            source_dataset="test",
            source_id=f"paging-{n}",
        )
        for n in range(DEFAULT_LIMIT + 1)
    ]
    db_session.add_all(offers)
    db_session.flush()
    return offers


def test_the_answer_says_how_many_matched_and_pages_by_default(client, many_offers):
    body = get_page(client, "/api/offers")
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] > DEFAULT_LIMIT
    assert body["numberReturned"] == len(body["features"]) == DEFAULT_LIMIT
    assert link(body, "next") is not None
    assert link(body, "prev") is None
    assert parse_qs(urlsplit(link(body, "self")).query)["offset"] == ["0"]


def test_following_next_links_gives_every_match_once(client, many_offers):
    url = "/api/offers?age_months=12&limit=97"
    seen: list[int] = []
    matched = None
    while url:
        body = get_page(client, url)
        matched = body["numberMatched"]
        seen += [feature["id"] for feature in body["features"]]
        next_href = link(body, "next")
        url = relative(next_href) if next_href else None
    assert len(seen) == len(set(seen)) == matched
    assert {offer.id for offer in many_offers} <= set(seen)


def test_links_keep_the_filter(client, many_offers):
    body = get_page(client, "/api/offers?category=baby_parent_meetup&age_months=6&limit=5")
    query = parse_qs(urlsplit(link(body, "next")).query)
    assert query == {
        "age_months": ["6"],
        "category": ["baby_parent_meetup"],
        "limit": ["5"],
        "offset": ["5"],
    }
    second = get_page(client, relative(link(body, "next")))
    assert parse_qs(urlsplit(link(second, "prev")).query)["offset"] == ["0"]
    assert {f["properties"]["category"] for f in second["features"]} == {"baby_parent_meetup"}


def test_an_offset_past_the_end_is_an_empty_page(client, many_offers):
    first = get_page(client, "/api/offers?limit=1")
    body = get_page(client, f"/api/offers?offset={first['numberMatched'] + 10}")
    assert body["features"] == []
    assert body["numberReturned"] == 0
    assert body["numberMatched"] == first["numberMatched"]
    assert link(body, "next") is None
    assert link(body, "prev") is not None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999999", "offset"),
    ],
)
def test_bad_paging_parameters_are_400_naming_them(client, query, parameter):
    response = client.get(f"/api/offers?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_a_change_shows_in_the_next_answer(client, db_session, many_offers):
    url = "/api/offers?category=baby_parent_meetup&limit=1000"
    before = get_page(client, url)
    assert any(f["properties"]["title"] == "Pagingtreff 000" for f in before["features"])
    many_offers[0].title = "Pagingtreff umbenannt"
    db_session.flush()
    after = get_page(client, url)
    titles = {f["properties"]["title"] for f in after["features"]}
    assert "Pagingtreff umbenannt" in titles
    assert "Pagingtreff 000" not in titles
    db_session.delete(many_offers[1])
    db_session.flush()
    gone = get_page(client, url)
    assert gone["numberMatched"] == after["numberMatched"] - 1


def test_compressed_and_plain_answers_agree(client, many_offers):
    plain = client.get("/api/offers?limit=50")
    packed = client.get("/api/offers?limit=50", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    import gzip

    assert gzip.decompress(packed.get_data()) == plain.get_data()


# --- /api/sites, paged the same way ---------------------------------------------------


@pytest.fixture
def many_sites(db_session):
    """More sites than one default page holds (the bundled data has ~100)."""
    sites = [
        Site(
            name=f"Pagingort {n:03d}",
            geom=from_shape(Point(7.46 + n * 1e-5, 51.52), srid=4326),
            source_dataset="test",
            source_id=f"paging-site-{n}",
        )
        for n in range(DEFAULT_LIMIT + 1)
    ]
    db_session.add_all(sites)
    db_session.flush()
    return sites


def test_sites_are_paged_by_default_and_say_how_many_matched(client, many_sites):
    body = get_page(client, "/api/sites")
    assert body["numberMatched"] > DEFAULT_LIMIT
    assert body["numberReturned"] == len(body["features"]) == DEFAULT_LIMIT
    assert link(body, "next") is not None and link(body, "prev") is None


def test_following_the_sites_next_links_gives_every_site_once(client, many_sites):
    url: str | None = "/api/sites?limit=70"
    seen: list[int] = []
    while url is not None:
        body = get_page(client, url)
        seen += [feature["id"] for feature in body["features"]]
        url = link(body, "next") and relative(link(body, "next"))
    assert len(seen) == len(set(seen)) == body["numberMatched"]
    assert {site.id for site in many_sites} <= set(seen)


def test_the_sites_bbox_counts_and_pages_what_lies_inside(client, many_sites):
    bbox = "7.4599,51.5199,7.4611,51.5201"  # the first ~110 test sites, nothing else
    first = get_page(client, f"/api/sites?bbox={bbox}&limit=50")
    inside = [s for s in many_sites if 7.4599 <= 7.46 + int(s.source_id[12:]) * 1e-5 <= 7.4611]
    assert first["numberMatched"] == len(inside)
    query = parse_qs(urlsplit(link(first, "next")).query)
    assert query["bbox"] == [bbox] and query["offset"] == ["50"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("limit=0", "limit"), (f"limit={MAX_LIMIT + 1}", "limit"), ("offset=-1", "offset")],
)
def test_bad_sites_paging_parameters_are_400_naming_them(client, query, parameter):
    response = client.get(f"/api/sites?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter
