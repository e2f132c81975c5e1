"""Planners' pages: coverage, gaps, what-if scenarios.

Every route needs a signed-in planner or admin (:func:`mapservice.auth.check_roles` runs
before each request of the blueprint). Pages: ``/planners/``; JSON under ``/planners/api/``;
exports ``/planners/export.geojson|.csv|.gpkg`` and ``/planners/chart.svg``. Common query
parameters: ``area`` (``quarter``, ``city``, ``subdistrict:052``…), ``profile``, ``phase``,
``category``, ``minutes`` (5, 10 or 15), ``scenario`` (id of one of the planner's scenarios).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from geoalchemy2.shape import to_shape
from werkzeug.wrappers import Response as BaseResponse

from mapservice.auth import PLANNING_ROLES, check_roles
from mapservice.db import get_session
from mapservice.models import HypotheticalOffer, Scenario, User
from mapservice.planning import mapping, report, scenarios
from mapservice.planning.areas import area_choices
from mapservice.planning.build import planning_base
from mapservice.planning.coverage import PLANNING_PHASES
from mapservice.planning.results import PlanningResult, coverage_result
from mapservice.planning.whatif import Delta, apply_changes, changes_of, delta
from mapservice.taxonomy import categories, phases
from mapservice.validation import ParameterError
from mapservice.walking.profiles import settings_from_config
from mapservice.web import basemap

bp = Blueprint("planners", __name__)


@bp.before_request
def _planners_only() -> Any:
    return check_roles(PLANNING_ROLES)


@bp.errorhandler(ParameterError)
def _bad_parameter(error: ParameterError) -> tuple[Response, int]:
    return jsonify(error.as_dict()), 400


@dataclass(frozen=True)
class View:
    area: str
    profile: str
    phase: str
    category: str
    minutes: int
    scenario: Scenario | None


def _user() -> User:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    return user


def _view(args: Mapping[str, str]) -> View:
    settings = settings_from_config(current_app.config)
    profile = args.get("profile") or "adult"
    if profile not in settings.profiles:
        raise ParameterError("profile", f"must be one of {', '.join(settings.profiles)}")
    phase = args.get("phase") or "0-2"
    if phase not in PLANNING_PHASES:
        raise ParameterError("phase", f"must be one of {', '.join(PLANNING_PHASES)}")
    category = args.get("category") or "baby_parent_meetup"
    if category not in categories():
        raise ParameterError("category", f"unknown category {category[:40]!r}")
    raw_minutes = args.get("minutes") or "10"
    if raw_minutes not in ("5", "10", "15"):
        raise ParameterError("minutes", "must be 5, 10 or 15")
    scenario = None
    if args.get("scenario"):
        if not args["scenario"].isdigit():
            raise ParameterError("scenario", "must be a scenario id")
        scenario = scenarios.get_owned(get_session(), _user(), int(args["scenario"]))
        if scenario is None:
            abort(404, description="no such scenario of yours")
    area = args.get("area") or (scenario.area_key if scenario else "quarter")
    return View(area, profile, phase, category, int(raw_minutes), scenario)


def _results(view: View) -> tuple[PlanningResult, PlanningResult | None, Delta | None]:
    settings = settings_from_config(current_app.config)
    base = planning_base(get_session(), view.area, settings, view.profile)
    real = coverage_result(base)
    if view.scenario is None:
        return real, None, None
    what_if = apply_changes(base, changes_of(view.scenario))
    return real, what_if, delta(real, what_if)


def _combo_checked(result: PlanningResult, view: View) -> None:
    if (view.phase, view.category) not in result.coverage.combos:
        raise ParameterError(
            "category", f"{view.category} is not offered for children of {view.phase} years"
        )


def _combos_from(args: Mapping[str, str], result: PlanningResult) -> list[tuple[str, str]] | None:
    """Exports: all combinations, or those of ``phase`` and/or ``category`` when given."""
    phase, category = args.get("phase"), args.get("category")
    if not phase and not category:
        return None
    chosen = [
        (p, c)
        for p, c in result.coverage.combos
        if (not phase or p == phase) and (not category or c == category)
    ]
    if not chosen:
        raise ParameterError("category", "no coverage for this phase and category")
    return chosen


# --- pages ---------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    view = _view(request.args)
    real, what_if, change = _results(view)
    shown = what_if or real
    _combo_checked(shown, view)
    settings = basemap.map_settings(label="Coverage map")
    points = []
    if view.scenario is not None:
        for item in view.scenario.changes:
            if item.geom is not None:
                point = to_shape(item.geom)
                label = f"{item.action}: {item.label or categories()[item.category].label_de}"
                points.append((point.y, point.x, label))  # type: ignore[attr-defined]
    planner_map = mapping.build_planner_map(
        settings, shown, view.phase, view.category, view.minutes, change, points
    )
    indicators = report.indicator_rows(shown)
    deltas = None
    if change is not None:
        deltas = {
            (phase, category): [round(float(v) * 100, 1) for v in change.shares[i]]
            for i, (phase, category) in enumerate(change.combos)
        }
    return render_template(
        "planners/index.html",
        view=view,
        result=shown,
        planner_map=planner_map,
        indicators=indicators,
        deltas=deltas,
        subdistricts=report.subdistrict_rows(shown, view.phase, view.category),
        gaps=report.gap_rows(get_session(), shown, view.phase, view.category, view.minutes),
        fca=shown.supply_demand(view.category, 15),
        areas=area_choices(get_session()),
        phases=[phases()[p] for p in PLANNING_PHASES],
        categories=categories(),
        profiles=settings_from_config(current_app.config).profiles,
        scenarios=scenarios.owned_scenarios(get_session(), _user()),
        minute_legend=mapping.legend(mapping.MINUTE_BINS),
        child_legend=mapping.legend(mapping.CHILD_BINS),
        delta_legend=mapping.legend(mapping.DELTA_BINS),
        query=request.args.to_dict(),
    )


@bp.post("/scenarios")
def create_scenario_form() -> BaseResponse:
    try:
        scenario = scenarios.create_scenario(get_session(), _user(), request.form)
        get_session().commit()
    except ParameterError as error:
        flash(f"{error.parameter}: {error.message}", "error")
        return redirect(url_for(".index"))
    return redirect(url_for(".index", scenario=scenario.id, area=scenario.area_key))


@bp.post("/scenarios/<int:scenario_id>/changes")
def add_change_form(scenario_id: int) -> BaseResponse:
    scenario = _owned(scenario_id)
    try:
        scenarios.add_change(get_session(), scenario, request.form)
        get_session().commit()
    except ParameterError as error:
        get_session().rollback()
        flash(f"{error.parameter}: {error.message}", "error")
    return redirect(url_for(".index", scenario=scenario.id, **_keep(request.form)))


@bp.post("/scenarios/<int:scenario_id>/changes/<int:change_id>/delete")
def delete_change_form(scenario_id: int, change_id: int) -> BaseResponse:
    scenario = _owned(scenario_id)
    get_session().delete(_change(scenario, change_id))
    get_session().commit()
    return redirect(url_for(".index", scenario=scenario.id, **_keep(request.form)))


@bp.post("/scenarios/<int:scenario_id>/delete")
def delete_scenario_form(scenario_id: int) -> BaseResponse:
    get_session().delete(_owned(scenario_id))
    get_session().commit()
    return redirect(url_for(".index"))


def _keep(form: Mapping[str, str]) -> dict[str, Any]:
    """The view parameters a form carries along, so the page comes back as it was."""
    return {
        key: form[key]
        for key in ("area", "profile", "phase", "category", "minutes")
        if form.get(key)
    }


def _owned(scenario_id: int) -> Scenario:
    scenario = scenarios.get_owned(get_session(), _user(), scenario_id)
    if scenario is None:
        abort(404, description="no such scenario of yours")
    return scenario


def _change(scenario: Scenario, change_id: int) -> HypotheticalOffer:
    for item in scenario.changes:
        if item.id == change_id:
            return item
    abort(404, description="no such change in this scenario")


# --- exports -------------------------------------------------------------------------------


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_result() -> PlanningResult:
    view = _view(request.args)
    real, what_if, _ = _results(view)
    return what_if or real


@bp.get("/export.geojson")
def export_geojson() -> Response:
    result = _export_result()
    body = json.dumps(report.export_geojson(result, _combos_from(request.args, result)))
    return _download(body, "application/geo+json", "coverage.geojson")


@bp.get("/export.csv")
def export_csv() -> Response:
    result = _export_result()
    body = report.export_csv(result, _combos_from(request.args, result))
    return _download(body, "text/csv", "coverage.csv")


@bp.get("/export.gpkg")
def export_gpkg() -> Response:
    result = _export_result()
    body = report.export_gpkg(result, _combos_from(request.args, result))
    return _download(body, "application/geopackage+sqlite3", "coverage.gpkg")


@bp.get("/chart.svg")
def chart_svg() -> Response:
    view = _view(request.args)
    result = _export_result()
    return Response(report.coverage_chart_svg(result, view.minutes), mimetype="image/svg+xml")


# --- JSON API ------------------------------------------------------------------------------


@bp.get("/api/coverage")
def api_coverage() -> Response:
    view = _view(request.args)
    real, what_if, change = _results(view)
    shown = what_if or real
    _combo_checked(shown, view)
    base = shown.base
    fca = shown.supply_demand(view.category, 15)
    body: dict[str, Any] = {
        "area": {"key": base.area_key, "name": base.area_name},
        "profile": base.profile,
        "cells": len(base.grid),
        "cells_estimated": int(base.estimated_cells.sum()),
        "demand_source": base.demand_source,
        "scenario": view.scenario.id if view.scenario else None,
        "indicators": report.indicator_rows(shown),
        "subdistricts": report.subdistrict_rows(shown, view.phase, view.category),
        "supply_demand": {  # 2SFCA over a 15-minute catchment
            "category": view.category,
            "catchment_min": 15,
            "places_per_child": report._share(float(fca.weighted_mean())),
            "offers_with_capacity": fca.offers_with_capacity,
            "offers_without_capacity": fca.offers_without_capacity,
        },
    }
    if change is not None:
        body["delta"] = _delta_json(change)
    return jsonify(body)


def _delta_json(change: Delta) -> dict[str, Any]:
    return {
        "indicators": [
            {
                "phase": phase,
                "category": category,
                "share_change": [round(float(v), 4) for v in change.shares[i]],
                "children_gained": [round(float(v), 2) for v in change.children_gained[i]],
                "cells_changed": int((~np.isnan(change.minutes[i])).sum()),
            }
            for i, (phase, category) in enumerate(change.combos)
        ]
    }


def _isnan(values: Any) -> Any:
    return values != values


@bp.get("/api/gaps")
def api_gaps() -> Response:
    view = _view(request.args)
    real, what_if, _ = _results(view)
    shown = what_if or real
    _combo_checked(shown, view)
    limit = request.args.get("limit") or "20"
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise ParameterError("limit", "must be a whole number from 1 to 1000")
    rows = report.gap_rows(
        get_session(), shown, view.phase, view.category, view.minutes, int(limit)
    )
    return jsonify(
        {"phase": view.phase, "category": view.category, "minutes": view.minutes, "gaps": rows}
    )


@bp.get("/api/scenarios")
def api_scenarios() -> Response:
    found = scenarios.owned_scenarios(get_session(), _user())
    return jsonify({"scenarios": [scenarios.scenario_dict(s) for s in found]})


@bp.post("/api/scenarios")
def api_create_scenario() -> tuple[Response, int]:
    scenario = scenarios.create_scenario(get_session(), _user(), _json())
    get_session().commit()
    return jsonify(scenarios.scenario_dict(scenario)), 201


@bp.get("/api/scenarios/<int:scenario_id>")
def api_scenario(scenario_id: int) -> Response:
    return jsonify(scenarios.scenario_dict(_owned(scenario_id)))


@bp.delete("/api/scenarios/<int:scenario_id>")
def api_delete_scenario(scenario_id: int) -> tuple[str, int]:
    get_session().delete(_owned(scenario_id))
    get_session().commit()
    return "", 204


@bp.post("/api/scenarios/<int:scenario_id>/changes")
def api_add_change(scenario_id: int) -> tuple[Response, int]:
    scenario = _owned(scenario_id)
    change = scenarios.add_change(get_session(), scenario, _json())
    get_session().commit()
    return jsonify(scenarios.change_dict(change)), 201


@bp.patch("/api/scenarios/<int:scenario_id>/changes/<int:change_id>")
def api_move_change(scenario_id: int, change_id: int) -> Response:
    change = scenarios.move_change(get_session(), _change(_owned(scenario_id), change_id), _json())
    get_session().commit()
    return jsonify(scenarios.change_dict(change))


@bp.delete("/api/scenarios/<int:scenario_id>/changes/<int:change_id>")
def api_delete_change(scenario_id: int, change_id: int) -> tuple[str, int]:
    get_session().delete(_change(_owned(scenario_id), change_id))
    get_session().commit()
    return "", 204


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ParameterError("body", "must be a JSON object")
    return data
