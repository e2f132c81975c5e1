"""Offers, sites and providers as plain JSON values: what a revision compares, what an
ETag is made of, and what a restore writes back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import Point

from mapservice.models import Offer, Provider, Site
from mapservice.queries import schedule_rows

OFFER_FIELDS = (
    "title",
    "description",
    "translations",
    "category",
    "age_min_months",
    "age_max_months",
    "languages",
    "cost_free",
    "cost_text",
    "registration_required",
    "contact",
    "capacity",
    "status",
    "schedule",
    "no_school_holidays",
    "site_id",
    "provider_id",
    "last_verified",
    "is_example",
)
SITE_FIELDS = (
    "name",
    "street",
    "house_number",
    "postcode",
    "city",
    "wheelchair",
    "is_anchor",
    "location_approximate",
    "location",
)
PROVIDER_FIELDS = ("name", "kind", "contact", "website", "trusted")

State = dict[str, Any]


def offer_state(offer: Offer) -> State:
    """The offer's own fields (the site and provider by id)."""
    site_id = offer.site.id if offer.site is not None else offer.site_id
    provider_id = offer.provider.id if offer.provider is not None else offer.provider_id
    return {
        "title": offer.title,
        "description": offer.description,
        "translations": json.loads(json.dumps(offer.translations or {})),
        "category": offer.category,
        "age_min_months": offer.age_min_months,
        "age_max_months": offer.age_max_months,
        "languages": list(offer.languages or []),
        "cost_free": offer.cost_free,
        "cost_text": offer.cost_text,
        "registration_required": offer.registration_required,
        "contact": offer.contact,
        "capacity": offer.capacity,
        "status": offer.status,
        "schedule": schedule_rows(offer.schedule),
        "no_school_holidays": bool(offer.no_school_holidays),
        "site_id": site_id,
        "provider_id": provider_id,
        "last_verified": offer.last_verified.isoformat() if offer.last_verified else None,
        "is_example": bool(offer.is_example),
    }


def site_state(site: Site) -> State:
    point = to_shape(site.geom) if site.geom is not None else None
    assert point is None or isinstance(point, Point)
    return {
        "name": site.name,
        "street": site.street,
        "house_number": site.house_number,
        "postcode": site.postcode,
        "city": site.city,
        "wheelchair": site.wheelchair,
        "is_anchor": bool(site.is_anchor),
        "location_approximate": bool(site.location_approximate),
        # Rounded to about 1 cm, so that float noise is not a change.
        "location": [round(point.x, 7), round(point.y, 7)] if point is not None else None,
    }


def provider_state(provider: Provider) -> State:
    return {
        "name": provider.name,
        "kind": provider.kind,
        "contact": provider.contact,
        "website": provider.website,
        "trusted": bool(provider.trusted),
    }


def diff(before: State, after: State) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value differs."""
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


def offer_etag(offer: Offer) -> str:
    """Changes whenever anything an API client reads of the offer changes."""
    state = offer_state(offer)
    state["wheelchair"] = offer.site.wheelchair if offer.site is not None else None
    encoded = json.dumps(state, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def provider_etag(provider: Provider) -> str:
    """Changes whenever the provider's own fields change."""
    encoded = json.dumps(provider_state(provider), sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]
