"""Walking API: reachable offers and isochrones (RFC 7946 GeoJSON).

``GET /api/reachable?lat=&lon=&minutes=&profile=&age_months=&category=``
    Fitting active offers whose site is reachable on foot within ``minutes`` (default 15),
    each with ``walking_minutes``/``walking_seconds`` and ``estimated``, nearest first.
``GET /api/isochrone?lat=&lon=&minutes=5,10,15&profile=``
    One polygon per time: the paths actually reached, buffered; largest first.
``GET /api/walking/profiles``
    The walking profiles and settings.

Both answers carry ``estimated: true`` where no network covers the point (straight
line x detour factor). Bad parameters answer 400 with ``{"error", "parameter", "message"}``.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, current_app, jsonify, request

from mapservice.db import read_only
from mapservice.interop.openapi import parameters as c
from mapservice.interop.openapi.spec import BAD_PARAMETER, GEOJSON, describe, ok, query
from mapservice.queries import OfferFilter
from mapservice.validation import (
    ParameterError,
    parse_age_months,
    parse_categories,
    parse_int,
    parse_latitude,
    parse_longitude,
)
from mapservice.walking.isochrone import isochrones
from mapservice.walking.profiles import (
    DEFAULT_PROFILE,
    WalkProfile,
    WalkSettings,
    settings_from_config,
)
from mapservice.walking.reach import reachable_geojson
from mapservice.web.api import geojson_response
from mapservice.web.errors import register_json_errors

MAX_ISOCHRONE_BANDS = 6

bp = Blueprint("walking_api", __name__)


register_json_errors(bp)


def walk_settings() -> WalkSettings:
    settings: WalkSettings | None = current_app.extensions.get("mapservice.walk_settings")
    if settings is None:
        settings = settings_from_config(current_app.config)
        current_app.extensions["mapservice.walk_settings"] = settings
    return settings


def _point(args: Any) -> tuple[float, float]:
    lat = parse_latitude(args)
    lon = parse_longitude(args)
    if lat is None:
        raise ParameterError("lat", "is required (WGS84 degrees)")
    if lon is None:
        raise ParameterError("lon", "is required (WGS84 degrees)")
    return lat, lon


def _profile(args: Any, settings: WalkSettings) -> WalkProfile:
    key = args.get("profile") or DEFAULT_PROFILE
    if key not in settings.profiles:
        raise ParameterError(
            "profile", f"unknown profile {key!r}; known: {', '.join(settings.profiles)}"
        )
    return settings.profiles[key]


# Documented from the default settings; MAPSERVICE_WALK_PROFILES may add profiles.
PROFILE = c.profile_parameter(["adult", "pram", "wheelchair"])


@bp.get("/reachable")
@describe(
    "Fitting active offers reachable on foot, nearest first",
    description=(
        "Each offer carries walking_minutes, walking_seconds and estimated (true where no "
        "walking network covers the way: straight line × detour factor). Minutes above "
        "MAPSERVICE_WALK_MAX_MINUTES (default 30) answer 400."
    ),
    tags=["walking"],
    parameters=[
        c.LAT,
        c.LON,
        query(
            "minutes",
            {"type": "integer", "minimum": 1, "maximum": 30, "default": 15},
            "Walking time in minutes.",
            example=15,
        ),
        PROFILE,
        *c.AGE_PARAMETERS,
        c.CATEGORY,
    ],
    responses={200: ok("Reachable", GEOJSON, "Reachable offers"), 400: BAD_PARAMETER},
)
def reachable() -> Response:
    settings = walk_settings()
    args = request.args
    lat, lon = _point(args)
    minutes = parse_int(args, "minutes", low=1, high=settings.max_minutes) or 15
    profile = _profile(args, settings)
    criteria = OfferFilter(age_months=parse_age_months(args), categories=parse_categories(args))
    # The hot path: one statement on a read-only connection (see db.read_only).
    return geojson_response(
        read_only(
            lambda session: reachable_geojson(
                session, lon, lat, minutes, profile, criteria, settings
            )
        )
    )


def _minutes_list(args: Any, settings: WalkSettings) -> list[int]:
    raw = args.get("minutes") or "5,10,15"
    values = []
    for part in raw.split(","):
        value = parse_int({"minutes": part.strip()}, "minutes", low=1, high=settings.max_minutes)
        if value is None:
            raise ParameterError("minutes", "must be whole numbers separated by commas")
        values.append(value)
    values = sorted(set(values))
    if len(values) > MAX_ISOCHRONE_BANDS:
        raise ParameterError("minutes", f"at most {MAX_ISOCHRONE_BANDS} times at once")
    return values


@bp.get("/isochrone")
@describe(
    "The area reachable on foot: one polygon per walking time, largest first",
    tags=["walking"],
    parameters=[
        c.LAT,
        c.LON,
        query(
            "minutes",
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 30},
                "minItems": 1,
                "maxItems": MAX_ISOCHRONE_BANDS,
                "default": [5, 10, 15],
            },
            f"Walking times, comma-separated (at most {MAX_ISOCHRONE_BANDS} distinct).",
            example=[5, 10, 15],
            explode=False,
        ),
        PROFILE,
    ],
    responses={200: ok("Isochrone", GEOJSON, "One Feature per time"), 400: BAD_PARAMETER},
)
def isochrone() -> Response:
    settings = walk_settings()
    args = request.args
    lat, lon = _point(args)
    minutes = _minutes_list(args, settings)
    profile = _profile(args, settings)
    times = [float(m) for m in minutes]
    # One statement (the data version) on a read-only connection, as for /reachable.
    answer = read_only(lambda session: isochrones(session, lon, lat, times, profile, settings))
    # The rings are NumPy arrays, which orjson writes directly.
    return Response(orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY), mimetype=GEOJSON)


@bp.get("/walking/profiles")
@describe("The walking profiles and settings", tags=["walking"], responses={200: ok("Profiles")})
def profiles() -> Response:
    settings = walk_settings()
    return jsonify(
        {
            "profiles": [
                {
                    "key": p.key,
                    "speed_kmh": p.speed_kmh,
                    "steps": p.steps,
                    "label_de": p.label_de,
                    "label_en": p.label_en,
                }
                for p in settings.profiles.values()
            ],
            "default": DEFAULT_PROFILE,
            "max_minutes": settings.max_minutes,
            "max_snap_m": settings.max_snap_m,
            "detour_factor": settings.detour_factor,
        }
    )
