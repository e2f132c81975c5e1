"""Address search benchmark: prints figures, not a test. Run it standalone on a loaded
database (the default data: Dortmund around Innenstadt-Nord, Witten-Stockum):

    MAPSERVICE_DATABASE_URL=postgresql+psycopg://… .venv/bin/python bench/geocode.py [--rounds 20]

Without ``MAPSERVICE_DATABASE_URL`` it uses the private cluster's ``mapservice`` database
(what ``./dev run`` loads); an empty database gets the bundled data first (a few minutes).
``./dev bench geocode`` runs it. It times :func:`mapservice.geocode.lookup` (what
``/api/geocode`` and the family page call: fold the query, read the candidates through the
indexes, classify) for typical inputs, p50 and p95 over all rounds, and, in turn with it in
the same process and connection, the street-name part of the search as it was before
revision 0009 (``SELECT DISTINCT ON (name) … FROM walk_edge`` scored by strict word
similarity over every named edge), so that the ratio holds on a loaded machine too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mapservice.config import Defaults
from mapservice.db import make_engine, migrate, resolve_database_url
from mapservice.geocode import lookup
from mapservice.importers.default_data import load_default_data_if_empty
from mapservice.models import WalkEdge, WalkStreet

QUERIES = (
    "Missundestraße",
    "Misundestrase",
    "Schleswiger Str 5",
    "Dürener Straße 5",
    "Mittelstraße",
    "Hoerder Strase 340",
    "Missu",
    "Nordmarkt",
    "Qwxzyvstraße 999",
)

# The street part of the search before revision 0009, for comparison.
OLD_STREETS_SQL = text(
    """
    WITH q AS (SELECT mapservice_fold(:q) AS f),
    candidates AS (
        SELECT DISTINCT ON (e.name) e.name AS label, mapservice_fold(e.name) AS f,
               ST_Transform(ST_LineInterpolatePoint(e.geom, 0.5), 4326) AS geom
        FROM walk_edge e WHERE e.name IS NOT NULL
    )
    SELECT label, strict_word_similarity(q.f, c.f) AS score
    FROM candidates c, q
    WHERE strict_word_similarity(q.f, c.f) >= 0.45
    ORDER BY score DESC LIMIT 32
    """
)


def _ms(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url = resolve_database_url(os.environ.get("MAPSERVICE_DATABASE_URL"), Defaults.DATABASE_NAME)
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        data_dir = os.environ.get("MAPSERVICE_DATA_DIR", Defaults.DATA_DIR)
        loaded = load_default_data_if_empty(session, str(data_dir))
        if loaded:
            print(loaded)
    new: list[float] = []
    old: list[float] = []
    with Session(engine) as session:
        edges = session.scalar(select(func.count()).select_from(WalkEdge))
        streets = session.scalar(select(func.count()).select_from(WalkStreet))
        print(f"walk_edge rows: {edges}, walk_street rows: {streets}")
        for query in QUERIES:  # warm up: dictionaries, prepared statements
            lookup(session, query)
            session.execute(OLD_STREETS_SQL, {"q": query}).all()
        per_query: dict[str, list[float]] = {query: [] for query in QUERIES}
        for _ in range(args.rounds):
            for query in QUERIES:
                started = time.perf_counter()
                lookup(session, query)
                elapsed = time.perf_counter() - started
                new.append(elapsed)
                per_query[query].append(elapsed)
                started = time.perf_counter()
                session.execute(OLD_STREETS_SQL, {"q": query}).all()
                old.append(time.perf_counter() - started)
    for query, samples in per_query.items():
        print(f"  {query!r:24} p50 {_ms(samples, 0.5):6.1f} ms")
    print(
        f"lookup (whole search): p50 {_ms(new, 0.5):.1f} ms, p95 {_ms(new, 0.95):.1f} ms "
        f"over {len(new)} calls"
    )
    print(
        f"old street part alone (DISTINCT ON walk_edge): p50 {_ms(old, 0.5):.1f} ms, "
        f"p95 {_ms(old, 0.95):.1f} ms"
    )
    print(f"ratio old street part / new whole search (p50): {_ms(old, 0.5) / _ms(new, 0.5):.1f}x")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"median of medians: {statistics.median(_ms(s, 0.5) for s in per_query.values()):.1f} ms")


if __name__ == "__main__":
    main()
