"""Reading the walkable network (and a few places) from an OpenStreetMap extract.

Which ways a person may walk:

* paths made for it: footway (incl. sidewalks and crossings), path, pedestrian, steps,
  living_street, track, corridor;
* ordinary streets: residential, service, unclassified, road;
* tertiary and larger roads (and their links) where they have a sidewalk. A road tagged
  ``sidewalk=no|none|separate`` or ``foot=use_sidepath`` is left out: either there is
  no sidewalk or the sidewalk is mapped as its own footway. Untagged main roads count
  as walkable, since in towns they nearly always have sidewalks;
* cycleways only where ``foot`` allows it.

Never: motorways and their links, ``foot=no``, ``access=no|private`` (unless ``foot``
explicitly allows walking), ways under construction or only proposed.

Ways are split at junctions (nodes shared by two ways, or used twice by one) and at their
ends; lengths are measured in EPSG:25832. ``oneway`` rules for vehicles do not bind
pedestrians, so the network is undirected.

A bounding box, or an area (a polygon, e.g. a district with a margin), keeps only the ways
with a node inside it (whole, so that paths do not end at its edge): a city or a district
out of a larger extract, without holding the rest's ways in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from tqdm import tqdm

from mapservice.models import METRIC_SRID, WGS84
from mapservice.validation import BBox

FOOT_PATHS = {"footway", "path", "pedestrian", "steps", "living_street", "track", "corridor"}
STREETS = {"residential", "service", "unclassified", "road"}
MAIN_ROADS = {
    "tertiary",
    "tertiary_link",
    "secondary",
    "secondary_link",
    "primary",
    "primary_link",
    "trunk",
    "trunk_link",
}
FOOT_ALLOWED = {"yes", "designated", "permissive", "official", "destination"}
SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
HAS_SIDEWALK = {"yes", "both", "left", "right"}

TO_METRIC = Transformer.from_crs(WGS84, METRIC_SRID, always_xy=True)


def walkable(tags: Mapping[str, str]) -> bool:
    """Whether a person may walk along a way with these tags."""
    highway = tags.get("highway")
    if highway is None:
        return False
    foot = tags.get("foot")
    if foot in ("no", "use_sidepath"):
        return False
    if tags.get("access") in ("no", "private") and foot not in FOOT_ALLOWED:
        return False
    if highway in FOOT_PATHS or highway in STREETS:
        return True
    if highway in MAIN_ROADS:
        if foot in FOOT_ALLOWED:
            return True
        sides = [tags.get(key) for key in SIDEWALK_KEYS]
        tagged = [value for value in sides if value is not None]
        # Untagged: assume a sidewalk. Tagged: walk here only where one is on the road.
        return not tagged or any(value in HAS_SIDEWALK for value in tagged)
    if highway == "cycleway":
        return foot in FOOT_ALLOWED
    return False


@dataclass
class Segment:
    """A piece of a way between two junctions."""

    source: int  # OSM node id
    target: int
    coords: np.ndarray  # (n, 2) metres, EPSG:25832
    osm_way_id: int
    highway: str
    steps: bool
    surface: str | None
    name: str | None


@dataclass
class RawNetwork:
    """Walkable ways as read from the file, split at junctions, in EPSG:25832."""

    node_xy: dict[int, tuple[float, float]] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)

    def lengths(self) -> np.ndarray:
        return np.array(
            [np.hypot(*np.diff(segment.coords, axis=0).T).sum() for segment in self.segments]
        )


@dataclass(frozen=True)
class _Way:
    id: int
    refs: tuple[int, ...]
    tags: dict[str, str]


def read_network(
    path: str | Path,
    *,
    within: BBox | BaseGeometry | None = None,
    progress: bool = False,
) -> RawNetwork:
    """Read the walkable ways of an ``.osm.pbf`` (or ``.osm``) extract.

    ``within``: keep only the ways with a node inside this box or area (WGS84).
    Raises ``ValueError`` when the file holds no walkable way (in the box or area).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such OSM file: {path}")
    area = within if isinstance(within, BaseGeometry) else None
    box = within if isinstance(within, BBox) else None
    if area is not None:
        # The box around the area filters cheaply while reading; the area itself after.
        west, south, east, north = (float(value) for value in area.bounds)
        box = BBox(west, south, east, north)
    ways: list[_Way] = []
    lonlat: dict[int, tuple[float, float]] = {}
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    bar = tqdm(desc="reading ways", unit=" ways", disable=not progress)
    for way in processor:
        assert isinstance(way, osmium.osm.Way)
        bar.update()
        # Located nodes only: a node may be missing from the extract (cut at its border).
        located = [(node.ref, node.location) for node in way.nodes if node.location.valid()]
        if box is not None and not any(
            box.contains(location.lon, location.lat) for _, location in located
        ):
            continue
        tags = {tag.k: tag.v for tag in way.tags}
        if not walkable(tags):
            continue
        refs = []
        for ref, location in located:
            lonlat[ref] = (location.lon, location.lat)
            refs.append(ref)
        # Drop immediate repeats (duplicate nodes) that would give zero-length pieces.
        refs = [ref for i, ref in enumerate(refs) if i == 0 or ref != refs[i - 1]]
        if len(refs) >= 2:
            ways.append(_Way(way.id, tuple(refs), tags))
    bar.close()
    if area is not None:
        ways = _ways_reaching(ways, lonlat, area)
    if not ways:
        where = "" if within is None else " inside the bounding box"
        raise ValueError(f"{path.name} holds no walkable way{where}")
    ids = np.fromiter(lonlat.keys(), dtype=np.int64, count=len(lonlat))
    coords = np.array(list(lonlat.values()), dtype=float)
    x, y = TO_METRIC.transform(coords[:, 0], coords[:, 1])
    node_xy = {int(i): (float(a), float(b)) for i, a, b in zip(ids, x, y, strict=True)}
    network = RawNetwork()
    for segment in _split(ways, node_xy, progress=progress):
        network.segments.append(segment)
    used = {s.source for s in network.segments} | {s.target for s in network.segments}
    network.node_xy = {node: node_xy[node] for node in used}
    return network


