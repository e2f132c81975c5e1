"""The reach API takes offers from an in-memory snapshot keyed by the data version: it must
answer exactly as the database does, see changes at once, and never serve rolled-back data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mapservice.importers.default_network import SOURCE_DATASET
from mapservice.models import Offer, Site
from mapservice.queries import OfferFilter
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.reach import reach_geojson, reachable_geojson, reachable_offers

HOME = (7.3670, 51.4700)  # lon, lat: a street in Witten-Stockum
NORDSTADT = (7.4727, 51.5253)  # on the Dortmund network: routed times
OFF_NETWORK = (7.4400, 51.4700)  # Hombruch: no network loaded there, estimated
SETTINGS = WalkSettings()


def both_ways(session: Session, where: tuple[float, float], criteria: OfferFilter) -> tuple:
    profile = SETTINGS.profiles["adult"]
    fast = reachable_geojson(session, *where, 20, profile, criteria, SETTINGS)
    slow = reach_geojson(
        reachable_offers(session, *where, 20, profile, criteria, SETTINGS), 20, profile
    )
    return fast, slow


@pytest.mark.parametrize("where", [HOME, NORDSTADT, OFF_NETWORK])
@pytest.mark.parametrize(
    "criteria",
    [
        OfferFilter(),
        OfferFilter(age_months=30),
        OfferFilter(age_months=3, categories=("day_care", "baby_parent_meetup")),
        OfferFilter(categories=("playground",), free_only=True),
        OfferFilter(languages=("tr",)),
        OfferFilter(age_months=215),
    ],
)
def test_snapshot_answers_like_the_database(db_session, where, criteria):
    fast, slow = both_ways(db_session, where, criteria)
    assert fast == slow


def test_reach_has_offers_at_home_and_in_the_nordstadt(db_session):
    at_home, _ = both_ways(db_session, HOME, OfferFilter())
    nordstadt, _ = both_ways(db_session, NORDSTADT, OfferFilter())
    off_network, _ = both_ways(db_session, OFF_NETWORK, OfferFilter())
    assert at_home["features"] and not at_home["estimated"]
    assert nordstadt["features"] and not nordstadt["estimated"]
    assert off_network["estimated"]


def test_a_changed_offer_shows_at_once(client, db_session):
    site = db_session.scalar(select(Site).where(Site.source_dataset == SOURCE_DATASET))
    offer = site.offers[0]
    params: dict[str, Any] = {"lat": site_lat(db_session, site), "lon": site_lon(db_session, site)}
    before = client.get("/api/reachable", query_string=params).get_json()
    assert offer.id in ids(before)
    offer.title = "Neuer Name der Kita"
    db_session.flush()
    after = client.get("/api/reachable", query_string=params).get_json()
    assert titles(after)[offer.id] == "Neuer Name der Kita"
    offer.status = "paused"
    db_session.flush()
    paused = client.get("/api/reachable", query_string=params).get_json()
    assert offer.id not in ids(paused)


def test_rolled_back_changes_are_never_served(engine: Engine):
    """A version seen by a rolled-back transaction is never seen again by another one."""
    profile = SETTINGS.profiles["adult"]
    with Session(engine) as first, first.begin():
        offer = first.scalar(
            select(Offer).join(Site).where(Site.source_dataset == SOURCE_DATASET).limit(1)
        )
        offer_id, original = offer.id, offer.title
        offer.title = "Nur in einer zurückgerollten Transaktion"
        first.flush()
        seen = reachable_geojson(first, *HOME, 20, profile, OfferFilter(), SETTINGS)
        assert "Nur in einer zurückgerollten Transaktion" in titles(seen).values()
        first.rollback()
    with Session(engine) as second, second.begin():
        # Another change after the rollback must not reuse the rolled-back version.
        other = second.get(Offer, offer_id)
        other.description = (other.description or "") + " "
        second.flush()
        again = reachable_geojson(second, *HOME, 20, profile, OfferFilter(), SETTINGS)
        assert titles(again)[offer_id] == original
        second.rollback()


def ids(collection: dict[str, Any]) -> list[int]:
    return [feature["id"] for feature in collection["features"]]


def titles(collection: dict[str, Any]) -> dict[int, str]:
    return {feature["id"]: feature["properties"]["title"] for feature in collection["features"]}


def site_lon(session: Session, site: Site) -> float:
    return session.scalar(select(Site.geom.ST_X()).where(Site.id == site.id))


def site_lat(session: Session, site: Site) -> float:
    return session.scalar(select(Site.geom.ST_Y()).where(Site.id == site.id))


# --- the family page's records (detached ORM offers) -----------------------------------


def family_answers(session: Session, query: Any) -> tuple[Any, Any]:
    from mapservice.data_cache import data_version
    from mapservice.family.search import find_for_family
    from mapservice.offer_snapshot import offer_records

    records = offer_records(session, data_version(session))
    return (
        find_for_family(session, query, SETTINGS, records),
        find_for_family(session, query, SETTINGS),
    )


def answer_rows(answer: Any) -> list[tuple]:
    return [(i.offer.id, i.minutes, i.estimated, i.comes_home) for i in answer.items]


@pytest.mark.parametrize("where", [None, HOME, NORDSTADT, OFF_NETWORK])
@pytest.mark.parametrize(
    "criteria",
    [
        OfferFilter(),
        OfferFilter(age_months=30),
        OfferFilter(age_months=3, categories=("day_care", "baby_parent_meetup")),
        OfferFilter(categories=("playground",), free_only=True),
        OfferFilter(languages=("tr", "ar")),
    ],
)
@pytest.mark.parametrize(("shown", "start"), [(25, 0), (7, 7), (None, 0), (25, 10_000)])
def test_family_records_answer_like_the_database(db_session, where, criteria, shown, start):
    from mapservice.family.query import FamilyQuery, Location

    location = Location(where[1], where[0], "") if where else None
    query = FamilyQuery(criteria, location, minutes=20, shown=shown, start=start)
    fast, slow = family_answers(db_session, query)
    assert answer_rows(fast) == answer_rows(slow)
    assert (fast.total, fast.next_offer, fast.located, fast.estimated, fast.start) == (
        slow.total,
        slow.next_offer,
        slow.located,
        slow.estimated,
        slow.start,
    )


def test_family_records_list_home_visits_where_their_area_holds_the_home(db_session):
    from mapservice.family.query import FamilyQuery, Location

    visits = db_session.scalars(
        select(Offer).where(Offer.site_id.is_(None), Offer.status == "active")
    ).all()
    assert visits, "the bundled data has offers that come to the family's home"
    for where in (HOME, NORDSTADT, OFF_NETWORK):
        query = FamilyQuery(OfferFilter(), Location(where[1], where[0], ""), minutes=5)
        fast, slow = family_answers(db_session, query)
        home = [i.offer.id for i in fast.items if i.comes_home]
        assert home == [i.offer.id for i in slow.items if i.comes_home]
