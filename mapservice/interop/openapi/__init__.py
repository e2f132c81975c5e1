"""The OpenAPI 3.1 description of everything under ``/api`` (see :mod:`.spec`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mapservice.interop.openapi import writing
from mapservice.interop.openapi.components import RESPONSES, SCHEMAS
from mapservice.interop.openapi.spec import SECURITY_SCHEMES, Assembly, Route, assemble, ref

TITLE = "mapservice API"
DESCRIPTION = (
    "Offers for families reachable on foot, by the child's age (Netzwerk INFamilie, "
    "Dortmund-Nordstadt). GeoJSON answers follow RFC 7946 (WGS84). A bad parameter answers "
    "400 with {error, parameter, message} naming it; an unknown path 404 and another method "
    "405 (with Allow), both as JSON {error, message, status}. Unknown query parameters are "
    "ignored. Facts that are not known (cost, registration) are null, never false. "
    "Writes (POST, PATCH) need Authorization: Bearer <token>; GET /api/offers/{offer_id} "
    "sends an ETag to put in If-Match."
)


def build_document(routes: Iterable[Route], version: str) -> tuple[dict[str, Any], Assembly]:
    """The document for ``routes`` (those under /api) and what could not be matched."""
    assembly = assemble(routes)
    for operations in assembly.paths.values():
        for operation in operations.values():
            operation["responses"].setdefault("405", ref("MethodNotAllowed"))
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": version,
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "paths": assembly.paths,
        "components": {
            "schemas": SCHEMAS | writing.SCHEMAS,
            "responses": RESPONSES | writing.RESPONSES,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    return document, assembly
