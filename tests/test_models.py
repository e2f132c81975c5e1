"""The database itself refuses impossible offers, sites and schedule slots."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mapservice.models import Offer, Provider, ScheduleSlot, Site


def make_site(db_session: Session, **changes: Any) -> Site:
    values: dict[str, Any] = {
        "name": "Testort",
        "geom": from_shape(Point(7.4716, 51.5217), srid=4326),
        "source_dataset": "test-models",
        "source_id": "site-1",
        "is_anchor": False,
        "wheelchair": "unknown",
        "location_approximate": False,
    }
    site = Site(**(values | changes))
    db_session.add(site)
    db_session.flush()
    return site


def offer_values(site: Site | None, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Testangebot",
        "category": "parents_cafe",
        "age_min_months": 24,
        "age_max_months": 72,
        "languages": ["de"],
        "cost_free": True,
        "registration_required": False,
        "status": "active",
        "translations": {},
        "is_example": False,
        # The id, not the relationship: a refused offer must not linger in site.offers.
        "site_id": site.id if site else None,
        "source_dataset": "test-models",
        "source_id": "offer-1",
    }
    return values | changes


def constraint_violated(db_session: Session, record: Any) -> str:
    """Flush ``record`` in a savepoint; return the name of the check that refused it."""
    with pytest.raises(IntegrityError) as excinfo, db_session.begin_nested():
        db_session.add(record)
        db_session.flush()
    return excinfo.value.orig.diag.constraint_name  # type: ignore[union-attr]


def test_a_valid_offer_is_stored(db_session: Session) -> None:
    site = make_site(db_session)
    offer = Offer(**offer_values(site))
    offer.schedule = [ScheduleSlot(weekday=4, start_time=dt.time(9), end_time=dt.time(11))]
    db_session.add(offer)
    db_session.flush()
    assert offer.id is not None
    assert offer.schedule[0].id is not None


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"age_min_months": 24, "age_max_months": 24}, "offer_age_range"),
        ({"age_min_months": 48, "age_max_months": 24}, "offer_age_range"),
        ({"age_min_months": 0, "age_max_months": 217}, "offer_age_range"),
        ({"age_min_months": -1, "age_max_months": 12}, "offer_age_range"),
        ({"category": "disco"}, "offer_category"),
        ({"status": "deleted"}, "offer_status"),
        ({"capacity": 0}, "offer_capacity_positive"),
    ],
)
def test_offer_checks(db_session: Session, changes: dict[str, Any], constraint: str) -> None:
    site = make_site(db_session)
    assert constraint_violated(db_session, Offer(**offer_values(site, **changes))) == constraint


def test_offer_needs_a_site_or_a_service_area(db_session: Session) -> None:
    assert (
        constraint_violated(db_session, Offer(**offer_values(None))) == "offer_site_or_service_area"
    )
    area = MultiPolygon([Polygon([(7.46, 51.51), (7.48, 51.51), (7.48, 51.53), (7.46, 51.51)])])
    home_visit = Offer(**offer_values(None, service_area=from_shape(area, srid=4326)))
    db_session.add(home_visit)
    db_session.flush()
    assert home_visit.id is not None


def test_site_wheelchair_values(db_session: Session) -> None:
    site = Site(
        name="Rampe?",
        geom=from_shape(Point(7.47, 51.52), srid=4326),
        source_dataset="test-models",
        source_id="site-wheelchair",
        is_anchor=False,
        wheelchair="maybe",
        location_approximate=False,
    )
    assert constraint_violated(db_session, site) == "site_wheelchair"


def test_site_source_key_is_unique(db_session: Session) -> None:
    make_site(db_session)
    twin = Site(
        name="Zwilling",
        geom=from_shape(Point(7.47, 51.52), srid=4326),
        source_dataset="test-models",
        source_id="site-1",
        is_anchor=False,
        wheelchair="unknown",
        location_approximate=False,
    )
    assert constraint_violated(db_session, twin) == "site_source"


def test_provider_kind(db_session: Session) -> None:
    assert constraint_violated(db_session, Provider(name="X", kind="secret")) == "provider_kind"


@pytest.mark.parametrize(
    ("slot", "constraint"),
    [
        ({"weekday": 7, "start_time": dt.time(9), "end_time": dt.time(10)}, "slot_weekday"),
        ({"weekday": 0, "start_time": dt.time(11), "end_time": dt.time(10)}, "slot_times"),
        ({"weekday": 0, "start_time": dt.time(10), "end_time": dt.time(10)}, "slot_times"),
        (
            {
                "weekday": 0,
                "start_time": dt.time(9),
                "end_time": dt.time(10),
                "valid_from": dt.date(2025, 6, 1),
                "valid_to": dt.date(2025, 5, 1),
            },
            "slot_validity",
        ),
    ],
)
def test_schedule_slot_checks(db_session: Session, slot: dict[str, Any], constraint: str) -> None:
    site = make_site(db_session)
    offer = Offer(**offer_values(site))
    db_session.add(offer)
    db_session.flush()
    assert constraint_violated(db_session, ScheduleSlot(offer_id=offer.id, **slot)) == constraint
