"""Coverage from the database: routed over a network, estimated without one; the what-if."""

import time

import numpy as np
import pytest
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import func, select

from mapservice.models import (
    Area,
    HypotheticalOffer,
    Offer,
    Scenario,
    Site,
    User,
    WalkEdge,
    WalkNetwork,
    WalkNode,
)
from mapservice.planning.build import build_base, planning_base
from mapservice.planning.coverage import PLANNING_PHASES
from mapservice.planning.results import coverage_result
from mapservice.planning.whatif import apply_changes, changes_of, delta
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.store import import_network

TO_WGS84 = Transformer.from_crs(25832, 4326, always_xy=True)
X0, Y0 = 300_000, 5_600_000  # far from Dortmund: no other data around
SPEED = 5 / 3.6  # adult, m/s
SETTINGS = WalkSettings()


def wgs84_point(x, y):
    lon, lat = TO_WGS84.transform(x, y)
    return from_shape(Point(lon, lat), srid=4326)


def wgs84_polygon(polygon):
    coords = [TO_WGS84.transform(x, y) for x, y in polygon.exterior.coords]
    return from_shape(MultiPolygon([Polygon(coords)]), srid=4326)


def add_offer(session, x, y, category="baby_parent_meetup", age=(0, 24), name="Treff"):
    site = Site(
        name=name, geom=wgs84_point(x, y), source_dataset="test", source_id=f"{name}-{x}-{y}"
    )
    session.add(site)
    session.flush()
    offer = Offer(
        title=name,
        category=category,
        age_min_months=age[0],
        age_max_months=age[1],
        site_id=site.id,
        source_dataset="test",
        source_id=f"{name}-{x}-{y}",
        languages=[],
        translations={},
    )
    session.add(offer)
    session.flush()
    return offer


@pytest.fixture
def line_world(db_session):
    """A straight street of 20 × 100 m, a 2.1 km × 600 m area along it, a sub-district."""
    network = WalkNetwork(name="test-line", source_file="test")
    db_session.add(network)
    db_session.flush()
    xs = [X0 + 50 + 100 * k for k in range(21)]
    y = Y0 + 50
    base_id = 9_100_000_000
    for k, x in enumerate(xs):
        db_session.add(
            WalkNode(
                id=base_id + k, network_id=network.id, geom=from_shape(Point(x, y), srid=25832)
            )
        )
    for k in range(20):
        db_session.add(
            WalkEdge(
                id=base_id + k,
                network_id=network.id,
                source=base_id + k,
                target=base_id + k + 1,
                length_m=100.0,
                highway="footway",
                steps=False,
                geom=from_shape(LineString([(xs[k], y), (xs[k + 1], y)]), srid=25832),
            )
        )
    strip = box(X0, Y0, X0 + 2100, Y0 + 600)
    db_session.add(
        Area(
            kind="network_extent",
            code="t-line",
            name="Test strip",
            geom=wgs84_polygon(strip),
            attributes={},
            source_dataset="test",
        )
    )
    db_session.add(
        Area(
            kind="subdistrict",
            code="T01",
            name="Teststadt",
            attributes={"population_density_ha_abs": 100.0},
            share_children_0_6_pct=6.0,
            share_children_6_18_pct=12.0,
            geom=wgs84_polygon(strip.buffer(50)),
            source_dataset="test",
        )
    )
    db_session.flush()
    offer = add_offer(db_session, xs[0], y)
    return offer


def cell_at(grid, column, row):
    return int(np.flatnonzero((grid.e == X0 + 100 * column) & (grid.n == Y0 + 100 * row))[0])


def test_coverage_is_routed_on_the_network_and_estimated_beyond_it(db_session, line_world):
    result = coverage_result(build_base(db_session, "network:t-line", SETTINGS, "adult"))
    grid = result.grid
    assert len(grid) == 21 * 6
    meetup = result.coverage.combo_index("0-2", "baby_parent_meetup")
    minutes = result.coverage.minutes[meetup]
    estimated = result.cell_estimated(meetup)
    # On the street: 100 m per column at 5 km/h is 1.2 minutes.
    for column in (0, 3, 10, 20):
        cell = cell_at(grid, column, 0)
        assert minutes[cell] == pytest.approx(1.2 * column, abs=1e-6)
        assert not estimated[cell]
    # One row off the street: the 100 m to the street are walked too.
    assert minutes[cell_at(grid, 7, 1)] == pytest.approx(1.2 * 7 + 1.2)
    # 500 m from the street, beyond the 300 m a point may snap: straight line × 1.3.
    far = cell_at(grid, 6, 5)
    assert estimated[far]
    expected = np.hypot(600, 500) * 1.3 / SPEED / 60
    assert minutes[far] == pytest.approx(expected)
    # Counts within 5 / 10 / 15 minutes on the street row: columns ≤ 4, ≤ 8, ≤ 12.
    counts = result.coverage.counts[meetup]
    row0 = [cell_at(grid, c, 0) for c in range(21)]
    assert [int(counts[t, row0].sum()) for t in range(3)] == [5, 9, 13]


