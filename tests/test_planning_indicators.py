"""Hand-computed cases for coverage, indicators, gaps, demand and the 2SFCA."""

import numpy as np
import pytest
from shapely.geometry import box

from mapservice.planning.coverage import (
    PLANNING_PHASES,
    Supply,
    compute_coverage,
    gap_cells,
    share_within,
)
from mapservice.planning.demand import (
    CALIBRATION_CODES,
    CALIBRATION_RESIDENTS,
    SubdistrictFacts,
    estimate_demand,
    residential_share,
)
from mapservice.planning.grid import Grid, assign_polygons, grid_for_polygon
from mapservice.planning.routing import Pairs
from mapservice.planning.twostep import supply_demand


def pairs(rows):
    loc, cell, seconds = (np.array(col) for col in zip(*rows, strict=True))
    return Pairs(
        loc.astype(np.int64),
        cell.astype(np.int64),
        seconds.astype(float),
        np.zeros(len(loc), dtype=bool),
    )


def supply(rows):
    """rows: (location, category, age_min, age_max, capacity or None)."""
    return Supply(
        loc=np.array([r[0] for r in rows], dtype=np.int64),
        category=np.array([r[1] for r in rows], dtype=object),
        age_min=np.array([r[2] for r in rows], dtype=np.int64),
        age_max=np.array([r[3] for r in rows], dtype=np.int64),
        capacity=np.array([np.nan if r[4] is None else r[4] for r in rows], dtype=float),
        offer_id=np.arange(1, len(rows) + 1),
    )


def demand_for(phase, values):
    demand = np.zeros((len(PLANNING_PHASES), len(values)))
    demand[PLANNING_PHASES.index(phase)] = values
    return demand


def test_nearest_offer_and_counts_follow_the_walking_times():
    # Two meetups for babies at location 0 and 1, a Kita (4 months - 6 years) at location 1.
    offers = supply(
        [
            (0, "baby_parent_meetup", 0, 24, None),
            (1, "baby_parent_meetup", 0, 24, None),
            (1, "day_care", 4, 72, None),
        ]
    )
    walk = pairs([(0, 0, 120), (1, 0, 500), (0, 1, 400), (1, 1, 700), (1, 2, 1000)])
    coverage = compute_coverage(walk, offers, n_cells=4, n_locations=2)
    meetup = coverage.combo_index("0-2", "baby_parent_meetup")
    assert coverage.minutes[meetup, :3].tolist() == pytest.approx([2.0, 400 / 60, 1000 / 60])
    assert np.isnan(coverage.minutes[meetup, 3])  # no pair: nothing within the horizon
    # Offers within 5 / 10 / 15 minutes (300 / 600 / 900 s).
    assert coverage.counts[meetup, :, 0].tolist() == [1, 2, 2]
    assert coverage.counts[meetup, :, 1].tolist() == [0, 1, 2]
    assert coverage.counts[meetup, :, 2].tolist() == [0, 0, 0]
    # The Kita fits 2-4 years too; the meetup (0-24 months) does not.
    kita = coverage.combo_index("2-4", "day_care")
    assert coverage.minutes[kita, 0] == pytest.approx(500 / 60)
    assert ("2-4", "baby_parent_meetup") not in coverage.combos


def test_share_of_children_within_time_for_area_and_sub_districts():
    offers = supply([(0, "playground", 12, 168, None)])
    walk = pairs([(0, 0, 180), (0, 1, 480)])  # 3 and 8 minutes; cell 2 unreached
    coverage = compute_coverage(
        walk, offers, n_cells=3, n_locations=1, combos=[("2-4", "playground")]
    )
    demand = demand_for("2-4", [10.0, 20.0, 30.0])
    assert share_within(coverage, demand)[0].tolist() == pytest.approx([10 / 60, 30 / 60, 30 / 60])
    groups = np.array([0, 0, 1])
    by_group = share_within(coverage, demand, groups, 2)[0]
    assert by_group[:, 0].tolist() == pytest.approx([10 / 30, 1.0, 1.0])
    assert by_group[:, 1].tolist() == pytest.approx([0.0, 0.0, 0.0])


