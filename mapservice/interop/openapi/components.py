"""Shared pieces of the ``/api`` description: the response and error schemas (JSON Schema
2020-12, OpenAPI 3.1). Parameters: :mod:`.parameters`."""

from __future__ import annotations

from typing import Any

from mapservice.interop.openapi.spec import JSON
from mapservice.models import OFFER_STATUSES, WHEELCHAIR_VALUES
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS

# --- schemas -------------------------------------------------------------------------------

NULLABLE_STRING = {"type": ["string", "null"]}
POINT_OR_AREA = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"enum": ["Point", "Polygon", "MultiPolygon"]},
        "coordinates": {"type": "array"},
    },
}
SOURCE = {
    "type": "object",
    "required": ["dataset", "id"],
    "properties": {"dataset": {"type": "string"}, "id": {"type": "string"}},
}
OFFER_PROPERTIES: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "title",
        "category",
        "age_min_months",
        "age_max_months",
        "languages",
        "cost_free",
        "registration_required",
        "taxonomy_facts",
        "status",
        "schedule",
        "comes_home",
        "is_example",
        "source",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "description": NULLABLE_STRING,
        "category": {"enum": list(CATEGORY_KEYS)},
        "category_label": {"type": "string"},
        "age_min_months": {"type": "integer", "minimum": 0},
        "age_max_months": {"type": "integer", "maximum": MAX_AGE_MONTHS},
        "languages": {"type": "array", "items": {"type": "string"}},
        "cost_free": {
            "type": ["boolean", "null"],
            "description": "null: not known",
        },
        "cost_text": NULLABLE_STRING,
        "registration_required": {"type": ["boolean", "null"], "description": "null: not known"},
        "taxonomy_facts": {
            "type": "array",
            "items": {"enum": ["cost_free", "registration_required"]},
            "description": "Members whose value is the category's general rule in NRW, not "
            "the source's word",
        },
        "contact": NULLABLE_STRING,
        "capacity": {"type": ["integer", "null"], "minimum": 1, "description": "Places"},
        "status": {"enum": list(OFFER_STATUSES)},
        "last_verified": {"type": ["string", "null"], "format": "date"},
        "schedule": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["weekday", "start", "end"],
                "properties": {
                    "weekday": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
                    "start": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
                    "end": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
                    "valid_from": {"type": ["string", "null"], "format": "date"},
                    "valid_to": {"type": ["string", "null"], "format": "date"},
                },
            },
        },
        "no_school_holidays": {"type": "boolean", "description": "true: not in school holidays"},
        "provider": NULLABLE_STRING,
        "provider_id": {"type": ["integer", "null"]},
        "site_id": {"type": ["integer", "null"]},
        "site_name": NULLABLE_STRING,
        "address": NULLABLE_STRING,
        "is_anchor": {"type": "boolean"},
        "wheelchair": {"enum": list(WHEELCHAIR_VALUES)},
        "comes_home": {"type": "boolean", "description": "true: comes to the family's home"},
        "is_example": {"type": "boolean", "description": "true: details are examples"},
        "source": SOURCE,
        "translations": {"type": "object"},
    },
}
WALKING_PROPERTIES: dict[str, Any] = {
    "walking_minutes": {"type": "number", "minimum": 0},
    "walking_seconds": {"type": "number", "minimum": 0},
    "estimated": {"type": "boolean", "description": "true: straight line × detour factor"},
}


def _feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "integer"},
            "geometry": geometry,
            "properties": properties,
        },
    }


def _collection(feature_ref: str, **members: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "features", *members],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": {"$ref": f"#/components/schemas/{feature_ref}"}},
            **members,
        },
    }


