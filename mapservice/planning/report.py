"""Tables, exports and the chart of a coverage result. Free of Flask.

Exports: GeoJSON (WGS84 cell polygons), CSV (cell centres in both CRSs) and GeoPackage (cell
polygons in EPSG:25832, written with pyogrio/GDAL via geopandas); the chart with matplotlib.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapservice.planning.coverage import PLANNING_PHASES, gap_cells
from mapservice.planning.results import PlanningResult
from mapservice.taxonomy import categories, phases

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _share(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def indicator_rows(result: PlanningResult) -> list[dict[str, Any]]:
    """Per (phase, category): children, share within 5/10/15 min, share estimated."""
    shares = result.shares()
    rows = []
    for index, (phase, category) in enumerate(result.coverage.combos):
        children = result.demand[PLANNING_PHASES.index(phase)]
        estimated = result.cell_estimated(index)
        total = float(children.sum())
        rows.append(
            {
                "phase": phase,
                "category": category,
                "category_label": categories()[category].label_de,
                "children": round(total, 1),
                "offers": int(result.supply.fits(phase, category).sum()),
                "thresholds_min": list(result.coverage.thresholds),
                "shares": [_share(v) for v in shares[index]],
                "estimated_share": float(children[estimated].sum() / total) if total else 0.0,
            }
        )
    return rows


def subdistrict_rows(
    result: PlanningResult, phase: str, category: str, catchment_min: int = 15
) -> list[dict[str, Any]]:
    """Per sub-district of the area: children of the phase, shares within, 2SFCA."""
    index = result.coverage.combo_index(phase, category)
    shares = result.shares_by_subdistrict()[index]  # (thresholds, groups)
    base = result.base
    fca = result.supply_demand(category, catchment_min)
    fca_groups = fca.weighted_mean(base.cell_group, len(base.subdistricts))
    children = result.demand[PLANNING_PHASES.index(phase)]
    valid = base.cell_group >= 0
    per_group = np.bincount(
        base.cell_group[valid], weights=children[valid], minlength=len(base.subdistricts)
    )
    cells = np.bincount(base.cell_group[valid], minlength=len(base.subdistricts))
    rows = []
    for g, sub in enumerate(base.subdistricts):
        if not cells[g]:
            continue
        rows.append(
            {
                "code": sub.code,
                "name": sub.name,
                "cells": int(cells[g]),
                "children": round(float(per_group[g]), 1),
                "shares": [_share(v) for v in shares[:, g]],
                "places_per_child": (
                    _share(float(fca_groups[g])) if fca.offers_with_capacity else None
                ),
            }
        )
    return rows


def gap_rows(
    session: Session | None,
    result: PlanningResult,
    phase: str,
    category: str,
    minutes: float,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The cells with most children of ``phase`` and no fitting offer within ``minutes``."""
    gaps = gap_cells(result.coverage, result.demand, phase, category, minutes, limit)
    if not gaps:
        return []
    grid = result.grid
    cells = np.array([gap.cell for gap in gaps])
    lon, lat = grid.lonlat()
    ids = grid.ids
    index = result.coverage.combo_index(phase, category)
    estimated = result.cell_estimated(index)
    streets = nearest_streets(session, grid.x[cells], grid.y[cells]) if session else {}
    subs = result.base.subdistricts
    rows = []
    for rank, gap in enumerate(gaps, start=1):
        group = int(result.base.cell_group[gap.cell])
        rows.append(
            {
                "rank": rank,
                "cell_id": ids[gap.cell],
                "lat": round(float(lat[gap.cell]), 6),
                "lon": round(float(lon[gap.cell]), 6),
                "children": round(gap.children, 2),
                # Rounded up, as walking minutes are everywhere: a gap beyond 5 minutes must
                # not read "5.0".
                "minutes_to_nearest": (
                    None if gap.minutes is None else math.ceil(gap.minutes * 10) / 10
                ),
                "subdistrict": subs[group].name if group >= 0 else None,
                "street": streets.get(rank - 1),
                "estimated": bool(estimated[gap.cell]),
            }
        )
    return rows


def nearest_streets(session: Session, x: np.ndarray, y: np.ndarray) -> dict[int, str]:
    """Name of the nearest named walkable way within 150 m of each point, where there is one."""
    if not len(x):
        return {}
    rows = session.execute(
        text(
            "SELECT p.i, e.name FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]))"
            " WITH ORDINALITY AS p(x, y, i)"
            " CROSS JOIN LATERAL (SELECT name FROM walk_edge"
            "   WHERE name IS NOT NULL"
            "   AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 25832), 150)"
            "   ORDER BY geom <-> ST_SetSRID(ST_MakePoint(p.x, p.y), 25832) LIMIT 1) e"
        ),
        {"xs": [float(v) for v in x], "ys": [float(v) for v in y]},
    ).all()
    return {int(i) - 1: str(name) for i, name in rows}


