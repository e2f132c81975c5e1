"""Synthetic city-sized walking networks for the benchmarks, built directly in PostGIS."""

from __future__ import annotations

import random

from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.walking.store import finish_network

# The benchmarks' synthetic city (EPSG:25832, in the Sauerland, clear of every real network).
GRID_ORIGIN = (395_000.0, 5_640_000.0)
SPACING = 80.0  # metres between grid junctions
TO_WGS84 = Transformer.from_crs(25832, 4326, always_xy=True)


def build_grid_network(
    session: Session,
    name: str,
    junctions_per_side: int,
    origin: tuple[float, float],
    spacing_m: float,
    *,
    jitter_m: float = 0.0,
    steps_share: float = 0.0,
) -> int:
    """An n x n street grid in EPSG:25832 with ~2·n² edges; returns the network id.

    ``jitter_m`` moves each junction by up to ±jitter/2 so that block lengths vary like
    real ones; ``steps_share`` of the edges are steps (closed to prams and wheelchairs).
    """
    network_id = session.execute(
        text(
            "INSERT INTO walk_network (name, source_file) VALUES (:name, 'synthetic') RETURNING id"
        ),
        {"name": name},
    ).scalar_one()
    x0, y0 = origin
    params = {
        "n": junctions_per_side,
        "x0": x0,
        "y0": y0,
        "s": spacing_m,
        "jitter": jitter_m,
        "steps": steps_share,
        "id": network_id,
    }
    session.execute(
        text(
            """
            CREATE TEMP TABLE synthetic_node ON COMMIT DROP AS
            SELECT i, j, nextval('walk_node_id_seq') AS id,
                   :x0 + i * :s + (random() - 0.5) * :jitter AS x,
                   :y0 + j * :s + (random() - 0.5) * :jitter AS y
            FROM generate_series(0, :n - 1) i, generate_series(0, :n - 1) j
            """
        ),
        params,
    )
    session.execute(
        text(
            "INSERT INTO walk_node (id, network_id, geom) "
            "SELECT id, :id, ST_SetSRID(ST_MakePoint(x, y), 25832) FROM synthetic_node"
        ),
        params,
    )
    session.execute(
        text(
            """
            WITH pairs AS (  -- east and north neighbours (two hash joins, not an OR join)
                SELECT a.id AS u, b.id AS v, a.x AS ax, a.y AS ay, b.x AS bx, b.y AS by
                FROM synthetic_node a JOIN synthetic_node b ON b.i = a.i + 1 AND b.j = a.j
                UNION ALL
                SELECT a.id, b.id, a.x, a.y, b.x, b.y
                FROM synthetic_node a JOIN synthetic_node b ON b.i = a.i AND b.j = a.j + 1
            )
            INSERT INTO walk_edge (network_id, source, target, length_m, highway, steps, geom)
            SELECT :id, u, v, sqrt((ax - bx) ^ 2 + (ay - by) ^ 2), 'residential',
                   random() < :steps,
                   ST_SetSRID(ST_MakeLine(ST_MakePoint(ax, ay), ST_MakePoint(bx, by)), 25832)
            FROM pairs
            """
        ),
        params,
    )
    session.execute(
        text("UPDATE walk_edge SET highway = 'steps' WHERE steps AND network_id = :id"), params
    )
    session.execute(text("DROP TABLE synthetic_node"))
    finish_network(session, network_id)
    return int(network_id)


def add_site(session: Session, name: str, lon: float, lat: float, source_id: str) -> int:
    """A bench site (dataset ``bench``) at a WGS84 point; returns its id."""
    return int(
        session.execute(
            text(
                "INSERT INTO site (name, geom, is_anchor, wheelchair, source_dataset, source_id) "
                "VALUES (:name, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), false, 'unknown', "
                "'bench', :sid) RETURNING id"
            ),
            {"name": name, "lon": lon, "lat": lat, "sid": source_id},
        ).scalar_one()
    )


def build_grid_city(session: Session, n: int, sites: int, rng: random.Random) -> int:
    """The benchmarks' synthetic city: n x n junctions ``SPACING`` apart, 2 % of edges are
    steps, and ``sites`` day-care sites with one offer each at random places on it; returns
    the network id."""
    network_id = build_grid_network(
        session, "bench-grid", n, GRID_ORIGIN, SPACING, steps_share=0.02
    )
    x0, y0 = GRID_ORIGIN
    size = (n - 1) * SPACING
    for k in range(sites):
        x = x0 + rng.uniform(0, size)
        y = y0 + rng.uniform(0, size)
        lon, lat = TO_WGS84.transform(x, y)
        site_id = add_site(session, f"Kita {k}", lon, lat, str(k))
        session.execute(
            text(
                "INSERT INTO offer (title, category, age_min_months, age_max_months, languages, "
                "cost_free, registration_required, status, translations, site_id, is_example, "
                "source_dataset, source_id) VALUES (:t, 'day_care', 4, 72, '{de}', true, false, "
                "'active', '{}', :site, false, 'bench', :sid)"
            ),
            {"t": f"Kita {k}", "site": site_id, "sid": str(k)},
        )
    return int(network_id)
