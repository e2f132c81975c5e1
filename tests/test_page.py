"""The public page: map with quarter and anchors, filter form from the URL, list, escaping."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box, shape

from mapservice.mapview import js_string
from mapservice.models import Area, Offer, Site

# Outside Dortmund, so a box around it holds only this test's rows, not the loaded data.
LON, LAT = 7.2012, 51.3068
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_ATTR = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


class PageState(HTMLParser):
    """What a browser would show as chosen in the form, and which offers the list holds."""

    def __init__(self) -> None:
        super().__init__()
        self.selected: dict[str, str] = {}
        self.checked: dict[str, set[str]] = {}
        self.inputs: dict[str, str] = {}
        self.listed: set[int] = set()
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "select":
            self._select = attr["name"]
        elif tag == "option" and "selected" in attr and self._select:
            self.selected[self._select] = attr["value"]
        elif tag == "input" and attr.get("type") == "checkbox":
            if "checked" in attr:
                self.checked.setdefault(attr["name"], set()).add(attr["value"])
        elif tag == "input":
            self.inputs[attr["name"]] = attr.get("value", "")
        elif tag == "li" and (attr.get("id") or "").startswith("offer-"):
            self.listed.add(int(attr["id"].removeprefix("offer-")))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_state(html: str) -> PageState:
    state = PageState()
    state.feed(html)
    return state


def map_data(html: str) -> dict:
    """The sites and service areas the page hands to its script (JSON, parsed as data)."""
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def sites(html: str) -> list[dict]:
    """Each site on the map: name, address, drawn in the anchor style?, offer ids."""
    data = map_data(html)
    names = [style["className"] for style in data["styles"]]
    return [
        {
            "lat": lat,
            "lon": lon,
            "anchor": names[style] == "site-anchor",
            "name": name,
            "address": address,
            "offers": offers,
        }
        for lat, lon, style, name, address, offers in data["sites"]
    ]


def entry(html: str, offer_id: int) -> str:
    """The list entry of one offer (what the map's popup links to and repeats)."""
    return result_list(html).split(f'id="offer-{offer_id}"')[1].split("</li>")[0]


def result_list(html: str) -> str:
    return html[html.index('<section class="results"') : html.index("</main>")]


@pytest.fixture
def places(db_session):
    return make_places(db_session)


def make_places(db_session):
    """A quarter with an anchor site and another site, away from the loaded data."""
    quarter = Area(
        kind="quarter",
        code="test-quarter",
        name="Testquartier Brunnenstraße",
        geom=from_shape(
            MultiPolygon([box(LON - 0.004, LAT - 0.003, LON + 0.004, LAT + 0.003)]), srid=4326
        ),
        source_dataset="test",
    )
    anchor = Site(
        name="Familienzentrum Testanker",
        street="Missundestraße",
        house_number="9",
        postcode="44145",
        city="Dortmund",
        geom=from_shape(Point(LON, LAT), srid=4326),
        is_anchor=True,
        source_dataset="test",
        source_id="anchor",
    )
    other = Site(
        name="Spielplatz Testecke",
        geom=from_shape(Point(LON + 0.002, LAT + 0.001), srid=4326),
        source_dataset="test",
        source_id="other",
    )
    db_session.add_all([quarter, anchor, other])
    db_session.flush()
    return {"quarter": quarter, "anchor": anchor, "other": other}


def add_offer(db_session, **fields) -> Offer:
    values = {
        "category": "baby_parent_meetup",
        "age_min_months": 0,
        "age_max_months": 24,
        "languages": ["de"],
        "source_dataset": "test",
        "source_id": fields["title"],
    }
    values.update(fields)
    offer = Offer(**values)
    db_session.add(offer)
    db_session.flush()
    return offer


@pytest.fixture
def offers(db_session, places):
    return make_offers(db_session, places)


def make_offers(db_session, places):
    """A meetup at the anchor, a Kita at the other site, a home visit covering both."""
    return {
        "baby": add_offer(db_session, title="Babytreff Testanker", site=places["anchor"]),
        "kita": add_offer(
            db_session,
            title="Kita Testecke",
            category="day_care",
            age_min_months=12,
            age_max_months=72,
            languages=["de", "tr"],
            cost_free=True,
            site=places["other"],
        ),
        "welcome": add_offer(
            db_session,
            title="Willkommensbesuch Testgebiet",
            category="welcome_visit",
            age_max_months=12,
            service_area=from_shape(
                MultiPolygon([box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)]), srid=4326
            ),
        ),
    }


