"""OGC API – Features Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), free of Flask.

Like pygeoapi's ``pygeoapi/api``: every resource is a method that takes the parsed request
(:class:`OgcRequest`) and returns an :class:`~mapservice.interop.ApiAnswer`; the blueprint
``mapservice/web/ogcapi.py`` builds the request and renders JSON or HTML.

Every link is absolute and typed: QGIS' OAPIF provider (GDAL) follows only typed links: the
landing page's ``service-desc`` (``application/vnd.oai.openapi+json;version=3.0``) and
``data`` (``application/json``), and ``next`` typed ``application/geo+json`` for paging.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from mapservice.interop import ApiAnswer
from mapservice.interop.ogcapi import params
from mapservice.interop.ogcapi.collections import (
    CRS84,
    Areas,
    Collection,
    Context,
    ItemQuery,
    Offers,
    Sites,
)
from mapservice.interop.ogcapi.planning import Coverage, Gaps
from mapservice.validation import ParameterError

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
COLLECTIONS: tuple[Collection, ...] = (Offers(), Sites(), Areas(), Coverage(), Gaps())
TITLE = "Netzwerk INFamilie – offers for families (OGC API – Features)"
DESCRIPTION = (
    "Offers for families in Dortmund-Nordstadt, their sites and the quarter's sub-districts, "
    "for GIS tools (QGIS, GDAL, OWSLib). Planners signed in also see the coverage grid and "
    "the gap list."
)


@dataclass(frozen=True)
class OgcRequest:
    """A parsed request: the API's absolute root URL (no trailing slash), the query
    arguments, the chosen format (``json``/``html``) and the caller's roles."""

    base_url: str
    args: Mapping[str, str]
    format: str = "json"
    roles: frozenset[str] = field(default_factory=frozenset)
    authenticated: bool = False


def choose_format(requested: str | None, accepted: str | None) -> str:
    """``f`` wins; else the best of the Accept header (JSON when the client takes anything)."""
    if requested:
        if requested in ("json", "geojson"):
            return "json"
        if requested == "html":
            return "html"
        raise ParameterError("f", f"must be json or html, got {requested[:20]!r}")
    return "html" if accepted == HTML else "json"


def link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def error(status: int, code: str, description: str, parameter: str | None = None) -> ApiAnswer:
    body = {"code": code, "description": description}
    if parameter is not None:
        body["parameter"] = parameter
    return ApiAnswer(status, body, {"Content-Type": JSON}, "ogcapi/error.html")


