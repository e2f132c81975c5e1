"""HSDS 3.0 (Open Referral) under ``/hsds/``, for other directories: a thin adapter around
:mod:`mapservice.interop.hsds.api`. Public and read-only; answers are JSON (``format=ndjson``
on ``/services``: one service per line)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from flask import Blueprint, Response, current_app, request, url_for

from mapservice.db import get_session
from mapservice.interop import ApiAnswer
from mapservice.interop.hsds import api, mapping
from mapservice.validation import ParameterError

bp = Blueprint("hsds", __name__)


def _api() -> api.HsdsApi:
    config = current_app.config
    region = mapping.Region(config["HSDS_STATE_PROVINCE"], config["HSDS_COUNTRY"])

    def offer_url(offer_id: int) -> str:
        return url_for("public.offer_page", offer_id=offer_id, _external=True)

    return api.HsdsApi(get_session(), region, offer_url)


def _respond(answer: ApiAnswer) -> Response:
    media_type = answer.headers.get("Content-Type", api.JSON)
    if media_type == api.NDJSON:
        rows: list[object] = answer.content

        def lines() -> Iterator[bytes]:
            for row in rows:
                yield orjson.dumps(row) + b"\n"

        response = Response(lines(), status=answer.status, mimetype=api.NDJSON)
        response.headers["Content-Disposition"] = 'attachment; filename="services.ndjson"'
        return response
    return Response(orjson.dumps(answer.content), status=answer.status, mimetype=media_type)


def _serve(resource: str, *ids: str) -> Response:
    try:
        answer = getattr(_api(), resource)(request.args, *ids)
    except ParameterError as bad:
        answer = ApiAnswer(400, bad.as_dict(), {"Content-Type": api.JSON})
    return _respond(answer)


@bp.get("/")
def root() -> Response:
    return _serve("root")


@bp.get("/services")
def services() -> Response:
    return _serve("services")


@bp.get("/services/<service_id>")
def service(service_id: str) -> Response:
    return _serve("service", service_id)


@bp.get("/organizations")
def organizations() -> Response:
    return _serve("organizations")


@bp.get("/organizations/<organization_id>")
def organization(organization_id: str) -> Response:
    return _serve("organization", organization_id)


@bp.get("/taxonomies")
def taxonomies() -> Response:
    return _serve("taxonomies")


@bp.get("/taxonomies/<taxonomy_id>")
def taxonomy(taxonomy_id: str) -> Response:
    return _serve("taxonomy", taxonomy_id)


@bp.get("/taxonomy_terms")
def taxonomy_terms() -> Response:
    return _serve("taxonomy_terms")


@bp.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str) -> Response:
    return _serve("taxonomy_term", term_id)
