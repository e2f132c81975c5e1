"""Offline address search for the family map. Free of Flask.

Nothing leaves the server: a typed street, house number or place name is matched against
what the database already holds,

* the sites (name, street and house number) from the city's open data and the catalogue,
* the quarter and the statistical sub-districts (by name),
* named paths of an imported walking network (``walk_edge.name``),
* house addresses (``addr:*``) from OpenStreetMap extracts (:class:`AddressPoint`, filled by
  :func:`load_address_points`).

Matching uses pg_trgm on text folded by the SQL function ``mapservice_fold`` (revision 0006):
lower case, ß -> ss, umlauts and accents dropped, "ae"/"oe"/"ue" folded like the umlauts,
"str." spelled out. So "Brunenstrasse 12", "Münsterstr" and "Munsterstraße" all find their
street, and a family that types without German letters is not lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import osmium
from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session

from mapservice.models import AddressPoint

# Below this the match is more likely noise than a typo.
MIN_SCORE = 0.45
MAX_QUERY_LENGTH = 120
MIN_QUERY_LENGTH = 3
# A hit whose house number equals the typed one ranks above the bare street.
HOUSE_NUMBER_BONUS = 0.25
OSM_DATASET_PREFIX = "osm-addr:"

_NUMBER = re.compile(r"\b(\d+\s?[a-zA-Z]?)\b")


@dataclass(frozen=True)
class Place:
    """One search hit: what to show, where it is, and what kind of thing it is."""

    label: str
    lat: float
    lon: float
    kind: str  # "site" | "address" | "street" | "area"
    score: float

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "kind": self.kind,
        }


# Every candidate source yields (label, folded text, point, kind, house number); the score
# is pg_trgm's strict word similarity of the folded query within the folded text; a hit must
# reach MIN_SCORE on the text alone, the house number only ranks hits that did.
_SEARCH_SQL = text(
    """
    WITH q AS (SELECT mapservice_fold(:q) AS f),
    candidates AS (
        SELECT s.name || CASE WHEN s.street IS NOT NULL AND s.street <> s.name
                              THEN ', ' || concat_ws(' ', s.street, s.house_number) ELSE '' END
                   AS label,
               mapservice_fold(concat_ws(' ', s.name, s.street, s.house_number)) AS f,
               s.geom, 'site' AS kind, s.house_number
        FROM site s
        UNION ALL
        SELECT concat_ws(' ', s.street, s.house_number)
                   || CASE WHEN s.postcode IS NOT NULL THEN ', ' || s.postcode ELSE '' END,
               mapservice_fold(concat_ws(' ', s.street, s.house_number)),
               s.geom, 'address', s.house_number
        FROM site s WHERE s.street IS NOT NULL AND s.house_number IS NOT NULL
        UNION ALL
        SELECT concat_ws(' ', a.street, a.house_number)
                   || CASE WHEN a.city IS NOT NULL THEN ', ' || a.city ELSE '' END,
               mapservice_fold(a.street || ' ' || coalesce(a.house_number, '')),
               a.geom, 'address', a.house_number
        FROM address_point a
        UNION ALL
        SELECT ar.name, mapservice_fold(ar.name), ST_PointOnSurface(ar.geom), 'area', NULL
        FROM area ar WHERE ar.kind IN ('quarter', 'subdistrict')
        UNION ALL
        SELECT DISTINCT ON (e.name) e.name, mapservice_fold(e.name),
               ST_Transform(ST_LineInterpolatePoint(e.geom, 0.5), 4326), 'street', NULL
        FROM walk_edge e WHERE e.name IS NOT NULL
    ),
    scored AS (
        SELECT c.label, c.kind, c.geom, c.house_number, strict_word_similarity(q.f, c.f) AS text
        FROM candidates c, q
        WHERE q.f <> ''
    )
    SELECT label, kind, ST_Y(geom) AS lat, ST_X(geom) AS lon,
           text + CASE WHEN :number <> '' AND lower(replace(house_number, ' ', '')) = :number
                       THEN :bonus ELSE 0 END AS score
    FROM scored
    WHERE text >= :min_score
    ORDER BY score DESC, length(label), label, lat, lon
    LIMIT :fetch
    """
)


def search(session: Session, query: str, limit: int = 8) -> list[Place]:
    """Places matching ``query`` best first (at most ``limit``, one per label).

    A query shorter than three letters finds nothing; a very long one is cut (it is a search box).
    NUL characters are dropped: PostgreSQL text cannot hold them (they were a 500).
    """
    query = " ".join(query.replace("\x00", " ").split())[:MAX_QUERY_LENGTH]
    if len(query) < MIN_QUERY_LENGTH:
        return []
    number = _NUMBER.search(query)
    rows = session.execute(
        _SEARCH_SQL,
        {
            "q": query,
            "number": number.group(1).replace(" ", "").lower() if number else "",
            "bonus": HOUSE_NUMBER_BONUS,
            "min_score": MIN_SCORE,
            "fetch": limit * 4,
        },
    )
    places: list[Place] = []
    seen: set[str] = set()
    for label, kind, lat, lon, score in rows:
        if label in seen:
            continue
        seen.add(label)
        places.append(Place(label, float(lat), float(lon), kind, float(score)))
        if len(places) == limit:
            break
    return places


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
    handler.apply_file(str(pbf), locations=True)
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
