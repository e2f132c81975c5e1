"""Address search on the loaded data (the Dortmund walking network around Innenstadt-Nord,
Witten-Stockum with its OSM house addresses): every street of a network is found by name,
typos are forgiven, and a weak or ambiguous match is offered as a choice, never taken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely
from accounts import sign_in, token_from
from sqlalchemy import func, select, text

from mapservice import geocode
from mapservice.importers.default_network import DEFAULT_EXTRACT, DEFAULT_NETWORK
from mapservice.models import Area, WalkNetwork, WalkStreet
from mapservice.outreach.form import visit_field
from mapservice.walking.store import import_network

# Dortmund-Nordstadt, around the quarter; Witten-Stockum lies 8 km and more to the south-west.
NORDSTADT = shapely.box(7.44, 51.51, 7.50, 51.54)


def metres_from_quarter(db_session, lat: float, lon: float) -> float:
    return db_session.scalar(
        select(
            func.ST_Distance(
                func.ST_Transform(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326), 25832),
                func.ST_Transform(Area.geom, 25832),
            )
        ).where(Area.kind == "quarter", Area.code != "test-quarter")
    )


def metres_from_named_edge(db_session, lat: float, lon: float, name: str) -> float:
    """How far the point is from the nearest walking edge of that name."""
    return db_session.execute(
        text(
            "SELECT min(ST_Distance(e.geom, ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat),"
            " 4326), 25832))) FROM walk_edge e WHERE e.name = :name"
        ),
        {"lat": lat, "lon": lon, "name": name},
    ).scalar_one()


def origin_line(html: str) -> str:
    return html.split('class="origin"')[1].split("</p>")[0] if 'class="origin"' in html else ""


@pytest.mark.parametrize(
    "typed",
    ["Missundestraße", "Missundestr", "missunde strasse", "Misundestraße", "MISSUNDESTRASSE"],
)
def test_every_street_of_the_network_is_found_with_typos(db_session, typed):
    found = geocode.lookup(db_session, typed)
    assert found.answer is not None, [p.label for p in found.places]
    answer = found.answer
    assert answer.kind == "street" and answer.match == "strong"
    assert answer.label.startswith("Missundestraße, ")
    assert found.places[0] == answer
    assert NORDSTADT.contains(shapely.Point(answer.lon, answer.lat))
    # It lands on the street itself, not near it.
    assert metres_from_named_edge(db_session, answer.lat, answer.lon, "Missundestraße") < 1
    assert not found.number_unknown


def test_schleswiger_str_5_lands_in_the_quarter_not_in_witten(db_session):
    found = geocode.lookup(db_session, "Schleswiger Str 5")
    answer = found.answer
    assert answer is not None
    assert answer.label.startswith("Schleswiger Straße")
    assert "Witten" not in answer.label and "Dürener" not in answer.label
    assert metres_from_quarter(db_session, answer.lat, answer.lon) < 500
    # No house addresses are known in Dortmund: the street is taken and the number is flagged.
    assert found.number_unknown and found.house_number == "5"
    assert all("Dürener" not in place.label for place in found.places)


def test_schleswiger_str_5_on_the_page_says_the_number_is_unknown(client):
    html = client.get("/", query_string={"where": "Schleswiger Str 5", "minutes": "10"}).text
    assert "Schleswiger Straße" in origin_line(html)
    assert "Witten" not in origin_line(html)
    assert "Die Hausnummer 5 kennen wir in dieser Straße nicht" in html
    assert "wurde nicht gefunden" not in html
    # The walking list was computed from there (minutes shown).
    assert 'class="walk-minutes"' in html


def test_a_name_in_two_towns_is_a_question_nearest_to_the_quarter_first(db_session):
    # Dürener Straße is in the Nordstadt (Westfalenhütte) and in Witten, where house 5 is
    # known: neither is taken silently.
    found = geocode.lookup(db_session, "Dürener Straße 5")
    assert found.answer is None
    labels = [place.label for place in found.places]
    assert all(place.match == "weak" for place in found.places)
    assert labels[0].startswith("Dürener Straße, ") and "Witten" not in labels[0]
    assert "Dürener Straße 5, Witten" in labels
    # Nearest to the quarter first, in whole kilometres (within one, the house address first).
    steps = [p.distance_m // 1000 for p in found.places if p.label.startswith("Dürener Straße")]
    assert steps == sorted(steps)


def test_api_gives_kind_and_match(client):
    strong = client.get("/api/geocode", query_string={"q": "Missundestr"}).get_json()["places"]
    assert strong[0]["match"] == "strong" and strong[0]["kind"] == "street"
    assert strong[0]["label"].startswith("Missundestraße")
    assert all(place["match"] == "weak" for place in strong[1:])
    weak = client.get("/api/geocode", query_string={"q": "Mittelstraße"}).get_json()["places"]
    # Two streets of that name (Dortmund and Witten): both offered, Dortmund's first.
    streets = [p["label"] for p in weak if p["kind"] == "street" and "Mittel" in p["label"]]
    assert len(streets) == 2 and "Witten" in streets[1]
    assert {place["match"] for place in weak} == {"weak"}
    assert set(weak[0]) == {"label", "lat", "lon", "kind", "match"}


def test_a_weak_match_is_offered_on_the_page_and_not_taken(client):
    response = client.get("/", query_string={"where": "Mittelstraße", "minutes": "10"})
    html = response.text
    assert response.status_code == 200
    assert "Meinten Sie" in html
    assert origin_line(html) == ""
    assert "wurde nicht gefunden" not in html
    # Nothing was computed for a guessed place: no walking minutes, the lat/lon stay empty.
    assert 'class="walk-minutes"' not in html
    assert not re.search(r'id="lat"[^>]*value="\d', html)
    choices = html.split('class="places did-you-mean"')[1].split("</div>")[0]
    links = re.findall(r'href="([^"]+)"', choices)
    assert len(links) >= 2 and all("lat=" in link and "lon=" in link for link in links)
    # The JavaScript path (/results) answers the same.
    answer = client.get("/results", query_string={"where": "Mittelstraße"}).get_json()
    assert "Meinten Sie" in answer["html"] and "lat=" not in answer["url"]


def test_a_partial_name_is_a_choice(client):
    html = client.get("/", query_string={"where": "Schleswiger"}).text
    choices = html.split('class="places did-you-mean"')[1].split("</div>")[0]
    assert "Schleswiger Straße" in choices
    assert origin_line(html) == ""


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "wurde nicht gefunden"),
        ("tr", "adresi bulunamadı"),
        ("ar", "لم يُعثر على العنوان"),
    ],
)
def test_no_match_says_so_in_the_familys_language(client, lang, expected):
    html = client.get("/", query_string={"where": "Qwxzyvstraße 999", "lang": lang}).text
    assert expected in html
    assert "Qwxzyvstraße 999" in html
    assert "did-you-mean" not in html and origin_line(html) == ""


def test_the_street_index_is_rebuilt_on_reimport(db_session, data_dir: Path):
    network_id = db_session.scalar(
        select(WalkNetwork.id).where(WalkNetwork.name == DEFAULT_NETWORK)
    )
    old = set(db_session.scalars(select(WalkStreet.id).where(WalkStreet.network_id == network_id)))
    assert len(old) >= 20
    hoerder = geocode.lookup(db_session, "Hörder Straße")
    assert hoerder.answer is not None and "Witten" in hoerder.answer.label
    # Re-import the extract cut to a small box in its north-east: the streets outside go.
    box = shapely.box(7.3700, 51.4700, 7.3800, 51.4760)
    import_network(
        db_session, data_dir / DEFAULT_EXTRACT, DEFAULT_NETWORK, within=box, refresh=False
    )
    new = set(db_session.scalars(select(WalkStreet.id).where(WalkStreet.network_id == network_id)))
    assert new and not (new & old) and len(new) < len(old)
    names = set(
        db_session.scalars(select(WalkStreet.name).where(WalkStreet.network_id == network_id))
    )
    named_edges = set(
        db_session.scalars(
            text("SELECT DISTINCT name FROM walk_edge WHERE network_id = :id AND name <> ''"),
            {"id": network_id},
        )
    )
    assert names == named_edges


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script> Missundestraße",
        "'; DROP TABLE walk_street; --",
        "Missunde%' OR 1=1 --",
        '"><img src=x onerror=alert(1)>',
        "\\x00\\ Schleswiger Str 5 %_",
        "Schleswiger\x00 Str\u202e 5",
    ],
)
def test_hostile_input_is_escaped_and_harmless(client, db_session, hostile):
    api = client.get("/api/geocode", query_string={"q": hostile})
    assert api.status_code == 200
    page = client.get("/", query_string={"where": hostile})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert db_session.scalar(select(func.count()).select_from(WalkStreet)) > 1000


def test_long_input_is_limited(client):
    long = "Missundestraße " * 9  # 135 characters
    assert client.get("/api/geocode", query_string={"q": long}).status_code == 400
    # Within the page's parameter limit (200 characters, else 400 naming "where") but beyond
    # the search box's 120: the search and the form keep the first 120.
    page = client.get("/", query_string={"where": long + "x" * 40})
    assert page.status_code == 200
    # What the form keeps and what is searched is the search box's 120 characters.
    kept = re.search(r'id="where" value="([^"]*)"', page.text).group(1)
    assert len(kept) <= geocode.MAX_QUERY_LENGTH and "x" not in kept


def test_outreach_takes_only_a_certain_address(app, client, accounts):
    app.config["TILE_URL"] = ""
    sign_in(client, "outreach@example.org")
    form = {
        "csrf_token": token_from(client.get("/outreach/").get_data(as_text=True)),
        "start": "other",
        "start_address": "Schleswiger Str 5",
        "profile": "adult",
        "minutes": "15",
        visit_field(1, "address"): "Mittelstraße",
        visit_field(1, "age_months"): "6",
    }
    answer = client.post("/outreach/", data=form)
    assert answer.status_code == 400
    assert "Adresse nicht eindeutig – meinten Sie: Mittelstraße" in answer.get_data(as_text=True)
    form[visit_field(1, "address")] = "Missundestraße"
    answer = client.post("/outreach/", data=form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Schleswiger Straße" in html and "Hausnummer 5 nicht bekannt" in html
    assert "Missundestraße" in html
