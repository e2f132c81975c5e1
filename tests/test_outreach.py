"""Outreach workers' home-visit planner: order, routed and estimated legs, sheets, escaping,
roles, and privacy (nothing stored, nothing logged)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import random
import re

import pytest
from accounts import sign_in, token_from
from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import Point
from sqlalchemy import text

from mapservice.models import Offer, ScheduleSlot, Site
from mapservice.outreach.form import visit_field
from mapservice.outreach.order import (
    EXACT_MAX_VISITS,
    best_order,
    held_karp,
    nearest_neighbour,
    route_cost,
)
from mapservice.outreach.plan import Stop, plan_round
from mapservice.outreach.sites import anchor_sites
from mapservice.walking.profiles import WalkSettings

GEOD = Geod(ellps="WGS84")
# Haus der Generationen (Nordstadt, on the Dortmund network).
HDG = (51.5246, 7.474)
# Outside Dortmund and every network: a box around it holds only this test's rows.
LON, LAT = 7.2012, 51.3068
OFF_NETWORK = (LAT, LON)
HOSTILE = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def worker(app, client, accounts):
    app.config["TILE_URL"] = ""
    sign_in(client, "outreach@example.org")
    return token_from(client.get("/outreach/").get_data(as_text=True))


def east_of(lat: float, lon: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90, metres)
    return lat2, lon2


def visit_form(token: str, origin: tuple[float, float], homes: list[dict], **extra) -> dict:
    form = {
        "csrf_token": token,
        "start": "other",
        "start_lat": f"{origin[0]:.6f}",
        "start_lon": f"{origin[1]:.6f}",
        "profile": "adult",
        "minutes": "15",
    }
    for row, home in enumerate(homes, start=1):
        for key, value in home.items():
            form[visit_field(row, key)] = value
    form.update(extra)
    return form


def point(lat: float, lon: float, age: str = "6") -> dict:
    return {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "age_months": age}


def leg_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="leg[^"]*">(.*?)</tr>', html, re.S)


def visited_rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"\(Zeile (\d+)\)", html)]


def sheet(html: str, position: int) -> str:
    return html.split(f'id="sheet-{position}"')[1].split("</section>")[0]


# --- the order ------------------------------------------------------------------------------


def brute_force(cost, round_trip):
    n = len(cost)
    return min(
        route_cost(cost, [0, *rest], round_trip) for rest in itertools.permutations(range(1, n))
    )


@pytest.mark.parametrize("round_trip", [True, False])
def test_exact_order_matches_brute_force(round_trip):
    rng = random.Random(7)
    for n in range(1, 9):
        for _ in range(5):
            points = [(rng.uniform(0, 1000), rng.uniform(0, 1000)) for _ in range(n)]
            cost = [[math.dist(p, q) * rng.uniform(1, 1.5) for q in points] for p in points]
            order, exact = best_order(cost, round_trip)
            assert exact and sorted(order) == list(range(n)) and order[0] == 0
            assert route_cost(cost, order, round_trip) == pytest.approx(
                brute_force(cost, round_trip)
            )


def test_heuristic_above_the_exact_limit_is_valid_and_near_optimal():
    rng = random.Random(3)
    n = EXACT_MAX_VISITS + 3
    points = [(rng.uniform(0, 2000), rng.uniform(0, 2000)) for _ in range(n)]
    cost = [[math.dist(p, q) for q in points] for p in points]
    order, exact = best_order(cost, True)
    assert not exact and sorted(order) == list(range(n)) and order[0] == 0
    nearest = route_cost(cost, nearest_neighbour(cost), True)
    found = route_cost(cost, order, True)
    optimum = route_cost(cost, held_karp(cost, True), True)
    assert optimum - 1e-9 <= found <= nearest
    assert found <= optimum * 1.1


def test_visits_along_a_street_are_walked_in_line(client, worker):
    """Homes 200, 600, 400 and 800 m east of the start (entered in that order), off every
    walking network: the shortest open round visits them west to east; every leg is
    200 m x detour factor, estimated."""
    homes = [point(*east_of(*OFF_NETWORK, metres)) for metres in (200, 600, 400, 800)]
    answer = client.post("/outreach/", data=visit_form(worker, OFF_NETWORK, homes))
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert visited_rows(html) == [1, 3, 2, 4]
    legs = leg_rows(html)
    assert len(legs) == 4
    detour = WalkSettings().detour_factor
    for leg in legs:
        metres = int(re.search(r", (\d+) m\b", leg).group(1))
        assert metres == pytest.approx(200 * detour, abs=2)
        assert "geschätzt" in leg
    assert "Die Reihenfolge ist die kürzeste mögliche" in html
    assert "Gestrichelte Wege sind geschätzt" in html

    back = client.post("/outreach/", data=visit_form(worker, OFF_NETWORK, homes, round_trip="1"))
    html = back.get_data(as_text=True)
    assert len(leg_rows(html)) == 5
    assert "zurück zum Start" in html
    total = float(re.search(r"Fußweg, ([\d.]+) km", html).group(1))
    assert total == pytest.approx(2 * 800 * detour / 1000, abs=0.06)


# --- routed and estimated legs -------------------------------------------------------------


def path_metres(path: list[tuple[float, float]]) -> float:
    return sum(GEOD.inv(a[1], a[0], b[1], b[0])[2] for a, b in itertools.pairwise(path))


def test_legs_on_the_witten_network_follow_the_paths(db_session):
    """Witten-Stockum has an imported network: legs are routed, and the drawn path is as
    long as the walked distance (it really runs along the network, not straight)."""
    settings = WalkSettings()
    profile = settings.profile("adult")
    start = Stop("Start", 51.4667231, 7.369534)  # Heuweg 8
    homes = [
        Stop("A", 51.4697271, 7.3697757, 1, 3),  # Hörder Straße 340
        Stop("B", 51.4688352, 7.368423, 2, 3),  # Hörder Straße 326
    ]
    plan = plan_round(db_session, start, homes, profile, settings, round_trip=False)
    assert [visit.stop.label for visit in plan.visits] == ["B", "A"]
    for leg in plan.legs:
        assert not leg.estimated
        straight = GEOD.inv(leg.origin.lon, leg.origin.lat, leg.target.lon, leg.target.lat)[2]
        assert leg.metres >= straight
        assert len(leg.path) > 2  # bends along the streets
        assert path_metres(leg.path) == pytest.approx(leg.metres, rel=0.02)
        assert leg.path[0] == pytest.approx((leg.origin.lat, leg.origin.lon), abs=1e-5)
        assert leg.path[-1] == pytest.approx((leg.target.lat, leg.target.lon), abs=1e-5)
        assert leg.seconds == pytest.approx(leg.metres / profile.speed_mps)
    assert not plan.estimated


def test_legs_between_networks_or_off_them_are_estimated(db_session):
    settings = WalkSettings()
    start = Stop("Witten", 51.4667231, 7.369534)
    homes = [Stop("Nordstadt", *east_of(*HDG, 100), 1, 6)]
    plan = plan_round(db_session, start, homes, settings.profile("adult"), settings)
    assert len(plan.legs) == 2 and all(leg.estimated for leg in plan.legs)
    out = plan.legs[0]
    straight = GEOD.inv(start.lon, start.lat, homes[0].lon, homes[0].lat)[2]
    assert out.metres == pytest.approx(straight * settings.detour_factor, rel=0.01)
    assert len(out.path) == 2


def test_witten_round_on_the_page_is_marked_routed(client, worker):
    homes = [
        {"address": "Hörder Straße 340", "age_months": "3"},
        {"address": "Hörder Straße 326", "birth_month": "2025-01"},
    ]
    form = visit_form(worker, (51.4667231, 7.369534), homes)
    html = client.post("/outreach/", data=form).get_data(as_text=True)
    assert len(leg_rows(html)) == 2
    assert all("(Wegenetz)" in leg for leg in leg_rows(html))
    assert "Gestrichelte Wege sind geschätzt" not in html
    assert "Hörder Straße 340" in html and "L.polyline(" in html


# --- sheets: age-fitting offers, escaping -----------------------------------------------------


@pytest.fixture
def test_site(db_session):
    site = Site(
        name=f"Treff {HOSTILE}",
        street="Teststraße",
        house_number="1",
        postcode="44145",
        city="Dortmund",
        geom=from_shape(Point(LON, LAT), srid=4326),
        source_dataset="test",
        source_id="outreach-site",
    )
    db_session.add(site)
    db_session.flush()

    def offer(title, low, high, **extra):
        made = Offer(
            title=title,
            category="baby_parent_meetup",
            age_min_months=low,
            age_max_months=high,
            languages=["de", "tr"],
            site=site,
            source_dataset="test",
            source_id=title,
            **extra,
        )
        db_session.add(made)
        return made

    offers = {
        "baby": offer(
            "Babytreff Sheettest",
            0,
            12,
            contact="Frau Test, 0231 000",
            schedule=[ScheduleSlot(weekday=1, start_time=dt.time(9, 30), end_time=dt.time(11))],
        ),
        "school": offer("Schulkinder Sheettest", 72, 120),
        "hostile": offer(HOSTILE, 0, 24, contact=HOSTILE_ATTR),
        "paused": offer("Pausiert Sheettest", 0, 24, status="paused"),
    }
    db_session.commit()
    return offers


def test_sheet_lists_only_age_fitting_active_offers_escaped(client, worker, test_site):
    home = point(*east_of(LAT, LON, 150), age="6")
    answer = client.post("/outreach/", data=visit_form(worker, (LAT, LON), [home]))
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    one = sheet(html, 1)
    assert "Babytreff Sheettest" in one and "Frau Test, 0231 000" in one
    assert "Schulkinder Sheettest" not in one
    assert "Pausiert Sheettest" not in one
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in one  # the hostile offer, as text
    assert "Di. 09:30–11:00" in one  # the schedule
    assert "Türkisch" in one  # languages
    # Nowhere on the page is the hostile text markup: not in the sheet, not in the map.
    assert HOSTILE not in html and "<img src=x" not in html
    script = html.split("L.map(")[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in script  # the tooltip, escaped
    # Print layout: one A4 page per family.
    assert "@page { size: A4" in html and "break-before: page" in html


def test_sheet_speaks_the_family_language(client, worker, test_site):
    home = point(*east_of(LAT, LON, 150), age="6") | {"lang": "tr"}
    html = client.post("/outreach/", data=visit_form(worker, (LAT, LON), [home])).text
    one = sheet(html, 1)
    assert 'lang="tr"' in html.split('id="sheet-1"')[0][-80:]
    assert "Angebote für Familien" not in one  # the heading is Turkish
    assert "Babytreff Sheettest" in one


# --- input problems, roles, CSRF --------------------------------------------------------------


def test_bad_input_names_every_problem_and_keeps_the_input(client, worker):
    homes = [
        {"address": "Qqqxyzzy Nirgendweg 999", "age_months": "6"},
        {"lat": "51.5", "lon": "7.47", "age_months": "300"},
        {"lat": "51.5", "lon": "7.47"},
    ]
    answer = client.post("/outreach/", data=visit_form(worker, HDG, homes))
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "Besuch 1, Adresse: Adresse nicht gefunden" in html
    assert "Besuch 2, Alter in Monaten" in html
    assert "Besuch 3, Alter in Monaten: Alter oder Geburtsmonat fehlt" in html
    assert 'value="Qqqxyzzy Nirgendweg 999"' in html
    assert answer.headers["Cache-Control"] == "no-store"


def test_start_can_be_an_anchor_site(client, worker, db_session):
    anchors = anchor_sites(db_session)
    assert any("Haus der Generationen" in site.name for site in anchors)
    page = client.get("/outreach/").text
    assert "Haus der Generationen" in page and 'name="start"' in page
    hdg = next(site for site in anchors if "Haus der Generationen" in site.name)
    form = visit_form(worker, (0, 0), [point(*east_of(*HDG, 300))], start=f"site:{hdg.id}")
    del form["start_lat"], form["start_lon"]
    html = client.post("/outreach/", data=form).text
    assert "Haus der Generationen" in leg_rows(html)[0]


def test_anonymous_is_sent_to_login(client):
    answer = client.get("/outreach/")
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


@pytest.mark.parametrize(("role", "status"), [("planner", 403), ("outreach", 200), ("admin", 200)])
def test_roles(client, accounts, role, status):
    sign_in(client, f"{role}@example.org")
    assert client.get("/outreach/").status_code == status


def test_plan_needs_the_csrf_token(client, worker):
    form = visit_form(worker, HDG, [point(*east_of(*HDG, 300))])
    del form["csrf_token"]
    answer = client.post("/outreach/", data=form)
    assert answer.status_code == 400
    assert "Reihenfolge der Besuche" not in answer.get_data(as_text=True)


def test_pages_load_nothing_from_elsewhere(client, worker):
    html = client.post(
        "/outreach/", data=visit_form(worker, HDG, [point(*east_of(*HDG, 300))])
    ).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]


# --- privacy ----------------------------------------------------------------------------------


def table_counts(db_session) -> dict[str, int]:
    tables = db_session.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ).all()
    return {table: db_session.scalar(text(f'SELECT count(*) FROM "{table}"')) for table in tables}


def plan_with_addresses(client, token):
    homes = [
        {"address": "Hörder Straße 340", "age_months": "3"},
        point(51.524871, 7.479123, age="9"),
    ]
    form = visit_form(token, (51.4667231, 7.369534), homes)
    answer = client.post("/outreach/", data=form)
    assert answer.status_code == 200
    assert "Hörder Straße 340" in answer.text  # the address was really used
    return answer


def test_plan_writes_no_row_anywhere(client, worker, db_session):
    before = table_counts(db_session)
    assert len(before) > 10
    answer = plan_with_addresses(client, worker)
    db_session.expire_all()
    assert table_counts(db_session) == before
    assert answer.headers["Cache-Control"] == "no-store"
    assert "nicht gespeichert" in answer.text
    # The session cookie (if re-sent at all) holds nothing of the plan.
    for cookie in answer.headers.getlist("Set-Cookie"):
        assert "rder" not in cookie and "51.52" not in cookie


def test_addresses_and_points_never_reach_the_logs(client, worker, caplog):
    caplog.set_level(logging.DEBUG)  # everything, from every logger
    plan_with_addresses(client, worker)
    bad = visit_form(worker, HDG, [{"address": "Hörder Straße 326", "age_months": "999"}])
    assert client.post("/outreach/", data=bad).status_code == 400
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '')}" for r in caplog.records
    )
    for secret in (
        "Hörder",
        "rder Stra",
        "51.4667",
        "7.3695",
        "51.4697",
        "7.3697",
        "51.5248",
        "7.4791",
        "51.524",
    ):
        assert secret not in logged, secret
