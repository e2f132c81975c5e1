"""The planners' page, its API, scenarios and exports (signed in as a planner)."""

import csv
import io
import json
import re

import pyogrio
import pytest
from accounts import PASSWORD, sign_in, token_from
from pyproj import Transformer

from mapservice.auth import create_user
from mapservice.planning.demand import import_census_csv

QUARTER = {"area": "quarter", "phase": "2-4", "category": "day_care", "minutes": "10"}


def sign_in_as_planner(client, email):
    sign_in(client, email)
    return token_from(client.get("/planners/", query_string=QUARTER).get_data(as_text=True))


@pytest.fixture
def planner(app, client, db_session):
    app.config["TILE_URL"] = ""  # no third-party request at all
    create_user(db_session, "planner@example.org", PASSWORD, "planner")
    create_user(db_session, "other@example.org", PASSWORD, "planner")
    db_session.commit()
    return sign_in_as_planner(client, "planner@example.org")


def in_script(label: str, page: str) -> bool:
    """A layer's name in the map's script, where folium writes it JSON-escaped (ä as \\u00e4)."""
    return json.dumps(label)[1:-1] in page


def test_page_shows_map_legend_gaps_chart_and_table_without_third_party_assets(client, planner):
    answer = client.get("/planners/", query_string=QUARTER)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "L.map(" in page and "L.control.layers" in page
    assert in_script("Minuten zum nächsten Angebot", page) and "Kinder je Zelle" in page
    assert "Lücken" in page and "chart.svg" in page and "Unterbezirke" in page
    assert "Borsigplatz" in page  # the quarter's sub-districts in the table
    # The Dortmund network covers the Nordstadt: no cell is an estimate.
    assert "geschätzt (Luftlinie × Umwegfaktor)" not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]


def test_bad_parameters_name_the_parameter(client, planner):
    answer = client.get("/planners/api/coverage", query_string={"phase": "0-99"})
    assert answer.status_code == 400 and answer.json["parameter"] == "phase"
    answer = client.get("/planners/api/coverage", query_string={"area": "subdistrict:999"})
    assert answer.status_code == 400 and answer.json["parameter"] == "area"
    answer = client.get("/planners/api/gaps", query_string={**QUARTER, "limit": "0"})
    assert answer.status_code == 400 and answer.json["parameter"] == "limit"


def test_coverage_api_gives_indicators_per_phase_category_and_sub_district(client, planner):
    body = client.get("/planners/api/coverage", query_string=QUARTER).json
    assert body["cells"] > 30 and body["cells_estimated"] == 0
    row = next(r for r in body["indicators"] if r["phase"] == "2-4" and r["category"] == "day_care")
    assert row["offers"] > 0 and row["children"] > 0
    five, ten, fifteen = row["shares"]
    assert 0 <= five <= ten <= fifteen <= 1
    assert row["estimated_share"] == 0.0
    assert {r["code"] for r in body["subdistricts"]} == {"052", "061"}


def test_gap_list_ranks_by_children(client, planner):
    body = client.get(
        "/planners/api/gaps",
        query_string={
            "area": "quarter",
            "phase": "4-6",
            "category": "parent_seminar",
            "minutes": "5",
            "limit": "5",
        },
    ).json
    children = [gap["children"] for gap in body["gaps"]]
    assert 0 < len(children) <= 5
    assert children == sorted(children, reverse=True)
    assert not any(gap["estimated"] for gap in body["gaps"])


