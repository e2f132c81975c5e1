"""Checking an offer as a form or the write API sends it, field by field.

The JSON shape is the one ``GET /api/offers/<id>`` returns (a Feature or just its
properties): what a client reads it can send back. Fields that describe rather than make
the offer (its id, the site's name and address, the source …) are read-only and ignored;
an unknown field is an error. The importers' field parsers do the checking, so a value an
import accepts the form and the API accept too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mapservice.editing.states import State
from mapservice.importers import records
from mapservice.importers.records import RowInvalid
from mapservice.models import WHEELCHAIR_VALUES

# Read back by GET, not written by PATCH.
READ_ONLY = frozenset(
    {
        "id",
        "category_label",
        "provider",
        "site_name",
        "address",
        "is_anchor",
        "comes_home",
        "is_example",
        "source",
        "last_verified",
        # Which values are the category's general rule: kept by the service, not written
        # (an editor's own value for such a field replaces the rule, see service.py).
        "taxonomy_facts",
        "overdue",
        "etag",
    }
)
# The fields a new offer needs.
REQUIRED = ("title", "category", "age_min_months", "age_max_months")
NEW_SITE_FIELDS = ("name", "lon", "lat", "street", "house_number", "postcode", "city")


def _tri_state(value: Any, name: str) -> bool | None:
    """Yes, no, or not known (empty)."""
    if value is None or value == "":
        return None
    return records.boolean(value, name)


def _site_id(value: Any) -> int:
    result = records.integer(value, "site_id")
    assert result is not None
    return result


def _provider_id(value: Any) -> int | None:
    return records.integer(value, "provider_id", required=False)


def _schedule(value: Any) -> list[dict[str, str | None]]:
    return records.schedule_dicts(records.schedule(value))


def _new_site(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise RowInvalid("new_site must be an object with name, lon and lat")
    unknown = set(value) - set(NEW_SITE_FIELDS)
    if unknown:
        raise RowInvalid(f"unknown new_site field(s) {', '.join(sorted(unknown))}")
    lon, lat = records.coordinates(value.get("lon"), value.get("lat"))
    site: dict[str, Any] = {"name": records.required_text(value.get("name"), "new_site.name")}
    site |= {"lon": round(lon, 7), "lat": round(lat, 7)}
    for key in ("street", "house_number", "postcode", "city"):
        site[key] = records.text(value.get(key), f"new_site.{key}", max_length=200)
    return site


PARSERS: dict[str, Callable[[Any], Any]] = {
    "title": lambda v: records.required_text(v, "title"),
    "description": lambda v: records.text(v, "description", max_length=5000),
    "translations": records.translations,
    "category": records.category,
    "age_min_months": lambda v: records.integer(v, "age_min_months"),
    "age_max_months": lambda v: records.integer(v, "age_max_months"),
    "languages": lambda v: list(records.languages(v)),
    "cost_free": lambda v: _tri_state(v, "cost_free"),
    "cost_text": lambda v: records.text(v, "cost_text"),
    "registration_required": lambda v: _tri_state(v, "registration_required"),
    "contact": lambda v: records.text(v, "contact", max_length=2000),
    "capacity": records.capacity,
    "status": records.status,
    "schedule": _schedule,
    "no_school_holidays": lambda v: records.boolean(v, "no_school_holidays", default=False),
    "site_id": _site_id,
    "provider_id": _provider_id,
    "wheelchair": lambda v: records.choice(v, "wheelchair", WHEELCHAIR_VALUES),
    "new_site": _new_site,
}


@dataclass
class OfferInput:
    """Checked values (only the fields given) and an error per bad field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def properties_of(body: Any) -> Mapping[str, Any]:
    """The offer's fields from a Feature or a plain object; raises ``RowInvalid``."""
    if not isinstance(body, Mapping):
        raise RowInvalid("the body must be a JSON object (an offer or a GeoJSON Feature)")
    if body.get("type") == "Feature":
        properties = body.get("properties")
        if not isinstance(properties, Mapping):
            raise RowInvalid("the Feature has no properties object")
        return properties
    return body


def check_offer(data: Mapping[str, Any], current: State | None = None) -> OfferInput:
    """Check ``data``; with ``current`` (the stored offer) it is a change of that offer and
    only differing values are kept, else a new offer and :data:`REQUIRED` fields must be given.
    """
    result = OfferInput()
    for name, raw in data.items():
        if name in READ_ONLY or name == "type":
            continue
        parser = PARSERS.get(name)
        if parser is None:
            result.errors[name] = f"unknown field {name!r}"
            continue
        try:
            result.values[name] = parser(raw)
        except RowInvalid as exc:
            result.errors[name] = str(exc)
    if current is None:
        for name in REQUIRED:
            if name not in result.values and name not in result.errors:
                result.errors[name] = f"{name} is missing"
        if "site_id" not in data and "new_site" not in data and "site_id" not in result.errors:
            result.errors["site_id"] = "site_id (an existing site) or new_site is needed"
    _check_ages(result, current or {})
    if current is not None:
        result.values = {
            key: value
            for key, value in result.values.items()
            if key in ("wheelchair", "new_site") or current.get(key) != value
        }
    return result


def _check_ages(result: OfferInput, current: Mapping[str, Any]) -> None:
    if "age_min_months" in result.errors or "age_max_months" in result.errors:
        return
    low = result.values.get("age_min_months", current.get("age_min_months"))
    high = result.values.get("age_max_months", current.get("age_max_months"))
    if low is None or high is None:
        return
    try:
        records.age_range(low, high)
    except RowInvalid as exc:
        key = "age_max_months" if "age_max_months" in result.values else "age_min_months"
        result.errors[key] = str(exc)
