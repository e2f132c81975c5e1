"""``/api/openapi.json`` (OpenAPI 3.1, built from the routes and their descriptions) and
``/api/docs``, a readable page rendered by the service itself from the same document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from mapservice.interop.openapi import build_document
from mapservice.interop.openapi.spec import JSON, Route, describe, ok, query
from mapservice.web.errors import register_json_errors

bp = Blueprint("api_docs", __name__)
register_json_errors(bp)


def api_routes() -> list[Route]:
    """Every route of the application under /api/."""
    return [
        Route(
            rule.rule,
            frozenset(rule.methods or ()),
            rule.endpoint,
            current_app.view_functions[rule.endpoint],
        )
        for rule in current_app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    ]


def _version() -> str:
    try:
        return version("mapservice")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0"


def document() -> dict[str, object]:
    built, _ = build_document(api_routes(), _version())
    return built


@bp.get("/openapi.json")
@describe(
    "This description (OpenAPI 3.1)",
    tags=["meta"],
    responses={200: ok("OpenApi", JSON, "The OpenAPI document")},
)
def openapi_json() -> Response:
    return jsonify(document())


@bp.get("/docs")
@describe(
    "This description as a readable page",
    tags=["meta"],
    parameters=[
        query(
            "lang",
            {"type": "string", "enum": ["de", "en", "tr", "ar", "bg", "ro", "pl", "uk"]},
            "Language of the page around the description.",
            example="en",
        )
    ],
    responses={
        200: {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
    },
)
def docs() -> str:
    return render_template(
        "openapi/page.html", doc=document(), json_url=request.path.replace("docs", "openapi.json")
    )
