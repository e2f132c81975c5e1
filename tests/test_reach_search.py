"""Reach answered by a search from the point (no per-node table): what a family notices
when a site moves, a network changes, or many requests arrive at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from walking_support import Witten, graph_of, witten_fixture  # noqa: F401

from mapservice.models import Offer, Site
from mapservice.walking.kernels import bounded_search
from mapservice.walking.precompute import refresh_reach
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.reach import TO_METRIC, at_current_version
from mapservice.walking.search import ReachState, reach_state, routed_seconds, snap_xy

HOME = {"lat": 51.4700, "lon": 7.3670}  # a street in Witten-Stockum
SETTINGS = WalkSettings()


def reach(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/reachable", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def minutes_by_title(answer: dict[str, Any]) -> dict[str, float]:
    features = answer["features"]
    return {f["properties"]["title"]: f["properties"]["walking_minutes"] for f in features}


def version(session: Session) -> int:
    return int(session.execute(text("SELECT n FROM data_version WHERE id = 1")).scalar_one())


def test_a_site_moved_in_the_same_transaction_changes_the_answer(
    client: FlaskClient, db_session: Session, witten: Witten
) -> None:
    """The nearest Kita moves ~600 m away: its minutes grow at once (the move and the
    refresh in one transaction, as editing and the importers do), and back again."""
    before = minutes_by_title(reach(client, **HOME, minutes=30))
    assert before["AWO-Kita Stockum"] < 10
    site = db_session.scalars(
        select(Site).join(Offer, Offer.site_id == Site.id).where(Offer.title == "AWO-Kita Stockum")
    ).first()
    assert site is not None
    moved = db_session.execute(
        text("UPDATE site SET geom = ST_Translate(geom, 0, 0.0055) WHERE id = :id RETURNING id"),
        {"id": site.id},
    ).scalar_one()
    refresh_reach(db_session, site_ids=[moved])
    after = minutes_by_title(reach(client, **HOME, minutes=30))
    assert after["AWO-Kita Stockum"] > before["AWO-Kita Stockum"] + 4  # 600 m: 7 min or more
    # The other sites' times stay as they were.
    others = set(before) & set(after) - {"AWO-Kita Stockum"}
    assert others and all(after[t] == before[t] for t in others)
    db_session.execute(
        text("UPDATE site SET geom = ST_Translate(geom, 0, -0.0055) WHERE id = :id"),
        {"id": site.id},
    )
    refresh_reach(db_session, site_ids=[site.id])
    assert minutes_by_title(reach(client, **HOME, minutes=30)) == before


def test_snaps_and_networks_bump_the_data_version(db_session: Session, witten: Witten) -> None:
    """The workers key the site snaps by the data version: rewriting them changes it."""
    first = version(db_session)
    refresh_reach(db_session, site_ids=[int(db_session.scalar(text("SELECT min(id) FROM site")))])
    second = version(db_session)
    assert second > first
    db_session.execute(text("UPDATE walk_network SET source_file = source_file"))
    assert version(db_session) > second


def test_walking_work_ends_on_the_version_the_transaction_reads(
    db_session: Session, witten: Witten
) -> None:
    """A request works on the state of the version its worker read last while the version
    is read again; when a change came in between, the work is done again on the new one."""
    first, state, seen = at_current_version(db_session, SETTINGS, lambda state: state.version)
    assert seen == state.version == first == version(db_session)
    refresh_reach(db_session, site_ids=[int(db_session.scalar(text("SELECT min(id) FROM site")))])
    calls: list[int] = []

    def work(state: ReachState) -> int:
        calls.append(state.version)
        return state.version

    newer, state, seen = at_current_version(db_session, SETTINGS, work)
    assert newer == version(db_session) > first
    assert seen == state.version == newer
    assert calls == [first, newer]
    calls.clear()
    assert at_current_version(db_session, SETTINGS, work)[2] == newer
    assert calls == [newer]


def test_routed_times_are_those_of_a_search_from_each_site(
    db_session: Session, witten: Witten
) -> None:
    """The request's search from the point gives, for every site, the time of a search
    from the site's own edge ends (the old precomputation's direction)."""
    state = reach_state(db_session, version(db_session), SETTINGS)
    adult = SETTINGS.profile("adult")
    x, y = TO_METRIC.transform(HOME["lon"], HOME["lat"])
    snap = snap_xy(state, x, y, adult.steps, SETTINGS.max_snap_m)
    assert snap is not None and snap.network.graph.network_id == witten.network_id
    ids, seconds = routed_seconds(state, snap, adult, 30 * 60)
    assert len(ids) >= 5
    graph = graph_of(db_session, witten.network_id)
    sites = state.profiles["adult"].routed[witten.network_id]
    u, v = graph.edge_u[snap.edge], graph.edge_v[snap.edge]
    length = graph.length[snap.edge]
    start_u = snap.fraction * length + snap.distance_m
    start_v = (1 - snap.fraction) * length + snap.distance_m
    for site_id, time in zip(ids.tolist(), seconds.tolist(), strict=True):
        k = int(np.flatnonzero(sites.site_ids == site_id)[0])
        dist = graph.distances_from([int(sites.node_u[k]), int(sites.node_v[k])], True, np.inf)
        metres = min(
            dist[0, u] + sites.via_u[k] + start_u,
            dist[0, v] + sites.via_u[k] + start_v,
            dist[1, u] + sites.via_v[k] + start_u,
            dist[1, v] + sites.via_v[k] + start_v,
        )
        if sites.edge[k] == snap.edge:
            along = abs(sites.fraction[k] - snap.fraction) * length
            metres = min(metres, along + sites.snap_m[k] + snap.distance_m)
        assert time == pytest.approx(metres / adult.speed_mps, abs=1e-6)


@pytest.mark.parametrize("steps", [True, False])
def test_the_compiled_search_finds_scipys_distances(
    db_session: Session, witten: Witten, steps: bool
) -> None:
    """From two start nodes at given distances, within a limit: the same metres as SciPy's
    Dijkstra over the graph with the point as an extra node (inf beyond the limit)."""
    graph = graph_of(db_session, witten.network_id)
    matrix = graph.variant(steps).matrix
    n = matrix.shape[0]
    rng = np.random.default_rng(11)
    for u, v, to_u, to_v, limit in zip(
        rng.integers(0, n, 15),
        rng.integers(0, n, 15),
        rng.uniform(0.5, 80, 15),
        rng.uniform(0.5, 80, 15),
        rng.choice([50.0, 400.0, 1250.0, np.inf], 15),
        strict=True,
    ):
        ours = bounded_search(
            matrix.indptr,
            matrix.indices,
            matrix.data,
            np.array([u, v], dtype=np.int64),
            np.array([to_u, to_v]),
            limit,
        )
        point = sparse.csr_array(([to_u, to_v], ([n, n], [u, v])), shape=(n + 1, n + 1))
        extended = sparse.block_array([[matrix, None], [None, sparse.csr_array((1, 1))]])
        theirs = dijkstra((extended + point).tocsr(), indices=n, limit=limit)[:n]
        assert np.isfinite(ours).sum() == np.isfinite(theirs).sum() > 0
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


def test_requests_in_parallel_threads_answer_as_one_at_a_time(
    db_session: Session, witten: Witten
) -> None:
    """Each search keeps its distances to itself: no answer borrows another's."""
    state = reach_state(db_session, version(db_session), SETTINGS)
    graph = graph_of(db_session, witten.network_id)
    rng = np.random.default_rng(7)
    edges = rng.choice(np.flatnonzero(graph.variant(False).usable_edge), 40, replace=False)
    points = [tuple(graph.geoms[e].interpolate(0.5, normalized=True).coords[0]) for e in edges]

    def answer(point: tuple[float, float], profile: str) -> list[tuple[int, float]]:
        walk = SETTINGS.profile(profile)
        snap = snap_xy(state, point[0], point[1], walk.steps, SETTINGS.max_snap_m)
        assert snap is not None
        ids, seconds = routed_seconds(state, snap, walk, 20 * 60)
        return sorted(zip(ids.tolist(), np.round(seconds, 6).tolist(), strict=True))

    jobs = [(p, profile) for p in points for profile in ("adult", "pram")]
    alone = [answer(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda job: answer(*job), jobs * 3))
    assert together == alone * 3
    assert any(alone)
