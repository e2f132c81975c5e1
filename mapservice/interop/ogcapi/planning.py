"""The planners' collections: the coverage grid and the gap list of the quarter.

Visible only to signed-in planners (and admins); for everyone else they are absent from
``/collections`` and answer 401/403 when asked for by name. Computed by
:mod:`mapservice.planning` for the quarter with the adult walking profile, exactly as the
planners' page does (cached per data version).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mapservice.interop.ogcapi.collections import Collection, Context, ItemQuery, Queryable
from mapservice.planning import report
from mapservice.planning.build import planning_base
from mapservice.planning.coverage import PLANNING_PHASES, THRESHOLDS_MIN
from mapservice.planning.results import PlanningResult, coverage_result
from mapservice.taxonomy import CATEGORY_KEYS
from mapservice.validation import BBox, parse_choice

PLANNER_ROLES = ("planner", "admin")
AREA = "quarter"
PROFILE = "adult"
GAPS_PER_COMBINATION = 20


def _result(session: Session, context: Context) -> PlanningResult:
    return coverage_result(planning_base(session, AREA, context.walk_settings, PROFILE))


def _within(feature: dict[str, Any], bbox: BBox | None) -> bool:
    if bbox is None:
        return True
    geometry = feature["geometry"]
    points = (
        geometry["coordinates"][0] if geometry["type"] == "Polygon" else [geometry["coordinates"]]
    )
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return not (
        max(xs) < bbox.west or min(xs) > bbox.east or max(ys) < bbox.south or min(ys) > bbox.north
    )


def _bbox(features: list[dict[str, Any]]) -> list[float]:
    xs: list[float] = []
    ys: list[float] = []
    for feature in features:
        geometry = feature["geometry"]
        points = (
            geometry["coordinates"][0]
            if geometry["type"] == "Polygon"
            else [geometry["coordinates"]]
        )
        xs.extend(p[0] for p in points)
        ys.extend(p[1] for p in points)
    if not xs:
        return [-180.0, -90.0, 180.0, 90.0]
    return [round(min(xs), 6), round(min(ys), 6), round(max(xs), 6), round(max(ys), 6)]


class _InMemory(Collection):
    """A collection computed as a whole, then filtered and paged in memory."""

    roles = PLANNER_ROLES
    numeric_ids = False

    def all_features(self, session: Session, context: Context, args: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def bbox_of(self, session: Session, context: Context) -> list[float]:
        return _bbox(self.all_features(session, context, {}))

    def page(
        self, session: Session, query: ItemQuery, context: Context
    ) -> tuple[list[dict[str, Any]], int]:
        found = [
            f for f in self.all_features(session, context, query.args) if _within(f, query.bbox)
        ]
        return found[query.offset : query.offset + query.limit], len(found)

    def feature(self, session: Session, feature_id: str, context: Context) -> dict[str, Any] | None:
        for feature in self.all_features(session, context, {}):
            if str(feature["id"]) == feature_id:
                return feature
        return None


class Coverage(_InMemory):
    id = "coverage"
    title = "Coverage grid of the quarter (planners)"
    description = (
        "100 m cells of the quarter (EPSG:25832 grid, corners in CRS84) with the estimated "
        "children per life phase and, per life phase and category, the walking minutes to the "
        "nearest fitting offer (adult profile; null beyond the horizon), the number of offers "
        "within 5/10/15 minutes and whether the value is estimated (no walking network)."
    )

    def all_features(self, session: Session, context: Context, args: Any) -> list[dict[str, Any]]:
        features: list[dict[str, Any]] = report.export_geojson(_result(session, context))[
            "features"
        ]
        return features


class Gaps(_InMemory):
    id = "gaps"
    title = "Gap list of the quarter (planners)"
    description = (
        "Per life phase, category and walking time: the cells (centres) with the most "
        f"children and no fitting offer within that time, at most {GAPS_PER_COMBINATION} per "
        "combination, ranked; with the nearest street and sub-district."
    )
    queryables = (
        Queryable("phase", {"type": "string", "enum": list(PLANNING_PHASES)}, "Life phase"),
        Queryable("category", {"type": "string", "enum": list(CATEGORY_KEYS)}, "Category"),
        Queryable(
            "minutes",
            {"type": "integer", "enum": list(THRESHOLDS_MIN)},
            "Walking time in minutes",
        ),
    )

    def all_features(self, session: Session, context: Context, args: Any) -> list[dict[str, Any]]:
        phase = parse_choice(args, "phase", PLANNING_PHASES)
        category = parse_choice(args, "category", CATEGORY_KEYS)
        raw_minutes = parse_choice(args, "minutes", tuple(str(m) for m in THRESHOLDS_MIN))
        result = _result(session, context)
        features = []
        for combo_phase, combo_category in result.coverage.combos:
            if (phase and combo_phase != phase) or (category and combo_category != category):
                continue
            for minutes in [int(raw_minutes)] if raw_minutes else THRESHOLDS_MIN:
                rows = report.gap_rows(
                    session,
                    result,
                    combo_phase,
                    combo_category,
                    minutes,
                    GAPS_PER_COMBINATION,
                )
                for row in rows:
                    lon, lat = row.pop("lon"), row.pop("lat")
                    features.append(
                        {
                            "type": "Feature",
                            "id": f"{combo_phase}_{combo_category}_{minutes}_{row['cell_id']}",
                            "geometry": {"type": "Point", "coordinates": [lon, lat]},
                            "properties": {
                                "phase": combo_phase,
                                "category": combo_category,
                                "minutes": minutes,
                                **row,
                            },
                        }
                    )
        return features
