"""Shared fixtures and helpers of the walking tests (imported by tests/test_walking_*.py).

The Witten-Stockum network comes with the default data that the session fixture in
conftest.py loads and commits once; the ``witten`` fixture names it.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from mapservice.importers.default_network import DEFAULT_NETWORK
from mapservice.models import WalkNetwork
from mapservice.walking.graph import WalkGraph, load_graph


@dataclass(frozen=True)
class Witten:
    network_id: int


@pytest.fixture(scope="session", name="witten")
def witten_fixture(engine: Engine) -> Witten:
    """The Witten-Stockum network, which the session's default-data load has imported
    (with walking times for every site)."""
    with Session(engine) as session:
        network_id = session.scalar(
            select(WalkNetwork.id).where(WalkNetwork.name == DEFAULT_NETWORK)
        )
    assert network_id is not None, "the default data load imports Witten-Stockum"
    return Witten(network_id)


def graph_of(session: Session, network_id: int) -> WalkGraph:
    return load_graph(session, network_id)


def networkx_graph(session: Session, network_id: int, *, steps: bool) -> nx.Graph:
    """An independent graph straight from the stored edges (parallel edges: the shortest)."""
    graph = nx.Graph()
    rows = session.execute(
        text(
            "SELECT source, target, length_m FROM walk_edge "
            "WHERE network_id = :id AND (:steps OR NOT steps)"
        ),
        {"id": network_id, "steps": steps},
    ).tuples()
    for source, target, length in rows:
        if source == target:
            continue
        if graph.has_edge(source, target):
            length = min(length, graph[source][target]["weight"])
        graph.add_edge(source, target, weight=length)
    return graph


def point_on_edge(session: Session, edge_id: int, fraction: float) -> tuple[float, float]:
    """(lat, lon) of the point ``fraction`` along an edge."""
    lon, lat = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
            "ST_LineInterpolatePoint(geom, :f), 4326) AS p FROM walk_edge WHERE id = :id) q"
        ),
        {"id": edge_id, "f": fraction},
    ).one()
    return float(lat), float(lon)


def usable_edges(graph: WalkGraph, steps: bool) -> np.ndarray:
    """Edge ids a route may start on (no fragment, allowed for the step rule)."""
    return graph.edge_ids[graph.variant(steps).usable_edge]