# --- the grid as a table -------------------------------------------------------------------


def combo_column(phase: str, category: str) -> str:
    return f"p{phase.replace('-', '_')}_{category}"


def cell_frame(result: PlanningResult, combos: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per cell: id, position, sub-district, children, and per combination the minutes
    to the nearest offer, offers within 5/10/15 min and whether the value is estimated."""
    grid = result.grid
    lon, lat = grid.lonlat()
    subs = result.base.subdistricts
    group = result.base.cell_group
    data: dict[str, Any] = {
        "cell_id": grid.ids,
        "e_25832": grid.e,
        "n_25832": grid.n,
        "lon": np.round(lon, 6),
        "lat": np.round(lat, 6),
        "subdistrict": [subs[g].code if g >= 0 else None for g in group.tolist()],
        "off_network": result.base.estimated_cells,
    }
    for p, phase in enumerate(PLANNING_PHASES):
        data[f"children_{phase.replace('-', '_')}"] = np.round(result.demand[p], 3)
    wanted = combos or result.coverage.combos
    for phase, category in wanted:
        index = result.coverage.combo_index(phase, category)
        column = combo_column(phase, category)
        data[f"{column}_min"] = np.round(result.coverage.minutes[index], 2)
        for t, limit in enumerate(result.coverage.thresholds):
            data[f"{column}_n{limit}"] = result.coverage.counts[index, t]
        data[f"{column}_est"] = result.cell_estimated(index)
    return pd.DataFrame(data)


def export_csv(result: PlanningResult, combos: list[tuple[str, str]] | None = None) -> str:
    frame = cell_frame(result, combos)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, na_rep="")
    return buffer.getvalue()


def export_geojson(
    result: PlanningResult, combos: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    frame = cell_frame(result, combos)
    geometries = result.grid.polygons_wgs84()
    records = frame.replace({np.nan: None}).to_dict(orient="records")
    features = [
        {
            "type": "Feature",
            "id": record["cell_id"],
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[round(x, 7), round(y, 7)] for x, y in poly.exterior.coords]],
            },
            "properties": {key: _plain(value) for key, value in record.items()},
        }
        for record, poly in zip(records, geometries, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def export_gpkg(result: PlanningResult, combos: list[tuple[str, str]] | None = None) -> bytes:
    """A GeoPackage with one polygon layer ``coverage`` in EPSG:25832."""
    frame = cell_frame(result, combos)
    layer = gpd.GeoDataFrame(frame, geometry=result.grid.polygons_metric(), crs="EPSG:25832")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coverage.gpkg"
        layer.to_file(path, layer="coverage", driver="GPKG", engine="pyogrio")
        return path.read_bytes()


# --- the chart -----------------------------------------------------------------------------


def coverage_chart_svg(result: PlanningResult, minutes: int) -> str:
    """Grouped bars: share of children within ``minutes`` per phase (groups) and category."""
    t = result.coverage.threshold_index(minutes)
    shares = result.shares()
    combos = result.coverage.combos
    keys = [key for key in categories() if any(c == key for _p, c in combos)]
    width = 0.8 / max(len(keys), 1)
    colours = plt.get_cmap("tab20")
    figure, axes = plt.subplots(figsize=(9, 4.2), dpi=100)
    for k, key in enumerate(keys):
        xs, ys = [], []
        for p, phase in enumerate(PLANNING_PHASES):
            if (phase, key) in combos:
                value = shares[combos.index((phase, key)), t]
                xs.append(p - 0.4 + width * (k + 0.5))
                ys.append(0.0 if math.isnan(value) else value * 100)
        axes.bar(xs, ys, width=width, label=categories()[key].label_de, color=colours(k % 20))
    axes.set_xticks(range(len(PLANNING_PHASES)))
    axes.set_xticklabels([phases()[p].label_de for p in PLANNING_PHASES])
    axes.set_ylim(0, 100)
    axes.set_ylabel(f"Kinder mit Angebot ≤ {minutes} min (%)")
    axes.set_title(f"Abdeckung: {result.base.area_name}", fontsize=10)
    axes.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    return buffer.getvalue()
