"""Routed walking in Dortmund-Nordstadt, on the reconstructed city network of the default data.

The quarter lies north of the main railway; the tracks between the Hauptbahnhof and the
Nordstadt are crossed only where the network crosses them (the station's tunnels, the rail
bridges). The estimate (straight line x detour factor) cannot know that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapservice.importers.default_network import DORTMUND_NETWORK
from mapservice.models import WGS84, Offer, Site, WalkNetwork
from mapservice.outreach.plan import Stop, plan_round
from mapservice.planning.build import build_base
from mapservice.planning.compare import compare_estimate
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings

GEOD = Geod(ellps="WGS84")
NORDMARKT = {"lat": 51.5226, "lon": 7.4722}
# Either side of the tracks just east of the Hauptbahnhof, 107 m apart as the crow flies:
# south at the Königswall, north at the Steinstraße.
SOUTH_OF_TRACKS = (51.51755, 7.46053)
NORTH_OF_TRACKS = (51.51840, 7.45981)
# Hombruch, in the south of Dortmund: outside the part of the city network that is loaded.
OFF_THE_NETWORK = {"lat": 51.4700, "lon": 7.4400}


def reach(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/reachable", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[1], a[0], b[1], b[0])[2]


def test_the_dortmund_network_is_loaded_around_innenstadt_nord(db_session: Session) -> None:
    network = db_session.scalar(select(WalkNetwork).where(WalkNetwork.name == DORTMUND_NETWORK))
    assert network is not None and network.extent is not None
    edges = db_session.scalar(
        text("SELECT count(*) FROM walk_edge WHERE network_id = :id"), {"id": network.id}
    )
    assert edges > 20_000
    # Innenstadt-Nord with its 2 km margin lies inside the network; Hombruch does not.
    inside = db_session.execute(
        text(
            """
            SELECT bool_and(ST_Within(a.geom, n.extent)),
                   ST_Intersects(n.extent, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
            FROM area a, walk_network n
            WHERE a.kind = 'subdistrict' AND a.code IN ('041', '052', '061', '062')
              AND n.id = :id
            GROUP BY n.extent
            """
        ),
        {"id": network.id, **OFF_THE_NETWORK},
    ).one()
    assert inside == (True, False)


def test_the_quarter_answers_with_routed_minutes(client: FlaskClient) -> None:
    answer = reach(client, **NORDMARKT, minutes=10)
    assert answer["estimated"] is False
    assert answer["origin"]["on_network"] is True
    assert answer["features"], "offers around the Nordmarkt"
    assert all(f["properties"]["estimated"] is False for f in answer["features"])
    minutes = [f["properties"]["walking_minutes"] for f in answer["features"]]
    assert minutes == sorted(minutes) and minutes[-1] <= 10


def test_every_point_of_the_quarter_near_a_path_is_routed(
    client: FlaskClient, db_session: Session
) -> None:
    """Points spread over the quarter, each next to a street: none falls back to the estimate."""
    rows = db_session.execute(
        text(
            """
            SELECT ST_Y(p), ST_X(p) FROM (
                SELECT ST_Transform(ST_LineInterpolatePoint(e.geom, 0.5), 4326) AS p
                FROM walk_edge e JOIN walk_network n ON n.id = e.network_id,
                     area q
                WHERE n.name = :network AND q.kind = 'quarter' AND e.usable_steps
                  AND ST_Within(ST_Transform(e.geom, 4326), q.geom)
                ORDER BY e.id
            ) points
            """
        ),
        {"network": DORTMUND_NETWORK},
    ).all()
    assert len(rows) > 300
    sample = [rows[i] for i in np.linspace(0, len(rows) - 1, 25).astype(int)]
    for lat, lon in sample:
        answer = reach(client, lat=lat, lon=lon, minutes=5)
        assert answer["origin"]["on_network"] is True, (lat, lon)
        assert answer["estimated"] is False, (lat, lon)


def test_off_the_loaded_network_the_estimate_stays_and_says_so(client: FlaskClient) -> None:
    answer = reach(client, **OFF_THE_NETWORK, minutes=20)
    assert answer["estimated"] is True
    assert answer["origin"]["on_network"] is False


@pytest.fixture
def site_north_of_the_tracks(db_session: Session) -> Site:
    """A family centre just north of the tracks, with its walking times precomputed."""
    lat, lon = NORTH_OF_TRACKS
    site = Site(
        name="Familienzentrum Steinstraße (Test)",
        geom=from_shape(Point(lon, lat), srid=WGS84),
        source_dataset="test",
        source_id="north-of-tracks",
    )
    db_session.add(site)
    db_session.add(
        Offer(
            title="Elterncafé Steinstraße (Test)",
            category="parents_cafe",
            age_min_months=24,
            age_max_months=72,
            site=site,
            source_dataset="test",
            source_id="north-of-tracks",
        )
    )
    db_session.flush()
    refresh_reach(db_session, site_ids=[site.id])
    return site


def test_the_railway_is_crossed_only_where_the_network_crosses_it(
    client: FlaskClient, site_north_of_the_tracks: Site
) -> None:
    lat, lon = SOUTH_OF_TRACKS
    answer = reach(client, lat=lat, lon=lon, minutes=20)
    found = next(
        f["properties"]
        for f in answer["features"]
        if f["properties"]["site_id"] == site_north_of_the_tracks.id
    )
    assert found["estimated"] is False
    straight = metres(SOUTH_OF_TRACKS, NORTH_OF_TRACKS)
    assert 90 < straight < 130
    speed = 5 / 3.6
    routed_s = found["walking_seconds"]
    # What the service said before the network was loaded: straight line x 1.3 at 5 km/h.
    estimate_s = straight * WalkSettings().detour_factor / speed
    assert estimate_s < 2 * 60  # under two minutes by the estimate
    # Along the paths it is a walk round through the station: more than four times as far
    # as the straight line, three times what the estimate said.
    assert routed_s > 4 * straight / speed
    assert routed_s > 3 * estimate_s


def test_the_five_minute_area_stops_at_the_tracks(client: FlaskClient) -> None:
    lat, lon = NORTH_OF_TRACKS
    answer = client.get(
        "/api/isochrone", query_string={"lat": lat, "lon": lon, "minutes": "2"}
    ).get_json()
    assert answer["estimated"] is False
    area = shape(answer["features"][0]["geometry"])
    assert area.contains(Point(lon, lat))
    # 107 m away, but on the other side of the tracks: not within two minutes' walk.
    assert not area.contains(Point(SOUTH_OF_TRACKS[1], SOUTH_OF_TRACKS[0]))


def test_planners_coverage_of_the_quarter_is_routed(db_session: Session) -> None:
    settings = WalkSettings()
    base = build_base(db_session, "quarter", settings, "adult")
    assert len(base.grid) > 50
    assert int(base.estimated_cells.sum()) == 0
    comparison = compare_estimate(db_session, "quarter", settings, "adult")
    assert comparison.routed_cells == comparison.cells
    # Routing changes something: somewhere the nearest offer moves by more than 5 minutes,
    # or at least the shares within 5 minutes differ from the estimate.
    assert comparison.changed_cells > 0 or any(
        row.estimated_shares != row.routed_shares for row in comparison.combos
    )


def test_outreach_legs_in_the_quarter_follow_the_paths(db_session: Session) -> None:
    settings = WalkSettings()
    profile = settings.profile("adult")
    start = Stop("Start", *NORDMARKT.values())
    homes = [
        Stop("Süd", *SOUTH_OF_TRACKS, 1, 3),
        Stop("Nord", *NORTH_OF_TRACKS, 2, 3),
    ]
    plan = plan_round(db_session, start, homes, profile, settings, round_trip=False)
    assert not plan.estimated
    across = next(
        leg for leg in plan.legs if {leg.origin.label, leg.target.label} == {"Süd", "Nord"}
    )
    assert across.metres > 4 * metres(SOUTH_OF_TRACKS, NORTH_OF_TRACKS)
