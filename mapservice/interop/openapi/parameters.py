"""Query parameters shared by several operations of the ``/api`` description."""

from __future__ import annotations

from typing import Any

from mapservice.interop.openapi.spec import query
from mapservice.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS
from mapservice.validation import WALKING_LONGITUDES

AGE_PARAMETERS = (
    query(
        "age_months",
        {"type": "integer", "minimum": 0, "maximum": MAX_AGE_MONTHS - 1},
        "The child's age in months (wins over the other age parameters).",
        example=30,
    ),
    query(
        "age_years",
        {"type": "integer", "minimum": 0, "maximum": MAX_AGE_MONTHS // 12 - 1},
        "The child's age in whole years (with age_extra_months).",
        example=2,
    ),
    query(
        "age_extra_months",
        {"type": "integer", "minimum": 0, "maximum": 11},
        "Months beyond age_years.",
        example=6,
    ),
    query(
        "birth_month",
        {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
        "Birth month YYYY-MM, within the last 18 years and not in the future (else 400).",
        example="2024-05",
    ),
)
CATEGORY = query(
    "category",
    {"type": "array", "items": {"type": "string", "enum": list(CATEGORY_KEYS)}},
    "Categories of the life-phase taxonomy (GET /api/categories), comma-separated.",
    example=["day_care", "kinderstube"],
    explode=False,
)
BBOX = query(
    "bbox",
    {
        "type": "array",
        "prefixItems": [
            {"type": "number", "minimum": -180, "maximum": 180},
            {"type": "number", "minimum": -90, "maximum": 90},
            {"type": "number", "minimum": -180, "maximum": 180},
            {"type": "number", "minimum": -90, "maximum": 90},
        ],
        "minItems": 4,
        "maxItems": 4,
    },
    "west,south,east,north in WGS84 degrees; south ≤ north and west ≤ east, else 400.",
    example=[7.45, 51.51, 7.49, 51.53],
    explode=False,
)
LANGUAGE = query(
    "language",
    {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z]{2}$"}},
    "Offers held in one of these languages (ISO 639-1 codes, comma-separated).",
    example=["tr", "ar"],
    explode=False,
)
FREE = query(
    "free",
    {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]},
    "1: only offers known to be free of charge.",
    example="1",
)
LAT = query(
    "lat",
    {"type": "number", "minimum": -90, "maximum": 90},
    "Latitude (WGS84 degrees) of the family's place.",
    example=51.4700,
    required=True,
)
LON = query(
    "lon",
    {"type": "number", "minimum": WALKING_LONGITUDES[0], "maximum": WALKING_LONGITUDES[1]},
    "Longitude (WGS84 degrees); walking times are computed in EPSG:25832, defined within 60° "
    "of its meridian 9° E.",
    example=7.3670,
    required=True,
)
LIMIT = query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "Features per page (links next/prev lead to the other pages).",
    example=50,
)
OFFSET = query(
    "offset",
    {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    "Features to skip; past the end the page is empty.",
    example=50,
)


def profile_parameter(profiles: list[str]) -> dict[str, Any]:
    return query(
        "profile",
        {"type": "string", "enum": profiles, "default": "adult"},
        "Walking profile (GET /api/walking/profiles).",
        example="pram",
    )
