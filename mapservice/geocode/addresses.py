"""House addresses (``addr:*``) from OpenStreetMap extracts, for the offline address search.

Sites, areas and the streets of a walking network are searched where they are; this table
(:class:`AddressPoint`) holds only what no other table has: addresses of ordinary houses.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import osmium
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from mapservice.models import AddressPoint

OSM_DATASET_PREFIX = "osm-addr:"


class _AddressHandler(osmium.SimpleHandler):
    """Collects nodes and ways that carry ``addr:street`` and ``addr:housenumber``."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, object]] = []

    def _add(
        self, kind: str, osm_id: int, tags: osmium.osm.TagList, lon: float, lat: float
    ) -> None:
        self.rows.append(
            {
                "street": (tags.get("addr:street") or "")[:200],
                "house_number": (tags.get("addr:housenumber") or "")[:20],
                "postcode": (tags.get("addr:postcode") or None),
                "city": (tags.get("addr:city") or None),
                "geom": f"SRID=4326;POINT({lon:.7f} {lat:.7f})",
                "source_id": f"{kind}/{osm_id}",
            }
        )

    def node(self, n: osmium.osm.Node) -> None:
        if "addr:street" in n.tags and "addr:housenumber" in n.tags and n.location.valid():
            self._add("node", n.id, n.tags, n.location.lon, n.location.lat)

    def way(self, w: osmium.osm.Way) -> None:
        if "addr:street" not in w.tags or "addr:housenumber" not in w.tags:
            return
        # The mean of the outline's nodes: inside an ordinary building, good enough to
        # start a walk from.
        points = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
        if points:
            lon = sum(p[0] for p in points) / len(points)
            lat = sum(p[1] for p in points) / len(points)
            self._add("way", w.id, w.tags, lon, lat)


def import_address_points(session: Session, pbf: Path) -> int:
    """Replace the address points of one OSM extract with those it holds now; return how many."""
    handler = _AddressHandler()
    # Only objects with a house number reach the Python handler (the filter runs in C++;
    # node locations are still indexed for the ways): an extract without addresses, like the
    # reconstructed Dortmund network, is read in a tenth of the time.
    handler.apply_file(
        str(pbf), locations=True, filters=[osmium.filter.KeyFilter("addr:housenumber")]
    )
    dataset = OSM_DATASET_PREFIX + pbf.name
    session.execute(delete(AddressPoint).where(AddressPoint.source_dataset == dataset))
    rows = _unique(handler.rows)
    if rows:
        session.execute(insert(AddressPoint), [row | {"source_dataset": dataset} for row in rows])
    return len(rows)


def _unique(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    by_id: dict[object, dict[str, object]] = {}
    for row in rows:
        by_id[row["source_id"]] = row
    return list(by_id.values())


def load_address_points(session: Session, data_dir: str | Path) -> int:
    """Address points from every OSM extract in ``<data_dir>/osm`` (for the default load)."""
    total = 0
    for pbf in sorted(Path(data_dir, "osm").glob("*.pbf")):
        total += import_address_points(session, pbf)
    return total