def test_exports_carry_the_grid_and_its_indicators(client, planner):
    geo = client.get("/planners/export.geojson", query_string=QUARTER)
    assert geo.mimetype == "application/geo+json"
    features = json.loads(geo.data)["features"]
    assert features[0]["geometry"]["type"] == "Polygon"
    props = features[0]["properties"]
    assert {
        "cell_id",
        "children_2_4",
        "p2_4_day_care_min",
        "p2_4_day_care_n10",
        "p2_4_day_care_est",
        "off_network",
    } <= set(props)
    table = list(
        csv.DictReader(
            io.StringIO(
                client.get("/planners/export.csv", query_string=QUARTER).get_data(as_text=True)
            )
        )
    )
    assert len(table) == len(features) and table[0]["off_network"] == "False"
    gpkg = client.get("/planners/export.gpkg", query_string=QUARTER)
    assert gpkg.data[:16] == b"SQLite format 3\x00"
    path = "/tmp/planners-test-export.gpkg"
    with open(path, "wb") as handle:
        handle.write(gpkg.data)
    frame = pyogrio.read_dataframe(path, layer="coverage")
    assert len(frame) == len(features) and frame.crs.to_epsg() == 25832
    svg = client.get("/planners/chart.svg", query_string=QUARTER)
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_scenario_what_if_through_the_api(client, planner):
    headers = {"X-CSRFToken": planner}
    made = client.post(
        "/planners/api/scenarios", json={"name": "Neue Kita", "area": "quarter"}, headers=headers
    )
    assert made.status_code == 201
    scenario = made.json["id"]
    # A Kita between Borsigplatz and the Nordmarkt.
    change = client.post(
        f"/planners/api/scenarios/{scenario}/changes",
        headers=headers,
        json={"category": "day_care", "lat": 51.5225, "lon": 7.4800, "capacity": 60},
    )
    # The taxonomy's usual range for day care (data/taxonomy.toml).
    assert change.status_code == 201 and change.json["age_min_months"] == 0
    before = client.get("/planners/api/coverage", query_string=QUARTER).json
    after = client.get(
        "/planners/api/coverage", query_string={**QUARTER, "scenario": scenario}
    ).json
    deltas = {(d["phase"], d["category"]): d for d in after["delta"]["indicators"]}
    kita = deltas[("2-4", "day_care")]
    assert kita["cells_changed"] > 0 and min(kita["share_change"]) >= 0
    assert (
        after["supply_demand"]["offers_with_capacity"]
        == before["supply_demand"]["offers_with_capacity"] + 1
    )
    page = client.get("/planners/", query_string={**QUARTER, "scenario": scenario})
    assert in_script("Änderung durch das Szenario", page.get_data(as_text=True))
    # The hypothetical offer never reaches the public map.
    public = client.get("/api/offers").json
    assert all(f["properties"]["title"] != "Neue Kita" for f in public["features"])
    moved = client.patch(
        f"/planners/api/scenarios/{scenario}/changes/{change.json['id']}",
        json={"lat": 51.52, "lon": 7.47},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.json["lat"] == 51.52
    bad = client.post(
        f"/planners/api/scenarios/{scenario}/changes",
        headers=headers,
        json={"category": "day_care", "lat": 95, "lon": 7.4},
    )
    assert bad.status_code == 400 and bad.json["parameter"] == "lat"
    gone = client.delete(
        f"/planners/api/scenarios/{scenario}/changes/{change.json['id']}", headers=headers
    )
    assert gone.status_code == 204


def test_scenarios_belong_to_their_planner(app, client, planner):
    made = client.post(
        "/planners/api/scenarios", json={"name": "Mine"}, headers={"X-CSRFToken": planner}
    )
    scenario = made.json["id"]
    other = app.test_client()
    sign_in(other, "other@example.org")
    assert other.get(f"/planners/api/scenarios/{scenario}").status_code == 404
    assert (
        other.get("/planners/api/coverage", query_string={"scenario": scenario}).status_code == 404
    )
    assert other.get("/planners/api/scenarios").json == {"scenarios": []}


def test_scenario_forms_escape_what_planners_type(client, planner):
    hostile = "<script>alert(1)</script>"
    answer = client.post(
        "/planners/scenarios", data={"name": hostile, "area": "quarter", "csrf_token": planner}
    )
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    scenario = re.search(r"scenario=(\d+)", answer.headers["Location"]).group(1)
    added = client.post(
        f"/planners/scenarios/{scenario}/changes",
        data={
            "csrf_token": planner,
            "action": "add",
            "category": "kinderstube",
            "lat": "51.523",
            "lon": "7.476",
            "label": hostile,
            **QUARTER,
        },
    )
    assert added.status_code == 302
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert hostile not in page
    refused = client.post(
        f"/planners/scenarios/{scenario}/changes",
        data={"action": "add", "category": "kinderstube", "lat": "51.523", "lon": "7.476"},
    )
    assert refused.status_code == 400  # no CSRF token


def test_census_grid_replaces_the_estimate(app, client, planner, db_session):
    # Two census cells (EPSG:3035) in the quarter, near Borsigplatz.
    to_laea = Transformer.from_crs(4326, 3035, always_xy=True)
    x, y = to_laea.transform(7.4805, 51.5235)
    e, n = int(x // 100 * 100), int(y // 100 * 100)
    text = (
        "GITTER_ID_100m;age_0_2;age_2_4;age_4_6;age_6_10\n"
        f"CRS3035RES100mN{n}E{e};12;10;–;20\n"
        f"CRS3035RES100mN{n}E{e + 100};3;4;5;6\n"
    )
    result = import_census_csv(db_session, text, "zensus-test")
    assert (result.rows, result.cells, result.suppressed_values) == (2, 2, 1)
    db_session.commit()
    body = client.get("/planners/api/coverage", query_string=QUARTER).json
    assert "census grid 'zensus-test'" in body["demand_source"]
    by = {(r["phase"], r["category"]): r["children"] for r in body["indicators"]}
    assert by[("0-2", "day_care")] == 15 and by[("2-4", "day_care")] == 14
