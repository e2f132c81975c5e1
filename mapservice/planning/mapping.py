"""The planners' choropleth: folium on the service's own Leaflet (see :mod:`mapservice.mapview`).

Layers (with a layer control): minutes to the nearest fitting offer, children per cell, the
gaps, and with a scenario the change of minutes and the scenario's points. Estimated cells are
drawn with a dashed outline. Cell tooltips carry only numbers and escaped names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
from markupsafe import Markup, escape

from mapservice.mapview import DataCredits, EscapedTooltip, LocalLeafletMap, MapSettings
from mapservice.planning.coverage import PLANNING_PHASES
from mapservice.planning.results import PlanningResult
from mapservice.planning.whatif import Delta

# Colour-blind safe sequential bins (viridis, dark = far).
MINUTE_BINS: list[tuple[float, str, str]] = [
    (5, "#fde725", "≤ 5 min"),
    (10, "#7ad151", "5–10 min"),
    (15, "#22a884", "10–15 min"),
    (20, "#2a788e", "15–20 min"),
    (30, "#414487", "20–30 min"),
    (float("inf"), "#440154", "more than 30 min / none"),
]
CHILD_BINS: list[tuple[float, str, str]] = [
    (0.5, "#f7f7f7", "< 0.5"),
    (1, "#fdd49e", "0.5–1"),
    (2, "#fc8d59", "1–2"),
    (4, "#d7301f", "2–4"),
    (float("inf"), "#7f0000", "4 and more"),
]
DELTA_BINS: list[tuple[float, str, str]] = [
    (-10, "#01665e", "10+ min closer"),
    (-5, "#35978f", "5–10 min closer"),
    (-0.01, "#80cdc1", "up to 5 min closer"),
    (0.01, "#f5f5f5", "unchanged"),
    (5, "#dfc27d", "up to 5 min farther"),
    (float("inf"), "#8c510a", "5+ min farther"),
]


def colour(value: float, bins: list[tuple[float, str, str]]) -> str:
    for upper, hex_colour, _label in bins:
        if value <= upper:
            return hex_colour
    return bins[-1][1]


@dataclass(frozen=True)
class PlannerMap:
    header: Markup
    html: Markup
    script: Markup


def _cells_layer(
    name: str,
    features: list[dict[str, Any]],
    fields: list[str],
    aliases: list[str],
    show: bool = True,
) -> folium.GeoJson:
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        show=show,
        style_function=lambda feature: feature["properties"]["_style"],
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=False),
    )


def build_planner_map(
    settings: MapSettings,
    result: PlanningResult,
    phase: str,
    category: str,
    minutes: int,
    delta: Delta | None = None,
    points: list[tuple[float, float, str]] | None = None,
) -> PlannerMap:
    fmap = LocalLeafletMap(settings)  # with the configured background map
    grid = result.grid
    polygons = grid.polygons_wgs84()
    index = result.coverage.combo_index(phase, category)
    nearest = result.coverage.minutes[index]
    estimated = result.cell_estimated(index)
    children = result.demand[PLANNING_PHASES.index(phase)]
    subs = result.base.subdistricts
    group = result.base.cell_group

    def feature(i: int, fill: str, extra: dict[str, Any]) -> dict[str, Any]:
        props = {
            "minutes": "–" if np.isnan(nearest[i]) else f"{nearest[i]:.1f}",
            "children": f"{children[i]:.2f}",
            "area": str(escape(subs[group[i]].name)) if group[i] >= 0 else "–",
            "estimate": "ja" if estimated[i] else "nein",
            "_style": {
                "fillColor": fill,
                "fillOpacity": 0.6,
                "color": "#555555" if estimated[i] else fill,
                "weight": 0.6,
                "dashArray": "3 3" if estimated[i] else None,
            },
        }
        props.update(extra)
        return {
            "type": "Feature",
            "geometry": polygons[i].__geo_interface__,
            "properties": props,
        }

    fields = ["minutes", "children", "area", "estimate"]
    # The planners' page is German: layer names and popup labels too.
    aliases = ["Minuten zum nächsten", "Kinder", "Unterbezirk", "Geschätzt"]
    cells = range(len(grid))
    minutes_features = [
        feature(i, colour(np.nan_to_num(nearest[i], nan=np.inf), MINUTE_BINS), {}) for i in cells
    ]
    _cells_layer("Minuten zum nächsten Angebot", minutes_features, fields, aliases).add_to(fmap)
    child_features = [feature(i, colour(children[i], CHILD_BINS), {}) for i in cells]
    _cells_layer("Kinder je Zelle", child_features, fields, aliases, show=False).add_to(fmap)
    lacking = ~(np.nan_to_num(nearest, nan=np.inf) <= minutes) & (children > 0)
    gap_features = [feature(int(i), "#d7191c", {}) for i in np.flatnonzero(lacking)]
    if gap_features:
        _cells_layer(
            f"Lücken: kein Angebot in {minutes} min", gap_features, fields, aliases, show=False
        ).add_to(fmap)
    if delta is not None:
        d_index = delta.combos.index((phase, category)) if (phase, category) in delta.combos else -1
        if d_index >= 0:
            change = delta.minutes[d_index]
            changed = np.flatnonzero(~np.isnan(change))
            delta_features = [
                feature(int(i), colour(change[i], DELTA_BINS), {"change": f"{change[i]:+.1f}"})
                for i in changed
            ]
            if delta_features:
                _cells_layer(
                    "Änderung durch das Szenario",
                    delta_features,
                    [*fields, "change"],
                    [*aliases, "Änderung (min)"],
                ).add_to(fmap)
    for lat, lon, label in points or []:
        marker = folium.CircleMarker(
            location=(lat, lon),
            radius=8,
            color="#000000",
            weight=2,
            fill=True,
            fill_color="#e66101",
            fill_opacity=0.95,
        )
        marker.add_child(EscapedTooltip(label))
        marker.add_to(fmap)
    lon_all, lat_all = grid.lonlat()
    if len(grid):
        fmap.fit_bounds([[lat_all.min(), lon_all.min()], [lat_all.max(), lon_all.max()]])
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.add_child(DataCredits(["Stadt Dortmund (dl-de/zero-2.0)", "© OpenStreetMap contributors"]))
    root = fmap.get_root()
    root.render()
    return PlannerMap(
        header=Markup(root.header.render()),  # type: ignore[attr-defined]  # noqa: S704
        html=Markup(root.html.render()),  # type: ignore[attr-defined]  # noqa: S704
        script=Markup(root.script.render()),  # type: ignore[attr-defined]  # noqa: S704
    )


def legend(bins: list[tuple[float, str, str]]) -> list[tuple[str, str]]:
    return [(hex_colour, label) for _upper, hex_colour, label in bins]