ORIGIN = {
    "type": "object",
    "required": ["lat", "lon", "on_network"],
    "properties": {
        "lat": {"type": "number"},
        "lon": {"type": "number"},
        "on_network": {"type": "boolean"},
        "snap_distance_m": {"type": ["number", "null"]},
    },
}
RANGE = {
    "type": "object",
    "required": ["key", "label_de", "label_en", "min_months", "max_months"],
    "properties": {
        "key": {"type": "string"},
        "label_de": {"type": "string"},
        "label_en": {"type": "string"},
        "min_months": {"type": "integer"},
        "max_months": {"type": "integer"},
    },
}
LINK = {
    "type": "object",
    "required": ["href", "rel", "type", "title"],
    "properties": {
        "href": {"type": "string", "format": "uri"},
        "rel": {"enum": ["self", "next", "prev"]},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
# A page of a longer answer (mapservice.paging), as in OGC API - Features.
PAGE_MEMBERS: dict[str, Any] = {
    "numberMatched": {"type": "integer", "minimum": 0, "description": "All that fit"},
    "numberReturned": {"type": "integer", "minimum": 0, "description": "On this page"},
    "links": {"type": "array", "items": LINK},
}
SCHEMAS: dict[str, Any] = {
    "ParameterError": {
        "type": "object",
        "required": ["error", "parameter", "message"],
        "properties": {
            "error": {"const": "invalid parameter"},
            "parameter": {"type": "string", "description": "the parameter at fault"},
            "message": {"type": "string"},
        },
    },
    "HttpError": {
        "type": "object",
        "required": ["error", "message", "status"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "status": {"type": "integer"},
        },
    },
    "OfferFeature": _feature(OFFER_PROPERTIES, POINT_OR_AREA),
    "Offers": _collection("OfferFeature", **PAGE_MEMBERS),
    "ReachableOffer": _feature(
        {
            **OFFER_PROPERTIES,
            "required": [*OFFER_PROPERTIES["required"], *WALKING_PROPERTIES],
            "properties": {**OFFER_PROPERTIES["properties"], **WALKING_PROPERTIES},
        },
        POINT_OR_AREA,
    ),
    "Reachable": _collection(
        "ReachableOffer",
        minutes={"type": "number"},
        profile={"type": "string"},
        speed_kmh={"type": "number"},
        estimated={"type": "boolean"},
        origin=ORIGIN,
    ),
    "SiteFeature": _feature(
        {
            "type": "object",
            "required": ["id", "name", "address", "is_anchor", "wheelchair", "offer_count"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "address": {"type": "string"},
                "is_anchor": {"type": "boolean"},
                "wheelchair": {"enum": list(WHEELCHAIR_VALUES)},
                "subdistrict_code": NULLABLE_STRING,
                "offer_count": {"type": "integer", "minimum": 0},
                "source": SOURCE,
            },
        },
        {**POINT_OR_AREA, "properties": {"type": {"const": "Point"}}},
    ),
    "Sites": _collection("SiteFeature", **PAGE_MEMBERS),
    "Isochrone": {
        "type": "object",
        "required": ["type", "features", "profile", "estimated", "origin"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"const": "Feature"},
                        "geometry": POINT_OR_AREA,
                        "properties": {
                            "type": "object",
                            "required": ["minutes", "estimated"],
                            "properties": {
                                "minutes": {"type": "number"},
                                "estimated": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
            "profile": {"type": "string"},
            "speed_kmh": {"type": "number"},
            "estimated": {"type": "boolean"},
            "origin": ORIGIN,
        },
    },
    "Categories": {
        "type": "object",
        "required": ["categories", "phases"],
        "properties": {
            "categories": {"type": "array", "items": RANGE},
            "phases": {"type": "array", "items": RANGE},
        },
    },
    "Places": {
        "type": "object",
        "required": ["places"],
        "properties": {
            "places": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label", "lat", "lon", "kind"],
                    "properties": {
                        "label": {"type": "string"},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "kind": {"enum": ["site", "address", "street", "area"]},
                        "match": {
                            "enum": ["strong", "weak"],
                            "description": "strong: the one certain answer (first); weak: a "
                            "choice to offer (did you mean …?)",
                        },
                    },
                },
            }
        },
    },
    "Profiles": {
        "type": "object",
        "required": ["profiles", "default", "max_minutes"],
        "properties": {
            "profiles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "speed_kmh", "steps"],
                    "properties": {
                        "key": {"type": "string"},
                        "speed_kmh": {"type": "number"},
                        "steps": {"type": "boolean"},
                        "label_de": {"type": "string"},
                        "label_en": {"type": "string"},
                    },
                },
            },
            "default": {"type": "string"},
            "max_minutes": {"type": "integer"},
            "max_snap_m": {"type": "number"},
            "detour_factor": {"type": "number"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": "ok"}},
    },
    "Ready": {
        "type": "object",
        "required": ["status", "database"],
        "properties": {
            "status": {"enum": ["ok", "unavailable"]},
            "database": {"enum": ["ok", "not answering"]},
        },
    },
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
}


def error_response(description: str, schema: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}, "example": example}
        },
    }


RESPONSES = {
    "BadParameter": error_response(
        "A parameter is missing or out of range; the answer names it.",
        "ParameterError",
        {
            "error": "invalid parameter",
            "parameter": "bbox",
            "message": "latitude 200 is outside -90..90",
        },
    ),
    "NotFound": error_response(
        "No such resource.",
        "HttpError",
        {"error": "not found", "message": "no offer with id 99999", "status": 404},
    ),
    "MethodNotAllowed": error_response(
        "Any other method on a path under /api answers 405 with an Allow header.",
        "HttpError",
        {"error": "method not allowed", "message": "The method is not allowed.", "status": 405},
    ),
}