def test_page_shows_quarter_and_anchor(client, offers, places):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html
    # The quarter's outline is on the map and named in the legend.
    legend = html[html.index('<ul class="legend"') :]
    assert "Testquartier Brunnenstraße" in legend.split("</li>")[0]
    assert '"name": ' + json.dumps("Testquartier Brunnenstraße") in html
    # The anchor has its own marker style, its address and its offers; the other site not.
    anchor = next(s for s in sites(html) if s["name"] == "Familienzentrum Testanker")
    assert anchor["anchor"]
    assert anchor["address"] == "Missundestraße 9, 44145 Dortmund"
    assert anchor["offers"] == [offers["baby"].id]
    assert "Babytreff Testanker" in entry(html, offers["baby"].id)
    assert "at-anchor" in result_list(html).split(f'id="offer-{offers["baby"].id}"')[0][-80:]
    other = next(s for s in sites(html) if s["name"] == "Spielplatz Testecke")
    assert not other["anchor"]
    assert other["offers"] == [offers["kita"].id]
    # The popup's wording for anchors is on the page, for the script to use.
    assert "Anlaufstelle des Netzwerks" in html.split('id="family-text"')[1]
    assert "Anlaufstelle des Netzwerks</li>" in html  # legend entry
    # Data sources are credited on the map.
    assert "Stadt Dortmund (dl-de/zero-2.0)" in html


def test_map_site_leads_to_entry_with_site_age_languages_schedule_source(client, offers):
    html = client.get("/").get_data(as_text=True)
    site = next(s for s in sites(html) if offers["kita"].id in s["offers"])
    assert site["name"] == "Spielplatz Testecke"
    kita = entry(html, offers["kita"].id)
    assert "Kita Testecke" in kita
    for text in ("Spielplatz Testecke", "1–6 Jahre", "Deutsch, Türkisch", "Zeiten", "test"):
        assert text in kita


def test_list_works_without_map(client, db_session, offers):
    offers["kita"].is_example = True
    db_session.flush()
    html = client.get("/").get_data(as_text=True)
    listing = result_list(html)
    assert "<h2" in listing and "<h3" in listing and "<ul" in listing
    assert "Kita Testecke" in listing
    assert "Spielplatz Testecke" in listing
    assert "Kindertageseinrichtung (TEK)" in listing  # category heading in German
    kita = listing.split(f'id="offer-{offers["kita"].id}"')[1].split("</li>")[0]
    assert "Beispieleintrag" in kita  # example rows are marked as such


def test_service_area_offer_comes_home(client, offers):
    html = client.get("/").get_data(as_text=True)
    item = result_list(html).split(f'id="offer-{offers["welcome"].id}"')[1].split("</li>")[0]
    assert "kommt zu Ihnen nach Hause" in item
    # On the map: the service area polygon, leading to the offer's entry.
    areas = map_data(html)["areas"]["features"]
    area = next(a for a in areas if a["properties"]["id"] == offers["welcome"].id)
    assert shape(area["geometry"]).contains(Point(LON, LAT))  # the area it serves
    assert "Willkommensbesuch Testgebiet" in item


def test_filters_from_url_are_preselected_and_applied(client, offers):
    response = client.get("/?age_months=30&category=day_care&language=tr&free=1")
    assert response.status_code == 200
    state = page_state(response.get_data(as_text=True))
    assert state.selected["age_years"] == "2"
    assert state.selected["age_extra_months"] == "6"
    assert state.checked["category"] == {"day_care"}
    assert state.selected["language"] == "tr"
    assert state.checked["free"] == {"1"}
    assert offers["kita"].id in state.listed
    assert offers["baby"].id not in state.listed
    assert offers["welcome"].id not in state.listed


def test_form_submission_reproduces_the_view(client, offers):
    # What the form sends (checkboxes repeat the name; empty fields are sent empty).
    query = (
        "age_years=0&age_extra_months=6&birth_month=&category=baby_parent_meetup"
        "&category=welcome_visit&language="
    )
    state = page_state(client.get(f"/?{query}").get_data(as_text=True))
    assert state.checked["category"] == {"baby_parent_meetup", "welcome_visit"}
    assert state.selected["age_years"] == "0"
    assert {offers["baby"].id, offers["welcome"].id} <= state.listed
    assert offers["kita"].id not in state.listed


def test_age_filter_on_page(client, offers):
    at_12 = page_state(client.get("/?age_months=12").get_data(as_text=True)).listed
    at_30 = page_state(client.get("/?age_months=30").get_data(as_text=True)).listed
    assert offers["baby"].id in at_12
    assert offers["baby"].id not in at_30
    assert offers["kita"].id in at_30


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("age_months=-5", "Alter in Monaten"),
        ("birth_month=gestern", "Geburtsmonat"),
        ("category=nope", "Bereich"),
        ("bbox=7,200,8,51", "Kartenausschnitt"),
    ],
)
def test_bad_filter_input_shows_message(client, offers, query, label):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    assert label in html
    assert "folium-map" in html  # the page still works


@pytest.fixture
def hostile(db_session, places):
    site = Site(
        name=HOSTILE_SCRIPT,
        street=HOSTILE_ATTR,
        geom=from_shape(Point(LON - 0.002, LAT), srid=4326),
        source_dataset="test",
        source_id="hostile",
    )
    db_session.add(site)
    db_session.flush()
    return [
        add_offer(
            db_session,
            title=HOSTILE_SCRIPT,
            description=HOSTILE_ATTR,
            contact=HOSTILE_ATTR + "`${alert(1)}`",
            site=site,
        ),
        add_offer(
            db_session,
            title=HOSTILE_ATTR,
            description=HOSTILE_SCRIPT,
            category="welcome_visit",
            age_max_months=12,
            service_area=from_shape(MultiPolygon([box(7.46, 51.52, 7.48, 51.53)]), srid=4326),
        ),
    ]


