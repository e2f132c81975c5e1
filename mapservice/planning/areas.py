"""The areas a planner can pick (quarters, the city, sub-districts, walking networks' extents)
and their polygons in EPSG:25832; the city's sub-districts with their facts, kept per data
version (they feed the demand estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.planning.demand import (
    SubdistrictFacts,
    density_from_attributes,
    residential_share,
)
from mapservice.planning.loading import database_url
from mapservice.validation import ParameterError


@dataclass(frozen=True)
class AreaChoice:
    key: str
    name: str


def area_choices(session: Session) -> list[AreaChoice]:
    """The areas a planner can pick: quarters, the city, sub-districts, network extents."""
    rows = session.execute(
        text("SELECT kind, code, name FROM area ORDER BY kind = 'quarter' DESC, kind, code")
    ).all()
    choices = [
        AreaChoice(f"{'network' if kind == 'network_extent' else kind}:{code}", f"{name} ({code})")
        for kind, code, name in rows
    ]
    networks = session.execute(
        text("SELECT name FROM walk_network WHERE extent IS NOT NULL ORDER BY name")
    ).scalars()
    choices += [AreaChoice(f"network:{name}", f"Walking network {name}") for name in networks]
    if any(kind == "subdistrict" for kind, _c, _n in rows):
        choices.insert(
            sum(1 for kind, _c, _n in rows if kind == "quarter"),
            AreaChoice("city", "Whole city (all sub-districts)"),
        )
    return choices


def resolve_area(session: Session, key: str) -> tuple[str, str, BaseGeometry]:
    """(key, name, polygon in EPSG:25832) for ``quarter``, ``city`` or ``kind:code``."""
    if key == "city":
        row = session.execute(
            text(
                "SELECT 'Whole city', ST_AsBinary(ST_Transform(ST_Union(geom), 25832)) "
                "FROM area WHERE kind = 'subdistrict' HAVING count(*) > 0"
            )
        ).first()
    else:
        kind, _, code = key.partition(":")
        kind = {"network": "network_extent"}.get(kind, kind)
        if kind not in ("quarter", "subdistrict", "network_extent") or (
            kind != "quarter" and not code
        ):
            raise ParameterError(
                "area", "must be 'quarter', 'city', or kind:code (quarter, subdistrict, network)"
            )
        row = session.execute(
            text(
                "SELECT name, ST_AsBinary(ST_Transform(geom, 25832)) FROM area "
                "WHERE kind = :kind AND (:code = '' OR code = :code) ORDER BY id LIMIT 1"
            ),
            {"kind": kind, "code": code},
        ).first()
        if row is None and kind == "network_extent":
            # An imported walking network's own extent, by the network's name.
            row = session.execute(
                text(
                    "SELECT name, ST_AsBinary(ST_Transform(extent, 25832)) FROM walk_network "
                    "WHERE name = :code AND extent IS NOT NULL"
                ),
                {"code": code},
            ).first()
    if row is None:
        raise ParameterError("area", f"no area {key!r}")
    return key, str(row[0]), shapely.from_wkb(bytes(row[1]))


_SubdistrictRows = tuple[list[SubdistrictFacts], list[BaseGeometry], float, bool]
_subdistrict_cache: dict[tuple[str, str], _SubdistrictRows] = {}


def all_subdistricts(session: Session) -> _SubdistrictRows:
    """All sub-districts (by code) with their polygons in EPSG:25832; the residential share.

    Kept per database and version of the rows (their ids and transaction ids, which any
    insert, update or delete changes): reading and transforming the city's 170 detailed
    polygons costs more than the rest of the loading.
    """
    version = str(
        session.execute(
            text(
                "SELECT concat(count(*), ';', string_agg(id || ':' || xmin::text, ',' ORDER BY id))"
                " FROM area WHERE kind = 'subdistrict'"
            )
        ).scalar_one()
    )
    key = (database_url(session), version)
    found = _subdistrict_cache.get(key)
    if found is None:
        found = _read_subdistricts(session)
        if len(_subdistrict_cache) >= 8:
            _subdistrict_cache.clear()
        _subdistrict_cache[key] = found
    return found


def _read_subdistricts(session: Session) -> _SubdistrictRows:
    rows = session.execute(
        text(
            "SELECT code, name, share_children_0_6_pct, share_children_6_18_pct, attributes, "
            "ST_Area(ST_Transform(geom, 25832)) / 10000.0, "
            "ST_AsBinary(ST_Transform(geom, 25832)) "
            "FROM area WHERE kind = 'subdistrict' ORDER BY code"
        )
    ).all()
    facts = [
        SubdistrictFacts(
            code=code,
            name=name,
            share_0_6_pct=young,
            share_6_18_pct=school,
            density_per_ha=density_from_attributes(attributes or {}),
            area_ha=float(area_ha),
        )
        for code, name, young, school, attributes, area_ha, _wkb in rows
    ]
    k, calibrated = residential_share(facts)
    polygons = list(shapely.from_wkb([bytes(row[6]) for row in rows])) if rows else []
    shapely.prepare(polygons)  # once, before the threads of the server share them
    return facts, polygons, k, calibrated
