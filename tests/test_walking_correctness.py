"""Walking times against independent implementations on the same graph, and properties.

* the engine (scipy) against pgRouting in the same PostGIS and against networkx, for 200
  random node pairs of the Witten network, per step rule: equal within 1 second;
* the public reach answer (precomputed times + snapping) against networkx with the start
  point and the sites put on their edges as extra nodes;
* hypothesis: times never negative, monotone in the time limit, symmetric.
"""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
import numpy as np
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session
from walking_support import (
    Witten,
    graph_of,
    networkx_graph,
    point_on_edge,
    usable_edges,
    witten_fixture,  # noqa: F401
)

from mapservice.walking.profiles import DEFAULT_PROFILES

PAIRS = 200
FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.mark.parametrize("profile", ["adult", "pram"])
def test_engine_agrees_with_pgrouting_and_networkx(
    db_session: Session, witten: Witten, profile: str
) -> None:
    # Installed by ./dev with the server; fails loudly where it is missing.
    db_session.execute(text("CREATE EXTENSION IF NOT EXISTS pgrouting"))
    walker = DEFAULT_PROFILES[profile]
    graph = graph_of(db_session, witten.network_id)
    usable = np.flatnonzero(graph.variant(walker.steps).usable_node)
    rng = random.Random(20261126 + len(profile))
    pairs = [tuple(rng.sample(list(usable), 2)) for _ in range(PAIRS)]
    sources = sorted({a for a, _ in pairs})
    dist = graph.distances_from(sources, walker.steps, np.inf)
    row = {source: i for i, source in enumerate(sources)}
    ours = {
        (int(graph.node_ids[a]), int(graph.node_ids[b])): dist[row[a], b] / walker.speed_mps
        for a, b in pairs
    }
    combinations = ", ".join(f"({a}, {b})" for a, b in ours)
    edges_sql = (
        "SELECT id, source, target, length_m AS cost, length_m AS reverse_cost FROM walk_edge "
        f"WHERE network_id = {witten.network_id}" + ("" if walker.steps else " AND NOT steps")
    )
    pgr = {
        (start, end): cost / walker.speed_mps
        for start, end, cost in db_session.execute(
            text(
                "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost("
                ":edges, 'SELECT * FROM (VALUES " + combinations + ") AS t(source, target)', "
                "directed => false)"
            ),
            {"edges": edges_sql},
        ).tuples()
    }
    reference = networkx_graph(db_session, witten.network_id, steps=walker.steps)
    assert len(ours) >= 190  # a few pairs may repeat
    for (a, b), seconds in ours.items():
        assert np.isfinite(seconds) and seconds >= 0
        assert seconds == pytest.approx(pgr[(a, b)], abs=1.0)
        expected = nx.dijkstra_path_length(reference, a, b, weight="weight") / walker.speed_mps
        assert seconds == pytest.approx(expected, abs=1.0)


def _snaps(session: Session, profile: str, network_id: int) -> list[tuple[int, int, float, float]]:
    """Where the sites on one network meet it (the reference graph holds only that one)."""
    return list(
        session.execute(
            text(
                "SELECT site_id, edge_id, fraction, snap_m FROM walk_site_snap "
                "WHERE profile = :p AND network_id = :n AND edge_id IS NOT NULL ORDER BY site_id"
            ),
            {"p": profile, "n": network_id},
        ).tuples()
    )


def _networkx_site_seconds(
    session: Session,
    reference: nx.Graph,
    edge_id: int,
    fraction: float,
    snaps: list[tuple[int, int, float, float]],
    speed: float,
) -> dict[int, float]:
    """Seconds from a point on ``edge_id`` to every snapped site, by networkx."""
    edges = {
        row[0]: row[1:]
        for row in session.execute(
            text("SELECT id, source, target, length_m FROM walk_edge WHERE id = ANY(:ids)"),
            {"ids": list({edge_id} | {s[1] for s in snaps})},
        ).tuples()
    }
    g = reference.copy()

    def attach(name: Any, edge: int, f: float, offset: float) -> None:
        source, target, length = edges[edge]
        for node, metres in ((source, f * length + offset), (target, (1 - f) * length + offset)):
            if g.has_edge(name, node):
                metres = min(metres, g[name][node]["weight"])
            g.add_edge(name, node, weight=metres)

    attach("origin", edge_id, fraction, 0.0)
    for site_id, site_edge, site_fraction, snap_m in snaps:
        attach(("site", site_id), site_edge, site_fraction, snap_m)
        if site_edge == edge_id:
            length = edges[edge_id][2]
            g.add_edge(
                "origin", ("site", site_id), weight=abs(site_fraction - fraction) * length + snap_m
            )
    # A path through a site's extra node costs at least its edge's length, so sites never
    # shorten a path between others: one search serves all of them.
    lengths = nx.single_source_dijkstra_path_length(g, "origin", weight="weight")
    return {
        site_id: lengths[("site", site_id)] / speed
        for site_id, *_ in snaps
        if ("site", site_id) in lengths
    }