def test_gap_list_ranks_cells_without_offer_by_children():
    offers = supply([(0, "kinderstube", 24, 48, None)])
    walk = pairs([(0, 0, 60), (0, 1, 900)])
    coverage = compute_coverage(
        walk, offers, n_cells=4, n_locations=1, combos=[("2-4", "kinderstube")]
    )
    demand = demand_for("2-4", [50.0, 5.0, 7.0, 0.0])
    gaps = gap_cells(coverage, demand, "2-4", "kinderstube", minutes=10, limit=10)
    assert [(g.cell, g.children) for g in gaps] == [(2, 7.0), (1, 5.0)]
    assert gaps[0].minutes is None and gaps[1].minutes == pytest.approx(15.0)


def test_two_step_floating_catchment_matches_hand_computation():
    # Kitas A (10 places) and B (5 places); children per cell 100, 50, 50 (0-6 in thirds).
    # Catchment 5 min (300 s): A reaches cells 0, 1; B reaches 1, 2.
    # R_A = 10 / 150, R_B = 5 / 100; A_0 = R_A, A_1 = R_A + R_B, A_2 = R_B.
    offers = supply(
        [(0, "day_care", 4, 72, 10), (1, "day_care", 4, 72, 5), (1, "day_care", 4, 72, None)]
    )
    walk = pairs([(0, 0, 60), (0, 1, 120), (0, 2, 540), (1, 0, 480), (1, 1, 180), (1, 2, 120)])
    demand = np.zeros((4, 3))
    demand[:3] = np.array([100.0, 50.0, 50.0]) / 3
    result = supply_demand(walk, offers, demand, "day_care", catchment_min=5)
    assert result.per_cell.tolist() == pytest.approx([10 / 150, 10 / 150 + 5 / 100, 5 / 100])
    assert result.offers_with_capacity == 2 and result.offers_without_capacity == 1
    # Demand-weighted mean: total places reached per child = 15 places / 200 children.
    assert float(result.weighted_mean()) == pytest.approx(15 / 200)


def test_demand_estimate_from_density_and_shares():
    grid = Grid(np.array([0, 100, 200]), np.array([0, 0, 0]))
    facts = [
        SubdistrictFacts("A", "A", 6.0, 12.0, 200.0, 1.0),
        SubdistrictFacts("B", "B", 12.0, 24.0, 100.0, 1.0),
    ]
    demand = estimate_demand(grid, np.array([0, 1, -1]), facts, k=0.5)
    # Cell 0: 0.5 × 200 = 100 residents; 6 % under 6 → 6 children, 2 per two-year phase;
    # 12 % aged 6-18 → 12, four years of twelve → 4 aged 6-10.
    assert demand[:, 0].tolist() == pytest.approx([2, 2, 2, 4])
    assert demand[:, 1].tolist() == pytest.approx([2, 2, 2, 4])  # 50 residents, double shares
    assert demand[:, 2].tolist() == [0, 0, 0, 0]  # outside every sub-district


def test_residential_share_is_calibrated_on_innenstadt_nord():
    facts = [SubdistrictFacts(code, code, 8.0, 16.0, 100.0, 100.0) for code in CALIBRATION_CODES]
    k, calibrated = residential_share(facts)
    assert calibrated
    assert k == pytest.approx(CALIBRATION_RESIDENTS / (len(CALIBRATION_CODES) * 100 * 100))
    _k, calibrated = residential_share(facts[:-1])
    assert not calibrated


def test_grid_cells_are_aligned_to_100_m_and_follow_the_area():
    grid = grid_for_polygon(box(390_030, 5_710_010, 390_330, 5_710_190))
    assert set(grid.e % 100) == {0} and set(grid.n % 100) == {0}
    # Centres inside: x centres 390050..390250 (3), y centres 5710050, 5710150 (2).
    assert len(grid) == 6
    west = box(390_000, 5_710_000, 390_120, 5_710_300)
    east = box(390_120, 5_710_000, 390_400, 5_710_300)
    assert sorted(assign_polygons(grid, [west, east]).tolist()) == [0, 0, 1, 1, 1, 1]
