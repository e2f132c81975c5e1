"""The OGC API's own OpenAPI 3.0 document, generated from the collections (so it lists
exactly the collections, filters and limits the code serves).

One concrete path per collection (as pygeoapi does): GDAL reads the ``limit`` maximum of
``/collections/{id}/items`` from here to size its pages.
"""

from __future__ import annotations

from typing import Any

from mapservice.interop.ogcapi import params
from mapservice.interop.ogcapi.collections import Collection
from mapservice.interop.ogcapi.core import DESCRIPTION, GEOJSON, HTML, JSON, TITLE

_F = {
    "name": "f",
    "in": "query",
    "required": False,
    "description": "Format: json (GeoJSON for features) or html. Default: from the Accept header.",
    "schema": {"type": "string", "enum": ["json", "html"]},
    "style": "form",
    "explode": False,
}
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of the HTML pages (de, en, tr, ar, bg, ro, pl, uk).",
    "schema": {"type": "string", "enum": ["de", "en", "tr", "ar", "bg", "ro", "pl", "uk"]},
}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": (
        f"Features per page: default {params.LIMIT_DEFAULT}, maximum {params.LIMIT_MAXIMUM} "
        "(larger values are served as the maximum)."
    ),
    "schema": {
        "type": "integer",
        "minimum": 1,
        "maximum": params.LIMIT_MAXIMUM,
        "default": params.LIMIT_DEFAULT,
    },
    "style": "form",
    "explode": False,
}
_OFFSET = {
    "name": "offset",
    "in": "query",
    "required": False,
    "description": "Features to skip (the next links carry it).",
    "schema": {"type": "integer", "minimum": 0, "maximum": params.OFFSET_MAXIMUM, "default": 0},
    "style": "form",
    "explode": False,
}
_BBOX = {
    "name": "bbox",
    "in": "query",
    "required": False,
    "description": "west,south,east,north in CRS84 (six numbers: heights are ignored).",
    "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    "style": "form",
    "explode": False,
}
_ERROR = {
    "description": "Bad parameter (unknown, or a value out of range).",
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["code", "description"],
                "properties": {
                    "code": {"type": "string"},
                    "description": {"type": "string"},
                    "parameter": {"type": "string"},
                },
            }
        },
        HTML: {"schema": {"type": "string"}},
    },
}


def _json(description: str, media_type: str = JSON) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            media_type: {"schema": {"type": "object"}},
            HTML: {"schema": {"type": "string"}},
        },
    }


def _operation(
    summary: str, parameters: list[dict[str, Any]], ok: dict[str, Any]
) -> dict[str, Any]:
    responses = {"200": ok, "400": _ERROR}
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def _datetime(collection: Collection) -> dict[str, Any]:
    return {
        "name": "datetime",
        "in": "query",
        "required": False,
        "description": "RFC 3339 instant or interval (start/end, '..' open). "
        + collection.temporal_note,
        "schema": {"type": "string"},
        "style": "form",
        "explode": False,
    }


def openapi_document(base_url: str, collections: list[Collection]) -> dict[str, Any]:
    """The OpenAPI 3.0 document for ``collections`` (those the caller may see)."""
    common = [_F, _LANG]
    paths: dict[str, Any] = {
        "/": _operation("Landing page", common, _json("Links to the API's resources")),
        "/conformance": _operation(
            "Conformance classes", common, _json("The conformance classes implemented")
        ),
        "/collections": _operation("Collections", common, _json("The feature collections")),
        "/openapi": _operation("This API definition", common, _json("OpenAPI 3.0 document")),
    }
    for collection in collections:
        path = f"/collections/{collection.id}"
        filters = [
            {
                "name": q.name,
                "in": "query",
                "required": False,
                "description": q.description,
                "schema": q.schema,
                "style": "form",
                "explode": False,
            }
            for q in collection.queryables
        ]
        paths[path] = _operation(collection.title, common, _json("The collection"))
        paths[f"{path}/items"] = _operation(
            f"Features of {collection.id}",
            [*common, _LIMIT, _OFFSET, _BBOX, _datetime(collection), *filters],
            _json("A page of features (GeoJSON FeatureCollection)", GEOJSON),
        )
        feature_id = {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": "The feature's id",
            "schema": {"type": "integer" if collection.numeric_ids else "string"},
        }
        item = _operation(
            f"One feature of {collection.id}",
            [feature_id, *common],
            _json("A GeoJSON Feature", GEOJSON),
        )
        item["get"]["responses"]["404"] = {**_ERROR, "description": "No such feature"}
        paths[f"{path}/items/{{featureId}}"] = item
    return {
        "openapi": "3.0.3",
        "info": {
            "title": TITLE,
            "description": DESCRIPTION,
            "version": "1.0.0",
            "license": {"name": "Apache-2.0 (code); data: see the collection descriptions"},
        },
        "servers": [{"url": base_url}],
        "paths": paths,
    }