class OgcApi:
    """The resources of the API for one request's database session."""

    def __init__(self, session: Session, context: Context) -> None:
        self.session = session
        self.context = context

    # --- helpers ---------------------------------------------------------------------------

    def _url(self, request: OgcRequest, path: str, **query: Any) -> str:
        query = {k: v for k, v in query.items() if v is not None}
        return request.base_url + path + (f"?{urlencode(query)}" if query else "")

    def _self_links(
        self, request: OgcRequest, path: str, json_type: str, what: str, **query: Any
    ) -> list[dict[str, str]]:
        as_json = link(self._url(request, path, f="json", **query), "self", json_type, what)
        as_html = link(self._url(request, path, f="html", **query), "alternate", HTML, what)
        if request.format == "html":
            as_json["rel"], as_html["rel"] = "alternate", "self"
            return [as_html, as_json]
        return [as_json, as_html]

    def _answer(self, request: OgcRequest, body: Any, media_type: str, template: str) -> ApiAnswer:
        return ApiAnswer(200, body, {"Content-Type": media_type}, template)

    def find(self, request: OgcRequest, collection_id: str) -> Collection | ApiAnswer:
        for collection in COLLECTIONS:
            if collection.id != collection_id:
                continue
            if collection.visible_to(request.roles):
                return collection
            if not request.authenticated:
                return error(401, "Unauthorized", "sign in as a planner to see this collection")
            return error(403, "Forbidden", "this collection is for planners")
        return error(404, "NotFound", f"no collection {collection_id[:60]!r}")

    def visible(self, request: OgcRequest) -> list[Collection]:
        return [c for c in COLLECTIONS if c.visible_to(request.roles)]

    # --- resources -------------------------------------------------------------------------

    def landing(self, request: OgcRequest) -> ApiAnswer:
        params.check_known(request.args, params.COMMON_PARAMETERS)
        links = [
            *self._self_links(request, "/", JSON, "This document"),
            link(self._url(request, "/openapi"), "service-desc", OPENAPI_JSON, "API definition"),
            link(
                self._url(request, "/openapi", f="html"), "service-doc", HTML, "API documentation"
            ),
            link(self._url(request, "/conformance"), "conformance", JSON, "Conformance"),
            link(self._url(request, "/collections"), "data", JSON, "Collections"),
        ]
        body = {"title": TITLE, "description": DESCRIPTION, "links": links}
        return self._answer(request, body, JSON, "ogcapi/landing.html")

    def conformance(self, request: OgcRequest) -> ApiAnswer:
        params.check_known(request.args, params.COMMON_PARAMETERS)
        body = {
            "conformsTo": list(CONFORMANCE),
            "links": self._self_links(request, "/conformance", JSON, "Conformance"),
        }
        return self._answer(request, body, JSON, "ogcapi/conformance.html")

    def describe(self, request: OgcRequest, collection: Collection) -> dict[str, Any]:
        path = f"/collections/{collection.id}"
        return {
            "id": collection.id,
            "title": collection.title,
            "description": collection.description,
            "itemType": "feature",
            "crs": [CRS84],
            "extent": collection.extent(self.session, self.context),
            "links": [
                *self._self_links(request, path, JSON, collection.title),
                link(self._url(request, f"{path}/items", f="json"), "items", GEOJSON, "Features"),
                link(self._url(request, f"{path}/items", f="html"), "items", HTML, "Features"),
            ],
        }

    def collections(self, request: OgcRequest) -> ApiAnswer:
        params.check_known(request.args, params.COMMON_PARAMETERS)
        body = {
            "collections": [self.describe(request, c) for c in self.visible(request)],
            "links": self._self_links(request, "/collections", JSON, "Collections"),
        }
        return self._answer(request, body, JSON, "ogcapi/collections.html")

    def collection(self, request: OgcRequest, collection_id: str) -> ApiAnswer:
        found = self.find(request, collection_id)
        if isinstance(found, ApiAnswer):
            return found
        params.check_known(request.args, params.COMMON_PARAMETERS)
        return self._answer(request, self.describe(request, found), JSON, "ogcapi/collection.html")

    def items(self, request: OgcRequest, collection_id: str) -> ApiAnswer:
        found = self.find(request, collection_id)
        if isinstance(found, ApiAnswer):
            return found
        known = params.ITEMS_PARAMETERS | {q.name for q in found.queryables}
        params.check_known(request.args, known)
        query = ItemQuery(
            limit=params.parse_limit(request.args),
            offset=params.parse_offset(request.args),
            bbox=params.parse_ogc_bbox(request.args),
            interval=params.parse_datetime(request.args),
            args=request.args,
        )
        features, matched = found.page(self.session, query, self.context)
        for feature in features:
            feature["links"] = self._feature_links(request, found, feature["id"], "item")
        kept = {
            k: request.args[k]
            for k in request.args
            if k not in ("f", "offset", "limit") and request.args[k] != ""
        }
        path = f"/collections/{found.id}/items"
        links = [
            *self._self_links(
                request, path, GEOJSON, "This page", limit=query.limit, offset=query.offset, **kept
            ),
            link(self._url(request, f"/collections/{found.id}"), "collection", JSON, found.title),
        ]
        if query.offset + len(features) < matched:
            following = query.offset + query.limit
            links.append(self._page_link(request, path, "next", query.limit, following, kept))
        if query.offset > 0:
            previous = max(0, query.offset - query.limit)
            links.append(self._page_link(request, path, "prev", query.limit, previous, kept))
        body = {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": dt.datetime.now(dt.UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            "links": links,
        }
        answer = self._answer(request, body, GEOJSON, "ogcapi/items.html")
        answer.context["collection"] = found
        return answer

    def _page_link(
        self,
        request: OgcRequest,
        path: str,
        rel: str,
        limit: int,
        offset: int,
        kept: dict[str, str],
    ) -> dict[str, str]:
        fmt = "html" if request.format == "html" else "json"
        media_type = HTML if fmt == "html" else GEOJSON
        title = "Next page" if rel == "next" else "Previous page"
        return link(
            self._url(request, path, f=fmt, limit=limit, offset=offset, **kept),
            rel,
            media_type,
            title,
        )

    def _feature_links(
        self, request: OgcRequest, collection: Collection, feature_id: Any, rel: str
    ) -> list[dict[str, str]]:
        path = f"/collections/{collection.id}/items/{feature_id}"
        if rel == "item":
            return [link(self._url(request, path, f="json"), "self", GEOJSON, "This feature")]
        return [
            *self._self_links(request, path, GEOJSON, "This feature"),
            link(
                self._url(request, f"/collections/{collection.id}"),
                "collection",
                JSON,
                collection.title,
            ),
        ]

    def item(self, request: OgcRequest, collection_id: str, feature_id: str) -> ApiAnswer:
        found = self.find(request, collection_id)
        if isinstance(found, ApiAnswer):
            return found
        params.check_known(request.args, params.COMMON_PARAMETERS)
        if found.numeric_ids and params.parse_feature_id(feature_id) is None:
            feature = None
        else:
            feature = found.feature(self.session, feature_id, self.context)
        if feature is None:
            return error(404, "NotFound", f"no feature {feature_id[:40]!r} in {found.id}")
        feature["links"] = self._feature_links(request, found, feature["id"], "self")
        answer = self._answer(request, feature, GEOJSON, "ogcapi/item.html")
        answer.context["collection"] = found
        return answer