def _ways_reaching(
    ways: list[_Way], lonlat: dict[int, tuple[float, float]], area: BaseGeometry
) -> list[_Way]:
    """The ways with at least one node inside ``area`` (one vectorised test for all nodes)."""
    if not ways:
        return ways
    refs = np.fromiter((ref for way in ways for ref in way.refs), dtype=np.int64)
    coords = np.array([lonlat[int(ref)] for ref in refs], dtype=float)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, coords[:, 0], coords[:, 1])
    starts = np.cumsum([0] + [len(way.refs) for way in ways[:-1]])
    reaching = np.maximum.reduceat(inside, starts)
    return [way for way, keep in zip(ways, reaching, strict=True) if keep]


def _split(
    ways: list[_Way], node_xy: dict[int, tuple[float, float]], *, progress: bool
) -> Iterator[Segment]:
    uses: dict[int, int] = {}
    for way in ways:
        for ref in way.refs:
            uses[ref] = uses.get(ref, 0) + 1
        # Way ends always split, whatever else uses them.
        uses[way.refs[0]] = uses.get(way.refs[0], 0) + 2
        uses[way.refs[-1]] = uses.get(way.refs[-1], 0) + 2
    for way in tqdm(ways, desc="splitting", unit=" ways", disable=not progress):
        highway = way.tags["highway"]
        steps = highway == "steps"
        surface = way.tags.get("surface")
        name = way.tags.get("name")
        start = 0
        for i in range(1, len(way.refs)):
            if uses[way.refs[i]] >= 2 or i == len(way.refs) - 1:
                refs = way.refs[start : i + 1]
                yield Segment(
                    source=refs[0],
                    target=refs[-1],
                    coords=np.array([node_xy[ref] for ref in refs], dtype=float),
                    osm_way_id=way.id,
                    highway=highway,
                    steps=steps,
                    surface=surface[:40] if surface else None,
                    name=name[:200] if name else None,
                )
                start = i


@dataclass(frozen=True)
class Place:
    """A day-care centre or school tagged in an extract."""

    osm_type: str  # "node" or "way"
    osm_id: int
    lon: float
    lat: float
    tags: dict[str, str]

    @property
    def source_id(self) -> str:
        return f"{self.osm_type}/{self.osm_id}"


def read_places(path: str | Path, amenities: frozenset[str]) -> list[Place]:
    """Nodes and closed ways with ``amenity`` in ``amenities`` (ways at their centroid)."""
    places: list[Place] = []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.TagFilter(*(("amenity", value) for value in amenities)))
    )
    for obj in processor:
        tags = {tag.k: tag.v for tag in obj.tags}
        if isinstance(obj, osmium.osm.Node):
            places.append(Place("node", obj.id, obj.location.lon, obj.location.lat, tags))
        elif isinstance(obj, osmium.osm.Way):
            points = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
            if len(points) >= 4 and points[0] == points[-1]:
                centre = shapely.Polygon(points).centroid
            elif points:
                centre = shapely.MultiPoint(points).centroid
            else:
                continue
            places.append(Place("way", obj.id, centre.x, centre.y, tags))
    return places
