"""OGC API – Features under /ogcapi/: links, paging, filters, errors, HTML, planners' layers."""

from __future__ import annotations

from typing import Any

import pytest
from accounts import sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.editing.tokens import create_token
from mapservice.models import Area, Offer, Site

GEOJSON = "application/geo+json"


def links(doc: dict[str, Any], rel: str) -> list[dict[str, str]]:
    return [link for link in doc["links"] if link["rel"] == rel]


def test_landing_page_has_the_typed_links_qgis_needs(client: FlaskClient) -> None:
    answer = client.get("/ogcapi/")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    doc = answer.get_json()
    (desc,) = links(doc, "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert desc["href"].startswith("http://localhost/ogcapi/openapi")
    assert links(doc, "data")[0]["type"] == "application/json"
    assert links(doc, "conformance") and links(doc, "service-doc")
    assert all(link["type"] and link["href"].startswith("http") for link in doc["links"])
    spec = client.get("/ogcapi/openapi")
    assert spec.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert spec.get_json()["openapi"].startswith("3.0")


def test_conformance_declares_core_geojson_html_oas30(client: FlaskClient) -> None:
    classes = client.get("/ogcapi/conformance").get_json()["conformsTo"]
    for name in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes


def test_public_collections_with_crs84_extents(client: FlaskClient) -> None:
    doc = client.get("/ogcapi/collections").get_json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids == ["offers", "sites", "areas"]
    for collection in doc["collections"]:
        west, south, east, north = collection["extent"]["spatial"]["bbox"][0]
        # Dortmund and Witten lie around 7.2–7.7 E, 51.3–51.7 N.
        assert 7.0 < west < east < 8.0 and 51.0 < south < north < 52.0
        assert collection["extent"]["spatial"]["crs"].endswith("CRS84")
        types = {(link["rel"], link["type"]) for link in collection["links"]}
        assert ("items", GEOJSON) in types and ("items", "text/html") in types
        single = client.get(f"/ogcapi/collections/{collection['id']}").get_json()
        assert single["extent"] == collection["extent"]


def test_offer_items_page_through_all_active_offers(
    client: FlaskClient, db_session: Session
) -> None:
    active = db_session.scalar(select(func.count()).where(Offer.status == "active"))
    seen: list[int] = []
    url: str | None = "/ogcapi/collections/offers/items?limit=40"
    while url:
        answer = client.get(url)
        assert answer.status_code == 200 and answer.mimetype == GEOJSON
        page = answer.get_json()
        assert page["numberMatched"] == active
        assert page["numberReturned"] == len(page["features"]) <= 40
        assert page["timeStamp"].endswith("Z")
        seen += [feature["id"] for feature in page["features"]]
        following = links(page, "next")
        assert all(link["type"] == GEOJSON for link in following)
        url = following[0]["href"] if following else None
    assert len(seen) == len(set(seen)) == active


def test_offer_filters_by_age_category_bbox_and_datetime(
    client: FlaskClient, db_session: Session
) -> None:
    page = client.get(
        "/ogcapi/collections/offers/items?age_months=30&category=day_care&limit=1000"
    ).get_json()
    expected = db_session.scalar(
        select(func.count()).where(
            Offer.status == "active",
            Offer.category == "day_care",
            Offer.age_min_months <= 30,
            Offer.age_max_months > 30,
        )
    )
    assert page["numberMatched"] == expected > 0
    for feature in page["features"]:
        props = feature["properties"]
        assert props["category"] == "day_care"
        assert props["age_min_months"] <= 30 < props["age_max_months"]
    boxed = client.get("/ogcapi/collections/sites/items?bbox=7.36,51.46,7.38,51.48&limit=1000")
    for feature in boxed.get_json()["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 7.36 <= lon <= 7.38 and 51.46 <= lat <= 51.48
    everything = client.get("/ogcapi/collections/offers/items?limit=1").get_json()
    dated = client.get("/ogcapi/collections/offers/items?datetime=2026-01-01/..").get_json()
    assert 0 < dated["numberMatched"] <= everything["numberMatched"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("ooga=booga", "ooga"),
        ("limit=unlimited", "limit"),
        ("limit=0", "limit"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=7,52,8,51", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("age_months=999", "age_months"),
        ("category=nonsense", "category"),
        ("f=xml", "f"),
        ("offset=-1", "offset"),
    ],
)
def test_bad_parameters_answer_400_naming_them(
    client: FlaskClient, query: str, parameter: str
) -> None:
    answer = client.get(f"/ogcapi/collections/offers/items?{query}")
    assert answer.status_code == 400
    assert answer.get_json()["parameter"] == parameter


def test_feature_has_self_alternate_collection_links(client: FlaskClient) -> None:
    first = client.get("/ogcapi/collections/offers/items?limit=1").get_json()["features"][0]
    answer = client.get(f"/ogcapi/collections/offers/items/{first['id']}")
    assert answer.status_code == 200 and answer.mimetype == GEOJSON
    feature = answer.get_json()
    assert feature["properties"]["title"] == first["properties"]["title"]
    assert {link["rel"] for link in feature["links"]} == {"self", "alternate", "collection"}


@pytest.mark.parametrize(
    "feature_id", ["999999999", "99999999999999999999999", "abc", "0", "-1", "1.5"]
)
def test_unknown_features_answer_404(client: FlaskClient, feature_id: str) -> None:
    for collection in ("offers", "sites", "areas"):
        answer = client.get(f"/ogcapi/collections/{collection}/items/{feature_id}")
        assert answer.status_code == 404, (collection, feature_id)
    assert client.get("/ogcapi/collections/nothing").status_code == 404


def test_areas_carry_child_shares(client: FlaskClient, db_session: Session) -> None:
    page = client.get("/ogcapi/collections/areas/items?kind=subdistrict&limit=1000").get_json()
    count = db_session.scalar(select(func.count()).where(Area.kind == "subdistrict"))
    assert page["numberMatched"] == count == 170
    shares = [f["properties"]["share_children_0_6_pct"] for f in page["features"]]
    assert any(value is not None and value > 0 for value in shares)
    quarter = client.get("/ogcapi/collections/areas/items?kind=quarter").get_json()
    assert quarter["numberMatched"] == 1
    assert quarter["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_unknown_cost_stays_unknown(client: FlaskClient, db_session: Session) -> None:
    """cost_free/registration_required pass through as they are stored (None: not known)."""
    offer = db_session.scalars(select(Offer).where(Offer.status == "active").limit(1)).one()
    feature = client.get(f"/ogcapi/collections/offers/items/{offer.id}").get_json()
    assert feature["properties"]["cost_free"] is offer.cost_free
    assert feature["properties"]["registration_required"] is offer.registration_required


def test_every_resource_has_html_in_the_service_look(client: FlaskClient) -> None:
    site_id = client.get("/ogcapi/collections/sites/items?limit=1").get_json()["features"][0]["id"]
    for path in (
        "/ogcapi/",
        "/ogcapi/conformance",
        "/ogcapi/collections",
        "/ogcapi/collections/sites",
        "/ogcapi/collections/sites/items?limit=5",
        f"/ogcapi/collections/sites/items/{site_id}",
        "/ogcapi/openapi",
    ):
        by_header = client.get(path, headers={"Accept": "text/html,*/*;q=0.8"})
        assert by_header.status_code == 200 and by_header.mimetype == "text/html", path
        assert 'class="site-header"' in by_header.get_data(as_text=True)
        joiner = "&" if "?" in path else "?"
        assert client.get(f"{path}{joiner}f=html").mimetype == "text/html"
    page = client.get("/ogcapi/collections/sites/items?limit=5&f=html").get_data(as_text=True)
    assert 'rel="next"' in page
    missing = client.get("/ogcapi/collections/sites/items/0?f=html")
    assert missing.status_code == 404 and missing.mimetype == "text/html"


def test_hostile_text_is_escaped_in_html(client: FlaskClient, db_session: Session) -> None:
    site = db_session.scalars(select(Site).limit(1)).one()
    site.name = "<script>alert(1)</script>"
    db_session.commit()
    page = client.get(f"/ogcapi/collections/sites/items/{site.id}?f=html").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_planner_collections_only_for_planners(
    client: FlaskClient, accounts: dict[str, Any]
) -> None:
    assert client.get("/ogcapi/collections/coverage").status_code == 401
    assert client.get("/ogcapi/collections/gaps/items").status_code == 401
    sign_in(client, "outreach@example.org")
    assert client.get("/ogcapi/collections/coverage/items").status_code == 403
    ids = [c["id"] for c in client.get("/ogcapi/collections").get_json()["collections"]]
    assert "coverage" not in ids
    client.post("/auth/logout", headers={"X-CSRFToken": "x"})


def test_planner_sees_coverage_grid_and_gaps(client: FlaskClient, accounts: dict[str, Any]) -> None:
    sign_in(client, "planner@example.org")
    ids = [c["id"] for c in client.get("/ogcapi/collections").get_json()["collections"]]
    assert ids[-2:] == ["coverage", "gaps"]
    grid = client.get("/ogcapi/collections/coverage/items?limit=1000")
    assert grid.headers["Cache-Control"] == "private, no-store"
    cells = grid.get_json()
    # The quarter's grid: 67 cells of 100 m (see the planners' README).
    assert cells["numberMatched"] == cells["numberReturned"] == 67
    assert cells["features"][0]["geometry"]["type"] == "Polygon"
    cell_id = cells["features"][0]["id"]
    one = client.get(f"/ogcapi/collections/coverage/items/{cell_id}").get_json()
    assert one["properties"]["cell_id"] == cell_id
    gaps = client.get(
        "/ogcapi/collections/gaps/items?phase=0-2&category=baby_parent_meetup&minutes=5"
    ).get_json()
    for feature in gaps["features"]:
        props = feature["properties"]
        assert (props["phase"], props["category"], props["minutes"]) == (
            "0-2",
            "baby_parent_meetup",
            5,
        )
        assert props["minutes_to_nearest"] is None or props["minutes_to_nearest"] > 5
    ranks = [f["properties"]["rank"] for f in gaps["features"]]
    assert ranks == sorted(ranks)


def test_html_pages_speak_the_chosen_language(client: FlaskClient) -> None:
    page = client.get("/ogcapi/collections?f=html&lang=tr").get_data(as_text=True)
    assert "Açık arayüzler" in page and 'lang="tr"' in page
    arabic = client.get("/ogcapi/?f=html&lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "الواجهات المفتوحة" in arabic


def test_generated_requests_never_break_the_ogc_api(app: Flask) -> None:
    """Schemathesis against the OGC API's own OpenAPI 3.0 document: no 5xx, documented
    status codes and content types, for every operation (a few examples each)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_wsgi("/ogcapi/openapi?f=json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 3 + 3 * 3  # all but /openapi itself
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: Any) -> None:
            case.call_and_validate(
                headers={"Accept-Encoding": "identity"}, excluded_checks=[positive_data_acceptance]
            )

        check()


def test_a_planner_token_opens_the_planner_collections(
    client: FlaskClient, db_session: Session, accounts: dict[str, Any]
) -> None:
    """QGIS cannot log in with a session: a planner's API token in the Authorization header
    opens the same collections, an outreach worker's does not, a bad one is anonymous."""
    planner = create_token(db_session, accounts["planner"])
    outreach = create_token(db_session, accounts["outreach"])
    db_session.commit()

    def collection(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return client.get("/ogcapi/collections/coverage", headers=headers).status_code

    assert collection(planner) == 200
    assert collection(outreach) == 403
    assert collection("not-a-token") == 401
    listed = client.get(
        "/ogcapi/collections", headers={"Authorization": f"Bearer {planner}"}
    ).get_json()
    assert "coverage" in [c["id"] for c in listed["collections"]]
