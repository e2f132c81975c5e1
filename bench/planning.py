"""Planners' coverage benchmark: prints figures, not a test. Run it standalone:

    .venv/bin/python bench/planning.py [--grid 230] [--sites 1200] [--baseline-cells 300]

It uses its own database (``mapservice_bench_planning``, recreated) on the private cluster,
loads the bundled data (for the quarter) and builds a synthetic city in the database: a
street grid of ``grid`` x ``grid`` junctions 80 m apart with jittered positions (230 → 105,340
edges), an area over it (≥ 30,000 cells of 100 m), 16 sub-districts and ``sites`` sites with
offers of all categories. Then it measures:

* the quarter (real data; no network there, so estimated): full coverage from the database,
  the same with the cached walking times, and a what-if delta (one hypothetical Kita);
* the synthetic city: full coverage from the database (grid, demand, graph, many-source
  search, coverage, indicators, one 2SFCA), and a what-if delta;
* the baseline in the same run: one graph search per cell (a bounded Dijkstra from the cell's
  node, then the minimum per phase and category over the sites), timed on a sample of cells
  and on all cells of a 1 km² block, extrapolated to the whole city; its answers are compared
  with the fast path.

Targets (issue 5): quarter ≤ 1 s; city-sized network ≤ 30 s; what-if on the quarter ≤ 1 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import add_site, build_grid_network

from mapservice.config import Defaults
from mapservice.db import make_engine, migrate
from mapservice.importers.default_data import load_default_data
from mapservice.models import Area
from mapservice.pgcluster import local_cluster
from mapservice.planning.coverage import compute_coverage, phase_category_pairs
from mapservice.planning.service import (
    Change,
    PlanningBase,
    apply_changes,
    build_base,
    coverage_result,
    delta,
)
from mapservice.taxonomy import categories
from mapservice.walking.profiles import WalkSettings

DATABASE = "mapservice_bench_planning"
ORIGIN = (520_000.0, 5_600_000.0)  # EPSG:25832, far from Dortmund and from Witten
SPACING = 80.0
TO_WGS84 = Transformer.from_crs(25832, 4326, always_xy=True)
SETTINGS = WalkSettings()


def seconds(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def wgs84_box(x0: float, y0: float, x1: float, y1: float):  # type: ignore[no-untyped-def]
    corners = [TO_WGS84.transform(x, y) for x, y in box(x0, y0, x1, y1).exterior.coords]
    return from_shape(MultiPolygon([Polygon(corners)]), srid=4326)


def build_city(session: Session, n: int, sites: int, rng: random.Random) -> int:
    # Jittered junctions (±15 m), so edge lengths vary like real blocks.
    network_id = build_grid_network(session, "bench-city", n, ORIGIN, SPACING, jitter_m=30)
    x0, y0 = ORIGIN
    size = (n - 1) * SPACING
    session.add(
        Area(
            kind="network_extent",
            code="bench-city",
            name="Synthetic city",
            geom=wgs84_box(x0, y0, x0 + size, y0 + size),
            attributes={},
            source_dataset="bench",
        )
    )
    quarter = size / 4
    for a in range(4):
        for b in range(4):
            session.add(
                Area(
                    kind="subdistrict",
                    code=f"B{a}{b}",
                    name=f"Bench {a}{b}",
                    geom=wgs84_box(
                        x0 + a * quarter,
                        y0 + b * quarter,
                        x0 + (a + 1) * quarter,
                        y0 + (b + 1) * quarter,
                    ),
                    share_children_0_6_pct=rng.uniform(4, 10),
                    share_children_6_18_pct=rng.uniform(10, 20),
                    attributes={"population_density_ha_abs": rng.uniform(40, 300)},
                    source_dataset="bench",
                )
            )
    keys = list(categories())
    for k in range(sites):
        lon, lat = TO_WGS84.transform(x0 + rng.uniform(0, size), y0 + rng.uniform(0, size))
        site_id = add_site(session, f"Site {k}", lon, lat, str(k))
        for m in range(rng.choice((1, 1, 2))):
            key = rng.choice(keys)
            cat = categories()[key]
            session.execute(
                text(
                    "INSERT INTO offer (title, category, age_min_months, age_max_months, "
                    "languages, cost_free, registration_required, status, translations, "
                    "site_id, is_example, source_dataset, source_id, capacity) VALUES (:t, :c, "
                    ":lo, :hi, '{de}', true, false, 'active', '{}', :site, false, 'bench', "
                    ":sid, :cap)"
                ),
                {
                    "t": f"Offer {k}-{m}",
                    "c": key,
                    "lo": cat.min_months,
                    "hi": cat.max_months,
                    "site": site_id,
                    "sid": f"{k}-{m}",
                    "cap": rng.randint(20, 120) if key == "day_care" else None,
                },
            )
    return int(network_id)


def full_coverage(session: Session, area: str) -> tuple[dict[str, float], PlanningBase]:
    times: dict[str, float] = {}
    t_base, base = seconds(lambda: build_base(session, area, SETTINGS, "adult"))
    t_cov, result = seconds(lambda: coverage_result(base))
    t_ind, _ = seconds(lambda: (result.shares(), result.shares_by_subdistrict()))
    t_fca, _ = seconds(lambda: result.supply_demand("day_care", 15))
    times.update(base.timings)
    times["base_s"] = t_base
    times["coverage_s"] = t_cov
    times["indicators_s"] = t_ind
    times["2sfca_s"] = t_fca
    times["total_s"] = t_base + t_cov + t_ind + t_fca
    return times, base


def what_if(base: PlanningBase) -> float:
    before = coverage_result(base)
    x = float(np.median(base.grid.x)) + 37.0
    y = float(np.median(base.grid.y)) + 23.0
    change = Change(1, "add", "day_care", 4, 72, 60, None, x, y)
    started = time.perf_counter()
    after = apply_changes(base, [change])
    delta(before, after)
    after.supply_demand("day_care", 15)
    return time.perf_counter() - started


def baseline(base: PlanningBase, cells: np.ndarray) -> tuple[float, float]:
    """One bounded search per cell; returns (seconds, max difference in minutes to fast)."""
    router = base.router
    net = router.networks[0]
    snap = base.cell_snap
    loc_snap = router.snap(base.loc_x, base.loc_y)
    on_net = loc_snap.network == 0
    combos = phase_category_pairs(base.supply)
    fast = compute_coverage(base.pairs, base.supply, len(base.grid), base.n_locations, combos)
    fits = [base.supply.fits(p, c) for p, c in combos]
    started = time.perf_counter()
    worst = 0.0
    for cell in cells:
        metres = net.graph.distances_from(
            [int(snap.node[cell])], net.steps, router.horizon_s * router.speed_mps
        )[0]
        secs = np.full(base.n_locations, np.inf)
        secs[: len(base.loc_x)][on_net] = (
            metres[loc_snap.node[on_net]] + loc_snap.metres[on_net] + snap.metres[cell]
        ) / router.speed_mps
        secs[secs > router.horizon_s] = np.inf
        for index, fitting in enumerate(fits):
            best = secs[base.supply.loc[fitting]].min(initial=np.inf) / 60
            fast_value = fast.minutes[index, cell]
            if np.isfinite(best) and np.isfinite(fast_value):
                worst = max(worst, abs(best - fast_value))
            elif np.isfinite(best) != np.isfinite(fast_value):
                worst = max(worst, float("inf"))
    return time.perf_counter() - started, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", type=int, default=230, help="junctions per side")
    parser.add_argument("--sites", type=int, default=1200)
    parser.add_argument("--baseline-cells", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cluster = local_cluster()
    cluster.start()
    engine = make_engine(cluster.ensure_database(DATABASE, recreate=True))
    migrate(engine)
    with Session(engine) as session, session.begin():
        t_load, _ = seconds(lambda: load_default_data(session, Defaults.DATA_DIR))
        t_city, _ = seconds(lambda: build_city(session, args.grid, args.sites, rng))
    edges = args.grid * (args.grid - 1) * 2
    print(f"setup: bundled data {t_load:.1f} s, synthetic city ({edges:,} edges) {t_city:.1f} s")

    with Session(engine) as session:
        print("\n== quarter (real data, no network: estimated) ==")
        times, quarter = full_coverage(session, "quarter")
        print(
            f"cells {len(quarter.grid)}, offers {len(quarter.supply)}, pairs {len(quarter.pairs)}"
        )
        print("full coverage: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items()))
        warm, _ = seconds(lambda: coverage_result(quarter))
        print(f"coverage from cached walking times: {warm * 1000:.1f} ms")
        print(
            f"what-if delta (add a Kita, coverage + indicators + 2SFCA): "
            f"{what_if(quarter) * 1000:.1f} ms"
        )

        print("\n== synthetic city ==")
        times, city = full_coverage(session, "network:bench-city")
        print(
            f"cells {len(city.grid):,}, sites {len(city.loc_x):,}, offers {len(city.supply):,}, "
            f"pairs {len(city.pairs):,}, cells off the network {int(city.estimated_cells.sum())}"
        )
        print("full coverage: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
        print(f"what-if delta on the city: {what_if(city):.2f} s")

        print("\n== baseline: one graph search per cell ==")
        sample = np.array(
            rng.sample(range(len(city.grid)), min(args.baseline_cells, len(city.grid)))
        )
        t_sample, worst = baseline(city, sample)
        per_cell = t_sample / len(sample)
        print(
            f"{len(sample)} random cells: {t_sample:.2f} s ({per_cell * 1000:.1f} ms per cell); "
            f"largest difference to the fast path {worst:.2e} min"
        )
        cx, cy = float(np.median(city.grid.x)), float(np.median(city.grid.y))
        block = np.flatnonzero((np.abs(city.grid.x - cx) < 500) & (np.abs(city.grid.y - cy) < 500))
        t_block, worst_block = baseline(city, block)
        print(
            f"1 km² block, all {len(block)} cells: {t_block:.2f} s "
            f"(difference {worst_block:.2e} min)"
        )
        extrapolated = per_cell * len(city.grid)
        print(
            f"extrapolated to all {len(city.grid):,} cells: {extrapolated:.0f} s "
            f"(+ coverage), vs. fast path {times['total_s']:.1f} s "
            f"→ {extrapolated / times['walking_s']:.0f}x the search time"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