def test_demand_and_shares_of_the_strip(db_session, line_world):
    result = coverage_result(build_base(db_session, "network:t-line", SETTINGS, "adult"))
    children = result.demand[PLANNING_PHASES.index("0-2")]
    # Every cell gets the same estimate: k × 100 residents × 6 % / 3.
    assert np.allclose(children, children[0]) and children[0] > 0
    assert "estimate" in result.base.demand_source
    meetup = result.coverage.combo_index("0-2", "baby_parent_meetup")
    within = result.coverage.within(10)[meetup]
    share = result.shares()[meetup, result.coverage.threshold_index(10)]
    assert share == pytest.approx(within.mean())
    rows = result.shares_by_subdistrict()[meetup, 1]
    assert rows.tolist() == pytest.approx([share])


def test_what_if_new_offer_shortens_walks_within_a_second(db_session, line_world):
    base = planning_base(db_session, "network:t-line", SETTINGS, "adult")
    before = coverage_result(base)
    user = User(email="p@example.org", password_hash="x", role="planner")
    scenario = Scenario(owner=user, name="east end")
    x, y = X0 + 50 + 2000, Y0 + 50
    lon, lat = TO_WGS84.transform(x, y)
    scenario.changes.append(
        HypotheticalOffer(
            action="add",
            category="baby_parent_meetup",
            age_min_months=0,
            age_max_months=24,
            label="new",
            geom=from_shape(Point(lon, lat), srid=4326),
        )
    )
    db_session.add(scenario)
    db_session.flush()
    started = time.perf_counter()
    after = apply_changes(base, changes_of(scenario))
    change = delta(before, after)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    meetup = after.coverage.combo_index("0-2", "baby_parent_meetup")
    east = cell_at(base.grid, 20, 0)
    assert after.coverage.minutes[meetup, east] == pytest.approx(0.0, abs=1e-6)
    assert change.minutes[meetup, east] == pytest.approx(-24.0, abs=1e-6)
    t10 = after.coverage.threshold_index(10)
    assert change.shares[meetup, t10] > 0
    assert change.children_gained[meetup, t10] > 0
    # Removing the real offer leaves only the new one: the west end loses its meetup.
    scenario.changes.append(
        HypotheticalOffer(
            action="remove",
            replaces_offer_id=line_world.id,
            category="baby_parent_meetup",
            age_min_months=0,
            age_max_months=24,
            label="closed",
        )
    )
    db_session.flush()
    removed = apply_changes(base, changes_of(scenario))
    west = cell_at(base.grid, 0, 0)
    assert removed.coverage.minutes[meetup, west] == pytest.approx(24.0, abs=1e-6)


def test_the_quarter_is_routed_on_the_dortmund_network(db_session):
    quarter = db_session.scalar(
        select(func.count()).select_from(Area).where(Area.kind == "quarter")
    )
    assert quarter == 1, "the default data holds the quarter"
    result = coverage_result(build_base(db_session, "quarter", SETTINGS, "adult"))
    assert len(result.grid) > 30
    # The default data loads the Dortmund network around Innenstadt-Nord: no cell of the
    # quarter is an estimate.
    assert not result.base.estimated_cells.any()
    assert "calibrated on Innenstadt-Nord" in result.base.demand_source
    assert result.demand.sum() > 100
    day_care = result.coverage.combo_index("2-4", "day_care")
    assert not result.cell_estimated(day_care).any()
    assert np.nanmin(result.coverage.minutes[day_care]) < 10  # Kitas are close in the Nordstadt


def test_coverage_on_the_witten_network_is_routed(db_session, data_dir):
    import_network(
        db_session, data_dir / "osm" / "Witten_Stockum.pbf", "witten-test", refresh=False
    )
    # A Kita in the middle of Stockum (Stockumer Straße area).
    transformer = Transformer.from_crs(4326, 25832, always_xy=True)
    x, y = transformer.transform(7.3625, 51.4745)
    add_offer(db_session, x, y, category="day_care", age=(4, 72), name="Kita Stockum")
    result = coverage_result(build_base(db_session, "network:witten-test", SETTINGS, "adult"))
    assert len(result.grid) > 300
    routed = ~result.base.estimated_cells
    assert routed.mean() > 0.5  # the extent is a convex hull: fields far from paths too
    kita = result.coverage.combo_index("4-6", "day_care")
    minutes = result.coverage.minutes[kita]
    reached = routed & ~np.isnan(minutes)
    assert reached.sum() > 50
    assert not result.coverage.estimated[kita][reached].any()
    # A walk is never shorter than the straight line from the nearest day-care centre (ours,
    # or one of those the default data brings from the OSM extract) to the cell's centre.
    day_care_sites = db_session.execute(
        select(
            func.ST_X(func.ST_Transform(Site.geom, 25832)),
            func.ST_Y(func.ST_Transform(Site.geom, 25832)),
        )
        .join(Offer, Offer.site_id == Site.id)
        .where(Offer.category == "day_care", Offer.status == "active")
    ).all()
    straight = (
        np.min(
            [np.hypot(result.grid.x - sx, result.grid.y - sy) for sx, sy in day_care_sites], axis=0
        )
        / SPEED
        / 60
    )
    assert (minutes[reached] >= straight[reached] - 1e-6).all()
