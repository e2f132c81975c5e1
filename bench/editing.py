"""What revisions cost an import: the open data and the catalogue loaded into an empty
database with revisions (as always) and, as the peer in the same process, with the revision
INSERT switched off. Printed as figures.

Run from the project root (the private cluster, or MAPSERVICE_DATABASE_URL):

    .venv/bin/python bench/editing.py [--rounds 5]

Each round imports into a fresh transaction that is rolled back, alternating the two
variants, so both see the same database state and caches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.config import Defaults
from mapservice.db import make_engine, migrate
from mapservice.editing import revisions
from mapservice.importers.catalogue import DEFAULT_CATALOGUE, import_catalogue
from mapservice.importers.opendata import import_opendata
from mapservice.models import Revision
from mapservice.pgcluster import local_cluster


def _import(session: Session, data_dir: Path) -> int:
    import_opendata(session, data_dir)
    import_catalogue(session, DEFAULT_CATALOGUE)
    return session.scalar(select(func.count()).select_from(Revision)) or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("MAPSERVICE_DATABASE_URL")
    if not url:
        cluster = local_cluster()
        cluster.start()
        url = cluster.ensure_database("mapservice_bench_editing", recreate=True)
    engine = make_engine(url)
    migrate(engine)
    data_dir = Path(os.environ.get("MAPSERVICE_DATA_DIR", Defaults.DATA_DIR))
    original_write = revisions.ChangeTracker.write
    times: dict[str, list[float]] = {"with revisions": [], "without (peer)": []}
    written = 0
    for _ in range(args.rounds):
        for variant in times:
            if variant.startswith("without"):
                revisions.ChangeTracker.write = lambda self, session, author: 0  # type: ignore[method-assign]
            else:
                revisions.ChangeTracker.write = original_write  # type: ignore[method-assign]
            with engine.connect() as connection:
                transaction = connection.begin()
                session = Session(bind=connection)
                start = time.perf_counter()
                count = _import(session, data_dir)
                times[variant].append(time.perf_counter() - start)
                if variant == "with revisions":
                    written = count
                session.close()
                transaction.rollback()
    revisions.ChangeTracker.write = original_write  # type: ignore[method-assign]
    print(f"open data + catalogue into an empty database, {args.rounds} rounds each:")
    for variant, values in times.items():
        print(f"  {variant:16} median {statistics.median(values) * 1000:7.0f} ms")
    ratio = statistics.median(times["with revisions"]) / statistics.median(times["without (peer)"])
    print(f"  revisions written per load: {written}; time ratio with/without: {ratio:.2f}")
    engine.dispose()


if __name__ == "__main__":
    main()
