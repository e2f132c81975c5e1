"""The vector base map: the PMTiles archive served with range requests and caching headers,
the archive checked before a page links it, and every page with a map carrying it (and
nothing from another host)."""

from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path

import pytest
from accounts import sign_in, token_from
from flask import Flask
from flask.testing import FlaskClient
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from mapservice import basemap
from mapservice.models import Offer
from mapservice.outreach.form import visit_field
from mapservice.web.basemap import MEDIA_TYPE

ARCHIVE = "tiles/dortmund-basemap-2021.pmtiles"
URL = "/tiles/basemap.pmtiles"
THIRD_PARTY = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


@pytest.fixture
def archive_bytes(data_dir: Path) -> bytes:
    return (data_dir / ARCHIVE).read_bytes()


def client_with(app: Flask, **config: object) -> FlaskClient:
    app.config.update(config)
    return app.test_client()


# --- the archive -------------------------------------------------------------------------


def test_the_bundled_archive_is_pmtiles_v3_vector_tiles_of_dortmund(data_dir: Path) -> None:
    found = basemap.read_archive(data_dir / ARCHIVE)
    west, south, east, north = found.bounds
    # Dortmund and Witten-Stockum, per PROVENANCE.md.
    assert (west, south, east, north) == pytest.approx((7.29, 51.40, 7.65, 51.61))
    assert (found.min_zoom, found.max_zoom) == (0, 14)
    assert found.attribution == "© OpenStreetMap contributors"
    # The layers the style draws are there.
    for layer in ("transportation", "transportation_name", "building", "water", "landuse"):
        assert layer in found.layers
    for layer in ("landcover", "park", "place", "poi", "housenumber", "waterway"):
        assert layer in found.layers


def test_the_style_draws_only_layers_the_archive_has(data_dir: Path) -> None:
    style = (Path(basemap.__file__).parents[1] / "static/js/basemap-style.js").read_text()
    used = set(re.findall(r'(?:area|line)\("([a-z_]+)"', style))
    used |= set(re.findall(r'dataLayer: "([a-z_]+)"', style))
    assert {"transportation", "transportation_name", "housenumber", "building"} <= used
    assert used <= set(basemap.read_archive(data_dir / ARCHIVE).layers)


def test_locate_takes_relative_paths_from_the_data_dir_and_empty_means_off(tmp_path) -> None:
    assert basemap.locate("", tmp_path) is None
    assert basemap.locate("  ", tmp_path) is None
    assert basemap.locate(None, tmp_path) is None
    assert basemap.locate("tiles/x.pmtiles", tmp_path) == tmp_path / "tiles/x.pmtiles"
    assert basemap.locate("/srv/x.pmtiles", tmp_path) == Path("/srv/x.pmtiles")


def test_missing_and_foreign_files_are_refused(tmp_path) -> None:
    with pytest.raises(basemap.BasemapError, match="not found"):
        basemap.read_archive(tmp_path / "missing.pmtiles")
    not_pmtiles = tmp_path / "tiles.mbtiles"
    not_pmtiles.write_bytes(b"SQLite format 3\x00" + bytes(200))
    with pytest.raises(basemap.BasemapError, match="not a PMTiles archive"):
        basemap.read_archive(not_pmtiles)
    version_2 = tmp_path / "old.pmtiles"
    version_2.write_bytes(b"PMTiles\x02" + bytes(200))
    with pytest.raises(basemap.BasemapError, match="version 3"):
        basemap.read_archive(version_2)


# --- the endpoint ------------------------------------------------------------------------


def test_full_get_sends_the_archive_with_caching_headers(client, archive_bytes) -> None:
    response = client.get(URL, headers={"Accept-Encoding": "gzip, deflate"})
    assert response.status_code == 200
    assert response.mimetype == MEDIA_TYPE
    assert response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == len(archive_bytes)
    assert "Content-Encoding" not in response.headers  # Flask-Compress kept out
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    cache = response.cache_control
    assert cache.public and cache.max_age and cache.max_age >= 3600
    assert response.get_data() == archive_bytes