def test_reach_answers_agree_with_networkx(
    client: FlaskClient, db_session: Session, witten: Witten
) -> None:
    walker = DEFAULT_PROFILES["adult"]
    graph = graph_of(db_session, witten.network_id)
    reference = networkx_graph(db_session, witten.network_id, steps=True)
    snaps = _snaps(db_session, "adult", witten.network_id)
    assert len(snaps) >= 5
    edges = usable_edges(graph, steps=True)
    rng = random.Random(7)
    # Starts on random edges, plus one on the edge of a site (reached along that edge).
    starts = [(int(rng.choice(edges)), rng.uniform(0.05, 0.95)) for _ in range(25)]
    starts.append((snaps[0][1], 0.5))
    compared = 0
    for edge_id, fraction in starts:
        lat, lon = point_on_edge(db_session, edge_id, fraction)
        answer = client.get(
            "/api/reachable", query_string={"lat": lat, "lon": lon, "minutes": 30}
        ).get_json()
        assert answer["origin"]["snap_distance_m"] < 0.01
        got = {
            f["properties"]["site_id"]: f["properties"]["walking_seconds"]
            for f in answer["features"]
            if not f["properties"]["estimated"]
        }
        expected = _networkx_site_seconds(
            db_session, reference, edge_id, fraction, snaps, walker.speed_mps
        )
        for site_id, seconds in expected.items():
            if seconds <= 30 * 60 - 1:
                assert site_id in got, (edge_id, fraction, site_id)
                assert got[site_id] == pytest.approx(seconds, abs=1.0)
                compared += 1
        for site_id in got:
            assert expected[site_id] <= 30 * 60 + 1
    assert compared >= 50


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.data())
def test_times_are_symmetric_and_not_negative(
    db_session: Session, witten: Witten, data: st.DataObject
) -> None:
    graph = graph_of(db_session, witten.network_id)
    steps = data.draw(st.booleans())
    usable = np.flatnonzero(graph.variant(steps).usable_node)
    a = int(data.draw(st.sampled_from(list(usable))))
    b = int(data.draw(st.sampled_from(list(usable))))
    there = graph.distances_from([a], steps, np.inf)[0, b]
    back = graph.distances_from([b], steps, np.inf)[0, a]
    assert there >= 0 and back >= 0
    assert there == pytest.approx(back, abs=1e-6)
    if a == b:
        assert there == 0


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(
    edge_pick=st.integers(min_value=0, max_value=10_000),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    minutes=st.lists(st.integers(min_value=1, max_value=30), min_size=2, max_size=2),
    profile=st.sampled_from(sorted(DEFAULT_PROFILES)),
)
def test_reach_is_monotone_in_the_time_limit(
    client: FlaskClient,
    db_session: Session,
    witten: Witten,
    edge_pick: int,
    fraction: float,
    minutes: list[int],
    profile: str,
) -> None:
    graph = graph_of(db_session, witten.network_id)
    edges = usable_edges(graph, DEFAULT_PROFILES[profile].steps)
    lat, lon = point_on_edge(db_session, int(edges[edge_pick % len(edges)]), fraction)
    short, long = sorted(minutes)

    def times(limit: int) -> dict[int, float]:
        answer = client.get(
            "/api/reachable",
            query_string={"lat": lat, "lon": lon, "minutes": limit, "profile": profile},
        ).get_json()
        found = {f["id"]: f["properties"]["walking_seconds"] for f in answer["features"]}
        assert all(0 <= seconds <= limit * 60 for seconds in found.values())
        return found

    within_short, within_long = times(short), times(long)
    assert set(within_short) <= set(within_long)
    for offer_id, seconds in within_short.items():
        assert within_long[offer_id] == seconds
