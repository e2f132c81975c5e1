"""Schemas and responses of the write API (``mapservice/web/write_api.py``, issue 10).

The request body is the offer as ``GET /api/offers/<id>`` returns it (a Feature or its
properties): read-only members are ignored, an unknown member is a 400 naming it. The
writable members and their limits follow :mod:`mapservice.editing.offer_input`.
"""

from __future__ import annotations

from typing import Any

from mapservice.interop.openapi.components import NULLABLE_STRING, OFFER_PROPERTIES, error_response
from mapservice.models import OFFER_STATUSES, PROPOSAL_STATUSES, REVISION_ACTIONS, WHEELCHAIR_VALUES
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS
from mapservice.validation import DATABASE_ID_MAX

_ID = {"type": "integer", "minimum": 1, "maximum": DATABASE_ID_MAX}
_AGE = {"type": "integer", "minimum": 0, "maximum": MAX_AGE_MONTHS}
_LANGUAGE_CODE = {"type": "string", "pattern": "^[a-z]{2}$"}
_TIMESTAMP = {"type": "string", "format": "date-time"}


def _text(max_length: int, *, nullable: bool = True) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "maxLength": max_length}


OFFER_INPUT_PROPERTIES: dict[str, Any] = {
    "title": {**_text(300, nullable=False), "minLength": 1},
    "description": _text(5000),
    "translations": {
        "type": "object",
        "description": "Per ISO 639-1 language code: title and/or description.",
        "propertyNames": {"pattern": "^[a-z]{2}$"},
        "additionalProperties": {
            "type": "object",
            "properties": {"title": _text(5000), "description": _text(5000)},
            "additionalProperties": False,
        },
    },
    "category": {"enum": list(CATEGORY_KEYS)},
    "age_min_months": _AGE,
    "age_max_months": _AGE,
    "languages": {"type": "array", "items": _LANGUAGE_CODE},
    "cost_free": {"type": ["boolean", "null"], "description": "null: not known"},
    "cost_text": _text(300),
    "registration_required": {"type": ["boolean", "null"], "description": "null: not known"},
    "contact": _text(2000),
    "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": DATABASE_ID_MAX},
    "status": {"enum": list(OFFER_STATUSES)},
    "schedule": OFFER_PROPERTIES["properties"]["schedule"],
    "no_school_holidays": {"type": "boolean"},
    "site_id": {**_ID, "description": "An existing site (or new_site)."},
    "provider_id": {**_ID, "type": ["integer", "null"]},
    "wheelchair": {"enum": list(WHEELCHAIR_VALUES)},
    "new_site": {
        "type": "object",
        "description": "A site to create with the offer (instead of site_id).",
        "required": ["name", "lon", "lat"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 300},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            **{key: _text(200) for key in ("street", "house_number", "postcode", "city")},
        },
        "additionalProperties": False,
    },
}
OFFER_INPUT: dict[str, Any] = {
    "type": "object",
    "description": "The writable members of an offer; a new offer needs title, category, "
    "age_min_months, age_max_months and site_id or new_site. Members GET returns but "
    "nobody writes (id, provider, site_name, address, source, …) are ignored; any other "
    "member is a 400 naming it.",
    "properties": OFFER_INPUT_PROPERTIES,
}
PROPOSAL = {
    "type": "object",
    "required": ["id", "status", "offer_id", "provider_id", "data", "reason", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": list(PROPOSAL_STATUSES)},
        "entity": {"enum": ["offer", "provider"], "description": "what the proposal changes"},
        "offer_id": {"type": ["integer", "null"], "description": "null: a proposed new offer"},
        "provider_id": {"type": "integer"},
        "data": {"type": "object", "description": "The proposed values"},
        "reason": {**NULLABLE_STRING, "description": "Why it was declined"},
        "created_at": _TIMESTAMP,
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
SCHEMAS: dict[str, Any] = {
    "OfferInput": OFFER_INPUT,
    "OfferFeatureInput": {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "properties": {"$ref": "#/components/schemas/OfferInput"},
        },
    },
    "OfferWrite": {
        "anyOf": [
            {"$ref": "#/components/schemas/OfferFeatureInput"},
            {"$ref": "#/components/schemas/OfferInput"},
        ]
    },
    "Proposal": PROPOSAL,
    "Decline": {
        "type": "object",
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
    },
    "ProposalAnswer": {
        "type": "object",
        "required": ["proposal"],
        "properties": {"proposal": {"$ref": "#/components/schemas/Proposal"}},
    },
    "History": {
        "type": "object",
        "required": ["offer_id", "revisions"],
        "properties": {
            "offer_id": {"type": "integer"},
            "revisions": {
                "type": "array",
                "description": "Newest first",
                "items": {
                    "type": "object",
                    "required": ["id", "action", "author", "created_at", "changes"],
                    "properties": {
                        "id": {"type": "integer"},
                        "action": {"enum": list(REVISION_ACTIONS)},
                        "author": {"type": "string"},
                        "created_at": _TIMESTAMP,
                        "changes": {"type": "object"},
                    },
                },
            },
        },
    },
    "WriteError": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "OfferError": {
        "type": "object",
        "required": ["error", "parameter", "message", "errors"],
        "properties": {
            "error": {"const": "invalid offer"},
            "parameter": {"type": "string", "description": "the first member at fault"},
            "message": {"type": "string"},
            "errors": {
                "type": "object",
                "description": "member → what is wrong with it",
                "additionalProperties": {"type": "string"},
            },
        },
    },
}
RESPONSES = {
    "InvalidOffer": error_response(
        "The offer is not valid; nothing was written. Every member at fault is named.",
        "OfferError",
        {
            "error": "invalid offer",
            "parameter": "age_max_months",
            "message": "age_max_months must not be below age_min_months",
            "errors": {"age_max_months": "age_max_months must not be below age_min_months"},
        },
    ),
    "BodyTooLarge": error_response(
        "The JSON body is over MAPSERVICE_MAX_JSON_BODY bytes (256 KB by default); nothing was "
        "written.",
        "OfferError",
        {
            "error": "request entity too large",
            "parameter": "body",
            "message": "body must be at most 262144 bytes of JSON",
            "errors": {"body": "body must be at most 262144 bytes of JSON"},
        },
    ),
    "Unauthorized": {
        **error_response(
            "No valid token: send Authorization: Bearer <token>.",
            "WriteError",
            {"error": "unauthorized", "message": "send Authorization: Bearer <token>"},
        ),
        "headers": {
            "WWW-Authenticate": {
                "description": 'Bearer realm="mapservice"',
                "schema": {"type": "string"},
            }
        },
    },
    "Forbidden": error_response(
        "The token's account may not do this (e.g. another provider's offer).",
        "WriteError",
        {"error": "forbidden", "message": "not allowed for this provider"},
    ),
    "WriteNotFound": error_response(
        "No such offer or proposal.",
        "WriteError",
        {"error": "not found", "message": "no offer with id 99999"},
    ),
    "Conflict": error_response(
        "The change is refused in the offer's current state (e.g. a proposal already decided).",
        "WriteError",
        {"error": "conflict", "message": "the proposal was already decided"},
    ),
    "PreconditionFailed": error_response(
        "If-Match does not match: the offer changed since it was read.",
        "WriteError",
        {
            "error": "precondition failed",
            "message": "the offer changed; GET it again and reapply your change",
        },
    ),
}