def test_range_request_answers_206_with_exactly_those_bytes(client, archive_bytes) -> None:
    size = len(archive_bytes)
    response = client.get(
        URL, headers={"Range": "bytes=0-16383", "Accept-Encoding": "gzip, deflate"}
    )
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-16383/{size}"
    assert response.headers["Content-Length"] == "16384"
    assert "Content-Encoding" not in response.headers
    body = response.get_data()
    assert body == archive_bytes[:16384]
    assert body[:7] == b"PMTiles" and body[7] == 3

    # A tile in the middle of the archive, as the browser's reader asks for it.
    middle = client.get(URL, headers={"Range": "bytes=8000000-8000999"})
    assert middle.status_code == 206
    assert middle.headers["Content-Range"] == f"bytes 8000000-8000999/{size}"
    assert middle.get_data() == archive_bytes[8_000_000:8_001_000]


def test_a_tile_read_by_range_is_a_gzip_vector_tile(client, data_dir) -> None:
    """What the browser does: the header, then the directory, then one tile's bytes."""
    from pmtiles.reader import Reader

    def get_bytes(offset: int, length: int) -> bytes:
        answer = client.get(URL, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        assert answer.status_code == 206
        return answer.get_data()

    tile = Reader(get_bytes).get(14, 8532, 5446)  # the Nordstadt, Borsigplatz
    assert tile is not None
    data = gzip.decompress(tile)
    assert b"transportation" in data and b"Borsigplatz" in data


def test_suffix_and_open_ranges(client, archive_bytes) -> None:
    size = len(archive_bytes)
    tail = client.get(URL, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert tail.get_data() == archive_bytes[-500:]
    rest = client.get(URL, headers={"Range": f"bytes={size - 10}-"})
    assert rest.status_code == 206
    assert rest.get_data() == archive_bytes[-10:]


@pytest.mark.parametrize(
    "header",
    [
        "bytes=999999999-",  # starts after the end
        "bytes=500-100",  # backwards
        "bytes=abc",  # not a range
        "bytes=0-10,20-30",  # several ranges: Werkzeug serves a single range only
    ],
)
def test_unsatisfiable_or_bad_range_answers_416(client, archive_bytes, header) -> None:
    response = client.get(URL, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(archive_bytes)}"


def test_conditional_requests_answer_304(client) -> None:
    first = client.get(URL, headers={"Range": "bytes=0-99"})
    etag = first.headers["ETag"]
    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    since = client.get(URL, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    # If-Range with a stale validator: the whole (changed) file, not a piece of it.
    stale = client.get(URL, headers={"Range": "bytes=0-99", "If-Range": '"something-else"'})
    assert stale.status_code == 200


def test_missing_archive_answers_404_and_pages_say_no_background(app, tmp_path) -> None:
    client = client_with(app, BASEMAP=str(tmp_path / "gone.pmtiles"))
    assert client.get(URL).status_code == 404
    assert client.get(URL, headers={"Range": "bytes=0-10"}).status_code == 404
    page = client.get("/").get_data(as_text=True)
    assert "data-basemap" not in page
    assert "Keine Hintergrundkarte eingerichtet" in page


def test_base_map_off_when_the_setting_is_empty(app) -> None:
    client = client_with(app, BASEMAP="")
    assert client.get(URL).status_code == 404
    assert "data-basemap" not in client.get("/").get_data(as_text=True)


def test_a_file_that_is_not_pmtiles_is_not_served(app, tmp_path) -> None:
    fake = tmp_path / "fake.pmtiles"
    fake.write_text("<html>not tiles</html>")
    client = client_with(app, BASEMAP=str(fake))
    assert client.get(URL).status_code == 404


# --- the pages ---------------------------------------------------------------------------


def basemap_config(page: str) -> dict:
    found = re.search(r'data-basemap="([^"]+)"', page)
    assert found, "the page's map carries no base map"
    return json.loads(html.unescape(found.group(1)))


def assert_uses_basemap(page: str) -> None:
    config = basemap_config(page)
    assert config["url"].startswith(URL + "?v=")
    assert config["maxDataZoom"] == 14
    (south, west), (north, east) = config["bounds"]
    assert west < 7.47 < east and south < 51.52 < north
    assert "© OpenStreetMap contributors" in config["attribution"]
    for script in (
        "vendor/protomaps-leaflet/protomaps-leaflet.js",
        "js/basemap-style.js",
        "js/basemap.js",
    ):
        assert re.search(rf'<script defer src="/static/{re.escape(script)}"></script>', page)
    assert not THIRD_PARTY.findall(page), THIRD_PARTY.findall(page)
    assert "Keine Hintergrundkarte eingerichtet" not in page


def test_family_page_carries_the_base_map(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert_uses_basemap(response.get_data(as_text=True))


def test_family_page_with_a_place_in_witten_carries_the_base_map(client) -> None:
    page = client.get("/?lat=51.4700&lon=7.3670&minutes=15").get_data(as_text=True)
    assert_uses_basemap(page)


def test_planners_page_carries_the_base_map(client, accounts) -> None:
    sign_in(client, "planner@example.org")
    response = client.get("/planners/")
    assert response.status_code == 200
    assert_uses_basemap(response.get_data(as_text=True))


def test_outreach_route_map_carries_the_base_map(client, accounts) -> None:
    sign_in(client, "outreach@example.org")
    token = token_from(client.get("/outreach/").get_data(as_text=True))
    form = {
        "csrf_token": token,
        "start": "other",
        "start_lat": "51.524600",
        "start_lon": "7.474000",
        "profile": "adult",
        "minutes": "15",
        visit_field(1, "lat"): "51.525000",
        visit_field(1, "lon"): "7.478000",
        visit_field(1, "age_months"): "6",
    }
    response = client.post("/outreach/", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "L.polyline(" in page  # the route map is there
    assert_uses_basemap(page)


def test_the_archive_url_changes_with_the_file(app, tmp_path, archive_bytes) -> None:
    copy = tmp_path / "copy.pmtiles"
    copy.write_bytes(archive_bytes)
    client = client_with(app, BASEMAP=str(copy))
    before = basemap_config(client.get("/").get_data(as_text=True))["url"]
    copy.write_bytes(archive_bytes + b"\0")  # another version of the file
    after = basemap_config(client.get("/").get_data(as_text=True))["url"]
    assert before != after
    assert client.get(after, headers={"Range": "bytes=0-6"}).get_data() == b"PMTiles"


def test_a_raster_tile_url_replaces_the_vector_base_map(app) -> None:
    client = client_with(app, TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png")
    page = client.get("/").get_data(as_text=True)
    assert "data-basemap" not in page
    assert "protomaps-leaflet" not in page
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in page


def test_offer_page_shows_its_site_on_a_small_map(client, db_session) -> None:
    offer = db_session.scalars(
        select(Offer).where(Offer.site_id.is_not(None)).order_by(Offer.id)
    ).first()
    assert offer is not None and offer.site is not None
    page = client.get(f"/offer/{offer.id}").get_data(as_text=True)
    config = basemap_config(page)
    assert config["url"].startswith(URL + "?v=")
    found = re.search(r'data-offer-map="([^"]+)"', page)
    assert found
    place = json.loads(html.unescape(found.group(1)))
    site = to_shape(offer.site.geom)
    assert place["center"] == pytest.approx([site.y, site.x], abs=1e-6)
    assert place["name"] == offer.site.name
    scripts = re.findall(r'<script defer src="/static/([^"]+)"></script>', page)
    assert scripts == [
        "vendor/leaflet/leaflet.js",
        "vendor/protomaps-leaflet/protomaps-leaflet.js",
        "js/basemap-style.js",
        "js/offer-map.js",
        "js/basemap.js",
    ]
    assert not THIRD_PARTY.findall(page)


def test_an_offer_that_comes_home_has_no_map(client, db_session) -> None:
    offer = db_session.scalars(select(Offer).where(Offer.site_id.is_(None))).first()
    assert offer is not None
    page = client.get(f"/offer/{offer.id}").get_data(as_text=True)
    assert "data-offer-map" not in page and "leaflet.js" not in page


def test_offer_page_without_a_base_map_has_no_map(app, db_session) -> None:
    offer = db_session.scalars(select(Offer).where(Offer.site_id.is_not(None))).first()
    assert offer is not None
    page = client_with(app, BASEMAP="").get(f"/offer/{offer.id}").get_data(as_text=True)
    assert "data-offer-map" not in page
