"""OGC API – Features under ``/ogcapi/``: a thin adapter around
:mod:`mapservice.interop.ogcapi.core` (parse the request, render JSON or HTML).

The planners' collections need a planner or admin. The caller's roles come from
Flask-Login's ``current_user``: a session login today; an API token (``Authorization:
Bearer``) plugs in through Flask-Login's request loader and arrives here the same way.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from mapservice.db import get_session
from mapservice.interop import ApiAnswer
from mapservice.interop.ogcapi import core
from mapservice.interop.ogcapi.collections import Context
from mapservice.interop.ogcapi.document import openapi_document
from mapservice.interop.ogcapi.params import COMMON_PARAMETERS, check_known
from mapservice.validation import ParameterError
from mapservice.web.walking_api import walk_settings

bp = Blueprint("ogcapi", __name__)


def _request() -> core.OgcRequest:
    accepted = request.accept_mimetypes.best_match(
        [core.JSON, core.GEOJSON, core.HTML, core.OPENAPI_JSON]
    )
    fmt = core.choose_format(request.args.get("f"), accepted)
    signed_in = bool(current_user.is_authenticated)
    roles = frozenset({current_user.role}) if signed_in else frozenset()
    base = url_for("ogcapi.landing", _external=True).rstrip("/")
    return core.OgcRequest(base, request.args, fmt, roles, signed_in)


def _api(ogc: core.OgcRequest) -> core.OgcApi:
    return core.OgcApi(get_session(), Context(walk_settings(), ogc.roles))


def _respond(ogc: core.OgcRequest | None, answer: ApiAnswer) -> Response:
    if ogc is not None and ogc.format == "html" and answer.template:
        html = render_template(
            answer.template, doc=answer.content, status=answer.status, **answer.context
        )
        response = Response(html, status=answer.status, mimetype="text/html")
    else:
        media_type = answer.headers.get("Content-Type", core.JSON)
        response = Response(orjson.dumps(answer.content), status=answer.status)
        response.headers["Content-Type"] = media_type
    if answer.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mapservice"'
    if ogc is not None and ogc.roles:
        # A planner's answer must not be reused for anyone else.
        response.headers["Cache-Control"] = "private, no-store"
    response.headers["Vary"] = "Accept, Cookie, Authorization"
    return response


def _serve(resource: str, *args: str) -> Response:
    ogc = None
    try:
        ogc = _request()
        answer = getattr(_api(ogc), resource)(ogc, *args)
    except ParameterError as bad:
        answer = core.error(400, "InvalidParameterValue", bad.message, bad.parameter)
    return _respond(ogc, answer)


@bp.get("/")
def landing() -> Response:
    return _serve("landing")


@bp.get("/conformance")
def conformance() -> Response:
    return _serve("conformance")


@bp.get("/collections")
def collections() -> Response:
    return _serve("collections")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    return _serve("collection", collection_id)


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    return _serve("items", collection_id)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    return _serve("item", collection_id, feature_id)


@bp.get("/openapi")
def openapi() -> Response:
    ogc = None
    try:
        ogc = _request()
        check_known(request.args, COMMON_PARAMETERS)
        document = openapi_document(ogc.base_url, _api(ogc).visible(ogc))
    except ParameterError as bad:
        return _respond(ogc, core.error(400, "InvalidParameterValue", bad.message, bad.parameter))
    if ogc.format == "html":
        return _respond(ogc, ApiAnswer(200, document, template="openapi/page.html"))
    return _respond(ogc, ApiAnswer(200, document, {"Content-Type": core.OPENAPI_JSON}))
