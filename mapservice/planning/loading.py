"""Reading an area's inputs from the database: the active offers and their sites near it,
the walking networks that reach it, and the data version that the caches of
:mod:`mapservice.planning.build` are keyed by.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.planning.coverage import Supply
from mapservice.planning.grid import Grid, first_containing
from mapservice.planning.network_index import NetworkIndex, index_network
from mapservice.planning.routing import Pairs
from mapservice.walking.graph import get_graph

_FINGERPRINT_SQL = text(
    """
    SELECT md5(concat_ws('|',
      (SELECT string_agg(concat_ws(',', o.id, o.status, o.category, o.age_min_months,
                                   o.age_max_months, o.capacity, o.site_id,
                                   md5(ST_AsBinary(o.service_area))), ';' ORDER BY o.id)
         FROM offer o),
      (SELECT string_agg(concat_ws(',', s.id, ST_AsText(s.geom)), ';' ORDER BY s.id)
         FROM site s),
      (SELECT concat_ws(',', count(*), max(id), sum(age_0_2 + age_2_4 + age_4_6 + age_6_10))
         FROM planning_census_cell),
      (SELECT string_agg(concat_ws(',', id, imported_at), ';' ORDER BY id) FROM walk_network),
      (SELECT string_agg(concat_ws(',', id, md5(ST_AsBinary(geom)),
                                   share_children_0_6_pct, share_children_6_18_pct,
                                   md5(attributes::text)), ';' ORDER BY id) FROM area)
    ))
    """
)


def data_fingerprint(session: Session) -> str:
    return str(session.execute(_FINGERPRINT_SQL).scalar_one())


def database_url(session: Session) -> str:
    """The session's database: part of every cache key (one process may serve several)."""
    bind: object = session.get_bind()
    return str(getattr(getattr(bind, "engine", bind), "url", ""))


def _near(parts: list[BaseGeometry], geoms: np.ndarray, radius: float) -> np.ndarray:
    """Bool per geometry: within ``radius`` metres of one of the area's parts (0: touching)."""
    found = np.zeros(len(geoms), dtype=bool)
    if not len(geoms) or not parts:
        return found
    if radius > 0:
        # Points inside a part are near at once (a cheap test); only the others measure
        # their distance to the detailed borders.
        points = np.flatnonzero(shapely.get_type_id(geoms) == 0)
        inside = first_containing(parts, shapely.get_x(geoms[points]), shapely.get_y(geoms[points]))
        found[points[inside >= 0]] = True
        rest = np.flatnonzero(~found)
        if len(rest):
            tree = shapely.STRtree(geoms[rest])
            _part, hits = tree.query(
                np.asarray(parts, dtype=object), predicate="dwithin", distance=radius
            )
            found[rest[hits]] = True
        return found
    tree = shapely.STRtree(geoms)
    _part, hits = tree.query(np.asarray(parts, dtype=object), predicate="intersects")
    found[hits] = True
    return found


def nearby_networks(
    session: Session, parts: list[BaseGeometry], radius: float, steps: bool
) -> list[NetworkIndex]:
    """The networks that come within ``radius`` of the area: by their extent (the convex
    hull of their junctions) where known, else by their edges."""
    rows = session.execute(
        text(
            "SELECT n.id, n.imported_at, ST_AsBinary(ST_Transform(n.extent, 25832)) "
            "FROM walk_network n ORDER BY n.id"
        )
    ).all()
    chosen = []
    for network_id, version, extent in rows:
        if extent is not None:
            near = bool(_near(parts, np.array([shapely.from_wkb(bytes(extent))]), radius)[0])
        else:  # not finished by an import (e.g. written by hand): ask the edges
            near = any(
                session.execute(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM walk_edge e WHERE e.network_id = :id"
                        " AND ST_DWithin(e.geom, ST_GeomFromWKB(:area, 25832), :radius))"
                    ),
                    {"id": network_id, "area": shapely.to_wkb(part), "radius": radius},
                ).scalar_one()
                for part in parts
            )
        if near:
            chosen.append((network_id, version))
    return [_network_index(session, network_id, version, steps) for network_id, version in chosen]


_index_cache: dict[tuple[int, bool], tuple[object, NetworkIndex]] = {}