def test_hostile_text_is_escaped_everywhere(client, hostile):
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    listing = result_list(html)
    assert ESCAPED_SCRIPT in listing
    assert ESCAPED_ATTR in listing
    # The map's data is JSON inside a script element: no raw "<" can end the element, and
    # what it holds is the plain text (family.js only ever sets it with textContent).
    raw = html.split('id="map-data">')[1].split("</script>")[0]
    assert "<" not in raw and ">" not in raw
    site = next(s for s in sites(html) if s["name"] == HOSTILE_SCRIPT)
    assert site["address"].startswith(HOSTILE_ATTR)
    assert hostile[0].id in site["offers"]
    area_ids = [a["properties"]["id"] for a in map_data(html)["areas"]["features"]]
    assert hostile[1].id in area_ids


def test_hostile_parameter_is_escaped_in_message(client):
    response = client.get("/", query_string={"category": HOSTILE_SCRIPT})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


URL = re.compile(r"https?://[^\s\"'<>\\]*")


def requested_urls(html: str) -> list[str]:
    """What a browser would fetch: script/link/img/iframe sources and CSS url(...)."""
    found = re.findall(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*>", html)
    found += re.findall(r"url\([^)]*\)|@import[^;]*", html)
    return found


def test_no_third_party_url_by_default(app, client, offers):
    # Only our own rows in view (offers' contact texts from the real data may quote websites).
    bbox = f"{LON - 0.003},{LAT - 0.002},{LON + 0.003},{LAT + 0.002}"
    html = client.get(f"/?bbox={bbox}").get_data(as_text=True)
    assert page_state(html).listed == {offer.id for offer in offers.values()}
    # The one address in the page is the link in the base map's OpenStreetMap credit.
    assert set(URL.findall(html)) == {"https://www.openstreetmap.org/copyright"}
    assert 'src="/static/vendor/leaflet/leaflet.js"' in html
    assert 'href="/static/vendor/leaflet/leaflet.css"' in html
    assert "data-basemap=" in html  # the service's own base map (tests/test_basemap.py)
    assert "Keine Hintergrundkarte eingerichtet" not in html
    assert "L.tileLayer" not in html
    # Without the base map the page says there is no background, in the family's language too.
    app.config["BASEMAP"] = ""
    html = client.get(f"/?bbox={bbox}").get_data(as_text=True)
    assert URL.findall(html) == []
    assert "Keine Hintergrundkarte eingerichtet" in html
    english = client.get(f"/?bbox={bbox}&lang=en").get_data(as_text=True)
    assert "No background map configured" in english
    # With all data: URLs may appear as text, but nothing is fetched from elsewhere.
    html = client.get("/").get_data(as_text=True)
    assert not [item for item in requested_urls(html) if URL.search(item)]
    assert "L.tileLayer" not in html


def test_only_the_configured_tile_server(app, client, offers):
    tiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    app.config["TILE_URL"] = tiles
    bbox = f"{LON - 0.003},{LAT - 0.002},{LON + 0.003},{LAT + 0.002}"
    html = client.get(f"/?bbox={bbox}").get_data(as_text=True)
    assert "L.tileLayer" in html
    assert "Keine Hintergrundkarte" not in html
    # Besides the tiles only the attribution's links, which are links, not requests.
    allowed = {tiles, *URL.findall(app.config["TILE_ATTRIBUTION"])}
    found = set(URL.findall(html))
    assert tiles in found
    assert found <= allowed
    assert re.findall(r"L\.tileLayer\(\s*\"([^\"]*)\"", html) == [tiles]
    assert not [item for item in requested_urls(html) if URL.search(item)]


def test_leaflet_is_served_locally(client):
    response = client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 200
    assert "javascript" in response.mimetype
    assert b"Leaflet 1.9.4" in response.data[:300]
    response.close()
    response = client.get("/static/vendor/leaflet/leaflet.css")
    assert response.status_code == 200
    response.close()
    response = client.get("/static/vendor/leaflet/images/marker-icon.png")
    assert response.status_code == 200
    response.close()
    response = client.get("/static/css/map.css")
    assert response.status_code == 200
    response.close()


def test_osm_credit_when_osm_data_is_shown(client, db_session, places):
    site = Site(
        name="Spielplatz aus OSM",
        geom=from_shape(Point(LON, LAT + 0.001), srid=4326),
        source_dataset="osm-test",
        source_id="node/1",
        source_licence="ODbL 1.0",
    )
    db_session.add(site)
    db_session.flush()
    add_offer(db_session, title="Spielen", category="playground", age_min_months=12, site=site)
    html = client.get("/").get_data(as_text=True)
    assert "© OpenStreetMap contributors" in html


def test_script_string_literals_cannot_close_the_script():
    literal = js_string('</script><!-- "quoted" \u2028 Straße')
    assert "<" not in literal
    assert json.loads(literal) == '</script><!-- "quoted" \u2028 Straße'
