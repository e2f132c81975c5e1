"""The JSON API (RFC 7946 GeoJSON).

``GET /api/offers``      offers as a FeatureCollection; filters ``age_months`` (or
                         ``age_years``/``birth_month``), ``category`` (comma-separated),
                         ``bbox`` (west,south,east,north), ``language``, ``free``; paged
                         by ``limit`` (default 200, at most 1000) and ``offset``, with
                         ``numberMatched``, ``numberReturned`` and ``links`` (self, next,
                         prev) as in OGC API - Features (:mod:`mapservice.paging`).
``GET /api/offers/<id>`` one offer as a Feature, with an ``ETag`` (writes: web/write_api.py).
``GET /api/sites``       sites as a FeatureCollection; filter ``bbox``; paged like
                         ``/api/offers``.
``GET /api/categories``  the life-phase taxonomy.
``GET /api/health``      liveness: 200 while the process serves requests (no database).
``GET /api/ready``       readiness: 200 when the database answers, else 503 (Retry-After).

Bad parameters answer 400 with ``{"error", "parameter", "message"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mapservice import queries
from mapservice.db import get_session, read_only
from mapservice.editing.states import offer_etag
from mapservice.interop.openapi import parameters as c
from mapservice.interop.openapi.spec import (
    BAD_PARAMETER,
    GEOJSON,
    NOT_FOUND,
    describe,
    ok,
    path_id,
)
from mapservice.models import Offer
from mapservice.paging import page_members, parse_page
from mapservice.taxonomy import categories, phases
from mapservice.validation import parse_bbox
from mapservice.web.cached import cached_answer
from mapservice.web.errors import register_json_errors

READY_RETRY_AFTER_S = 2

bp = Blueprint("api", __name__)
register_json_errors(bp)


def geojson_response(data: dict[str, Any]) -> Response:
    # orjson: GeoJSON answers are large plain data; it encodes them several times faster.
    return Response(orjson.dumps(data), mimetype=GEOJSON)


@bp.get("/offers")
@describe(
    "Fitting active offers",
    description="Active offers, filtered by the child's age, category, area, language, cost; "
    "a page of at most limit of them, with numberMatched, numberReturned and links "
    "(self, next, prev) as in OGC API - Features.",
    tags=["offers"],
    parameters=[*c.AGE_PARAMETERS, c.CATEGORY, c.BBOX, c.LANGUAGE, c.FREE, c.LIMIT, c.OFFSET],
    responses={200: ok("Offers", GEOJSON, "A FeatureCollection of offers"), 400: BAD_PARAMETER},
)
def offers() -> Response:
    """A page of the offers that fit (see :mod:`mapservice.paging`), from memory while the
    data stays the same."""
    criteria = queries.offer_filter_from_args(request.args)
    page = parse_page(request.args)
    others = _other_args()
    url_for_page = _url_for_page(others)

    def build(session: Session) -> bytes:
        found = queries.find_offers(session, criteria)
        shown = page.window(found)
        members = page_members(page, len(found), len(shown), url_for_page, GEOJSON)
        features = (queries.offer_feature(offer) for offer in shown)
        return orjson.dumps(queries.feature_collection(features, **members))

    return cached_answer(("offers", request.base_url, others, page), build, GEOJSON)


@bp.get("/offers/<int:offer_id>")
@describe(
    "One offer (any status)",
    tags=["offers"],
    parameters=[path_id("offer_id", "The offer's id")],
    responses={
        200: ok(
            "OfferFeature",
            GEOJSON,
            "The offer as a Feature",
            headers={"ETag": "The offer's version, for If-Match on a write"},
        ),
        404: NOT_FOUND,
    },
)
def offer(offer_id: int) -> Response:
    found = get_session().get(Offer, offer_id)  # the URL converter bounds the id
    if found is None:
        abort(404, description=f"no offer with id {offer_id}")
    response = geojson_response(queries.offer_feature(found))
    # For writes: PATCH with If-Match answers 412 when the offer changed since (issue 10).
    response.set_etag(offer_etag(found))
    return response


@bp.get("/sites")
@describe(
    "Sites where offers happen",
    description="Sites by name, optionally within a bbox; a page of at most limit of them "
    "(default 200), with numberMatched, numberReturned and links (self, next, prev) as in "
    "OGC API - Features.",
    tags=["offers"],
    parameters=[c.BBOX, c.LIMIT, c.OFFSET],
    responses={200: ok("Sites", GEOJSON, "A FeatureCollection of sites"), 400: BAD_PARAMETER},
)
def sites() -> Response:
    """A page of the sites (see :mod:`mapservice.paging`), from memory while the data stays
    the same."""
    bbox = parse_bbox(request.args)
    page = parse_page(request.args)
    others = _other_args()

    def build(session: Session) -> bytes:
        matched, found = queries.find_sites_page(session, bbox, page.limit, page.offset)
        members = page_members(page, matched, len(found), _url_for_page(others), GEOJSON)
        features = (queries.site_feature(site) for site in found)
        return orjson.dumps(queries.feature_collection(features, **members))

    return cached_answer(("sites", request.base_url, others, page), build, GEOJSON)


def _other_args() -> tuple[tuple[str, str], ...]:
    """The request's parameters but the page's, in a stable order (a cache key)."""
    return tuple(
        sorted((k, v) for k, v in request.args.items(multi=True) if k not in ("limit", "offset"))
    )


def _url_for_page(others: tuple[tuple[str, str], ...]) -> Callable[[int, int], str]:
    base = request.base_url

    def url_for_page(limit: int, offset: int) -> str:
        args = [*others, ("limit", str(limit)), ("offset", str(offset))]
        return f"{base}?{urlencode(args)}"

    return url_for_page


@bp.get("/categories")
@describe(
    "The life-phase taxonomy: categories and phases with their age ranges in months",
    tags=["offers"],
    responses={200: ok("Categories")},
)
def taxonomy() -> Response:
    return jsonify(
        {
            "categories": [asdict(category) for category in categories().values()],
            "phases": [asdict(phase) for phase in phases().values()],
        }
    )


@bp.get("/health")
@describe(
    "Liveness: 200 while the process serves requests (asks nothing of the database)",
    tags=["meta"],
    responses={200: ok("Health")},
)
def health() -> Response:
    """Liveness, for a load balancer or an orchestrator: the process answers requests. It
    asks nothing of the database, so a database restart does not get the workers killed."""
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/ready")
@describe(
    "Readiness: 200 when the database answers, else 503 with Retry-After",
    tags=["meta"],
    responses={
        200: ok("Ready"),
        503: ok(
            "Ready",
            description="The database does not answer",
            headers={"Retry-After": "Seconds to wait before asking again"},
        ),
    },
)
def ready() -> tuple[Response, int]:
    """Readiness: whether this process can answer from the database right now (one
    ``SELECT 1`` on a pooled connection; a dead one is replaced and tried once more)."""
    try:
        read_only(lambda session: session.execute(text("SELECT 1")).scalar_one())
    except DBAPIError:
        body, status = {"status": "unavailable", "database": "not answering"}, 503
    else:
        body, status = {"status": "ok", "database": "ok"}, 200
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = str(READY_RETRY_AFTER_S)
    return response, status