def _network_index(session: Session, network_id: int, version: object, steps: bool) -> NetworkIndex:
    graph = get_graph(session, network_id, version)  # type: ignore[arg-type]
    cached = _index_cache.get((id(graph), steps))
    if cached is not None and cached[0] is graph:
        return cached[1]
    index = index_network(graph, steps)
    _index_cache[(id(graph), steps)] = (graph, index)
    return index


def nearby_offers(
    session: Session, parts: list[BaseGeometry], radius: float
) -> tuple[np.ndarray, np.ndarray, Supply, dict[int, str], list[tuple[int, BaseGeometry]]]:
    """Locations (sites within ``radius`` of the area) and the active offers at them;
    service-area offers whose area meets it. All active offers are read (a city's few
    thousand rows) and chosen here, against the area's parts, without a union in SQL."""
    everything = session.execute(
        text(
            "SELECT o.id, o.title, o.category, o.age_min_months, o.age_max_months, o.capacity,"
            " s.id, ST_X(ST_Transform(s.geom, 25832)), ST_Y(ST_Transform(s.geom, 25832)),"
            " CASE WHEN o.site_id IS NULL THEN ST_AsBinary(ST_Transform(o.service_area, 25832))"
            " END"
            " FROM offer o LEFT JOIN site s ON s.id = o.site_id"
            " WHERE o.status = 'active' AND (s.id IS NOT NULL"
            "  OR (o.site_id IS NULL AND o.service_area IS NOT NULL))"
            " ORDER BY o.id"
        )
    ).all()
    at_site = np.array([row[6] is not None for row in everything], dtype=bool)
    points = np.asarray(
        shapely.points(
            np.array([row[7] if row[6] is not None else 0.0 for row in everything], dtype=float),
            np.array([row[8] if row[6] is not None else 0.0 for row in everything], dtype=float),
        )
    )
    areas = np.array(
        [None if row[6] is not None else shapely.from_wkb(bytes(row[9])) for row in everything],
        dtype=object,
    )
    keep = np.zeros(len(everything), dtype=bool)
    keep[at_site] = _near(parts, points[at_site], radius)
    keep[~at_site] = _near(parts, areas[~at_site], 0.0)
    rows = [row for row, chosen in zip(everything, keep.tolist(), strict=True) if chosen]
    site_pos: dict[int, int] = {}
    xs: list[float] = []
    ys: list[float] = []
    loc: list[int] = []
    service_areas: list[tuple[int, BaseGeometry]] = []
    titles: dict[int, str] = {}
    for offer_id, title, _c, _a, _b, _cap, site_id, x, y, service_wkb in rows:
        titles[offer_id] = title
        if site_id is not None:
            if site_id not in site_pos:
                site_pos[site_id] = len(xs)
                xs.append(x)
                ys.append(y)
            loc.append(site_pos[site_id])
        else:
            loc.append(-1)  # filled below: service-area offers come after the sites
            service_areas.append((offer_id, shapely.from_wkb(bytes(service_wkb))))
    n_sites = len(xs)
    loc_arr = np.array(loc, dtype=np.int64)
    loc_arr[loc_arr < 0] = n_sites + np.arange(int((loc_arr < 0).sum()))
    supply = Supply(
        loc=loc_arr,
        category=np.array([row[2] for row in rows], dtype=object),
        age_min=np.array([row[3] for row in rows], dtype=np.int64),
        age_max=np.array([row[4] for row in rows], dtype=np.int64),
        capacity=np.array([np.nan if row[5] is None else row[5] for row in rows], dtype=float),
        offer_id=np.array([row[0] for row in rows], dtype=np.int64),
    )
    return np.array(xs, dtype=float), np.array(ys, dtype=float), supply, titles, service_areas


def service_area_pairs(
    grid: Grid, first_loc: int, service_areas: list[tuple[int, BaseGeometry]]
) -> Pairs:
    """Offers that come to the family: cells inside their service area are reached at once."""
    parts = []
    for position, (_offer, polygon) in enumerate(service_areas):
        inside = np.flatnonzero(shapely.contains_xy(polygon, grid.x, grid.y))
        parts.append(
            Pairs(
                np.full(len(inside), first_loc + position, dtype=np.int64),
                inside.astype(np.int64),
                np.zeros(len(inside)),
                np.zeros(len(inside), dtype=bool),
            )
        )
    return Pairs.concat(parts)
