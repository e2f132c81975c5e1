"""Describing an API operation next to its view, and assembling the OpenAPI 3.1 document.

A view under ``/api`` carries its own description::

    @bp.get("/offers/<int:offer_id>")
    @describe(
        "One offer",
        parameters=[path_id("offer_id", "The offer's id")],
        responses={200: ok("OfferFeature", GEOJSON), 404: NOT_FOUND},
    )
    def offer(offer_id: int) -> Response: ...

The document is built from the application's routes (``app.url_map``): the path and its
methods come from the route, everything else from the view's :func:`describe`. A route
without a description, or a description of a route that does not exist, is reported by
:func:`assemble` (and fails a test), so the document cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mapservice.validation import DATABASE_ID_MAX

JSON = "application/json"
GEOJSON = "application/geo+json"
METHODS = ("get", "post", "put", "patch", "delete")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str = ""
    parameters: tuple[dict[str, Any], ...] = ()
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    request_body: dict[str, Any] | None = None
    security: tuple[dict[str, list[str]], ...] | None = None
    tags: tuple[str, ...] = ()
    # Per HTTP method, for a view that serves several (e.g. GET and PATCH on one route).
    method: str | None = None

    def as_dict(self, operation_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"operationId": operation_id, "summary": self.summary}
        if self.description:
            body["description"] = self.description
        if self.tags:
            body["tags"] = list(self.tags)
        if self.parameters:
            body["parameters"] = list(self.parameters)
        if self.request_body is not None:
            body["requestBody"] = self.request_body
        if self.security is not None:
            body["security"] = list(self.security)
        body["responses"] = {str(code): value for code, value in self.responses.items()}
        return body


def describe(summary: str, **details: Any) -> Callable[[F], F]:
    """Attach an :class:`Operation` to a view (several for views serving several methods)."""

    def attach(view: F) -> F:
        operations: list[Operation] = list(getattr(view, "__openapi__", ()))
        operations.append(Operation(summary, **_tupled(details)))
        view.__openapi__ = operations  # type: ignore[attr-defined]
        return view

    return attach


def _tupled(details: dict[str, Any]) -> dict[str, Any]:
    for key in ("parameters", "security", "tags"):
        if key in details and details[key] is not None:
            details[key] = tuple(details[key])
    return details


def operations_of(view: Callable[..., Any]) -> list[Operation]:
    return list(getattr(view, "__openapi__", ()))


# --- parameters and responses --------------------------------------------------------------


def query(
    name: str,
    schema: dict[str, Any],
    description: str,
    *,
    example: Any = None,
    required: bool = False,
    explode: bool | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }
    if explode is not None:
        body["style"] = "form"
        body["explode"] = explode
    if example is not None:
        body["example"] = example
    return body


def path_id(name: str, description: str, example: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 1, "maximum": DATABASE_ID_MAX},
        "example": example,
    }


def header(
    name: str, schema: dict[str, Any], description: str, *, required: bool = False
) -> dict[str, Any]:
    """A request header parameter (e.g. ``If-Match``)."""
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": schema,
    }


def ok(
    schema: str,
    media_type: str = JSON,
    description: str = "OK",
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A response with a body of ``schema`` and the named ``headers`` (name → meaning)."""
    body: dict[str, Any] = {
        "description": description,
        "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        body["headers"] = {
            name: {"description": meaning, "schema": {"type": "string"}}
            for name, meaning in headers.items()
        }
    return body


def json_body(
    schema: str, description: str, example: dict[str, Any], media_types: Iterable[str] = (JSON,)
) -> dict[str, Any]:
    """A required JSON request body of ``schema``."""
    reference = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "required": True,
        "description": description,
        "content": {
            media_type: {"schema": reference, "example": example} for media_type in media_types
        },
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{name}"}


BAD_PARAMETER = ref("BadParameter")
NOT_FOUND = ref("NotFound")
# ``Authorization: Bearer <token>`` (components.securitySchemes in the package).
BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (mapservice create-token EMAIL); without a "
        "valid one the answer is 401 with WWW-Authenticate: Bearer.",
    }
}


# --- assembly ------------------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def openapi_path(rule: str) -> str:
    """``/api/offers/<int:offer_id>`` → ``/api/offers/{offer_id}``."""
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


@dataclass(frozen=True)
class Route:
    """A route of the application: its rule, methods and view."""

    rule: str
    methods: frozenset[str]
    endpoint: str
    view: Callable[..., Any]


@dataclass
class Assembly:
    paths: dict[str, dict[str, Any]]
    undocumented: list[str]  # "GET /api/…" served but not described
    unserved: list[str]  # described for a method the route does not serve


def assemble(routes: Iterable[Route]) -> Assembly:
    paths: dict[str, dict[str, Any]] = {}
    undocumented: list[str] = []
    unserved: list[str] = []
    for route in sorted(routes, key=lambda r: r.rule):
        methods = sorted(m.lower() for m in route.methods if m.lower() in METHODS)
        described = operations_of(route.view)
        path = openapi_path(route.rule)
        for method in methods:
            matching = [op for op in described if op.method in (None, method)]
            if not matching:
                undocumented.append(f"{method.upper()} {route.rule}")
                continue
            operation_id = f"{route.endpoint.replace('.', '_')}_{method}"
            paths.setdefault(path, {})[method] = matching[0].as_dict(operation_id)
        for op in described:
            if op.method is not None and op.method not in methods:
                unserved.append(f"{op.method.upper()} {route.rule}")
    return Assembly(paths, undocumented, unserved)
