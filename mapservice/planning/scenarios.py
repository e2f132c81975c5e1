"""Planners' scenarios: hypothetical offers kept apart from the public map. Free of Flask.

Input comes as a mapping of strings or JSON values; every problem raises
:class:`~mapservice.validation.ParameterError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mapservice.models import WGS84, HypotheticalOffer, Offer, Scenario, User
from mapservice.taxonomy import CATEGORY_KEYS, MAX_AGE_MONTHS, categories
from mapservice.validation import ParameterError

MAX_CHANGES = 200


def _text(data: Mapping[str, Any], name: str, *, required: bool, max_length: int) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise ParameterError(name, "is required")
    if len(value) > max_length:
        raise ParameterError(name, f"must have at most {max_length} characters")
    return value


def _number(
    data: Mapping[str, Any], name: str, low: float, high: float, *, whole: bool = False
) -> float | None:
    raw = data.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ParameterError(name, f"must be a number, got {str(raw)[:30]!r}") from None
    if whole and not value.is_integer():
        raise ParameterError(name, "must be a whole number")
    if not low <= value <= high:
        raise ParameterError(name, f"must be between {low:g} and {high:g}")
    return value


def owned_scenarios(session: Session, user: User) -> list[Scenario]:
    return list(
        session.scalars(
            select(Scenario)
            .where(Scenario.owner_id == user.id)
            .options(selectinload(Scenario.changes))
            .order_by(Scenario.updated_at.desc(), Scenario.id.desc())
        )
    )


def get_owned(session: Session, user: User, scenario_id: int) -> Scenario | None:
    """The scenario if ``user`` owns it (others' scenarios are invisible, like missing ones)."""
    scenario = session.get(Scenario, scenario_id)
    return scenario if scenario is not None and scenario.owner_id == user.id else None


def create_scenario(session: Session, user: User, data: Mapping[str, Any]) -> Scenario:
    name = _text(data, "name", required=True, max_length=200)
    area = _text(data, "area", required=False, max_length=80) or "quarter"
    taken = session.scalar(
        select(Scenario.id).where(Scenario.owner_id == user.id, Scenario.name == name)
    )
    if taken is not None:
        raise ParameterError("name", "you have a scenario with this name already")
    scenario = Scenario(owner_id=user.id, name=name, area_key=area)
    session.add(scenario)
    session.flush()
    return scenario


def _point(data: Mapping[str, Any]) -> Any:
    lat = _number(data, "lat", -90, 90)
    lon = _number(data, "lon", -180, 180)
    if lat is None or lon is None:
        raise ParameterError("lat" if lat is None else "lon", "is required for a placed offer")
    return from_shape(Point(lon, lat), srid=WGS84)


def add_change(session: Session, scenario: Scenario, data: Mapping[str, Any]) -> HypotheticalOffer:
    """Add a hypothetical offer (``add``), or move/remove a real one (``move``/``remove``)."""
    if len(scenario.changes) >= MAX_CHANGES:
        raise ParameterError("action", f"a scenario holds at most {MAX_CHANGES} changes")
    action = _text(data, "action", required=False, max_length=10) or "add"
    if action not in ("add", "move", "remove"):
        raise ParameterError("action", "must be add, move or remove")
    change = HypotheticalOffer(scenario=scenario, action=action)
    change.label = _text(data, "label", required=False, max_length=200)
    if action == "add":
        category = _text(data, "category", required=True, max_length=40)
        if category not in CATEGORY_KEYS:
            raise ParameterError("category", f"unknown category {category[:40]!r}")
        usual = categories()[category]
        low = _number(data, "age_min_months", 0, MAX_AGE_MONTHS - 1, whole=True)
        high = _number(data, "age_max_months", 1, MAX_AGE_MONTHS, whole=True)
        change.category = category
        change.age_min_months = int(usual.min_months if low is None else low)
        change.age_max_months = int(usual.max_months if high is None else high)
        if change.age_min_months >= change.age_max_months:
            raise ParameterError("age_max_months", "must be greater than age_min_months")
        capacity = _number(data, "capacity", 1, 100_000, whole=True)
        change.capacity = None if capacity is None else int(capacity)
        change.geom = _point(data)
    else:
        offer_id = _number(data, "replaces_offer_id", 1, 2**31 - 1, whole=True)
        if offer_id is None:
            raise ParameterError("replaces_offer_id", f"is required to {action} an offer")
        offer = session.get(Offer, int(offer_id))
        if offer is None or offer.status != "active":
            raise ParameterError("replaces_offer_id", "no active offer with this id")
        change.replaces_offer_id = offer.id
        change.category = offer.category
        change.age_min_months = offer.age_min_months
        change.age_max_months = offer.age_max_months
        change.capacity = offer.capacity
        change.label = change.label or offer.title[:200]
        change.geom = _point(data) if action == "move" else None
    session.add(change)
    session.flush()
    return change


def move_change(
    session: Session, change: HypotheticalOffer, data: Mapping[str, Any]
) -> HypotheticalOffer:
    """Place an added or moved offer elsewhere."""
    if change.action == "remove":
        raise ParameterError("action", "a removed offer has no place to move")
    change.geom = _point(data)
    session.flush()
    return change


def change_dict(change: HypotheticalOffer) -> dict[str, Any]:
    point = to_shape(change.geom) if change.geom is not None else None
    return {
        "id": change.id,
        "action": change.action,
        "label": change.label,
        "category": change.category,
        "age_min_months": change.age_min_months,
        "age_max_months": change.age_max_months,
        "capacity": change.capacity,
        "replaces_offer_id": change.replaces_offer_id,
        "lat": None if point is None else round(point.y, 7),  # type: ignore[attr-defined]
        "lon": None if point is None else round(point.x, 7),  # type: ignore[attr-defined]
    }


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "name": scenario.name,
        "area": scenario.area_key,
        "changes": [change_dict(change) for change in scenario.changes],
    }
