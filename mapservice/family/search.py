"""The family's answer: the offers that fit, the ones reachable on foot nearest first when a
place is given (from the database or the in-memory offers), one page of them at a time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from mapservice import queries
from mapservice.family.query import FamilyQuery
from mapservice.models import Offer
from mapservice.offer_snapshot import OfferRecords
from mapservice.offer_snapshot import answers as records_answer
from mapservice.validation import BBox
from mapservice.walking.profiles import WalkSettings
from mapservice.walking.reach import reachable_offers, site_times


@dataclass(frozen=True)
class Listed:
    """An offer in the answer; ``minutes`` on foot when a place was given."""

    offer: Offer
    minutes: float | None = None
    estimated: bool = False
    comes_home: bool = False


@dataclass(frozen=True)
class FamilyAnswer:
    """``items``: the offers listed (at most ``query.shown``, from the ``start``-th of all
    that fit, 0 first), ``total``: all that fit; ``next_offer``: the id of the first offer
    after them (where the next page starts)."""

    items: list[Listed] = field(default_factory=list)
    located: bool = False
    estimated: bool = False
    total: int = 0
    next_offer: int | None = None
    start: int = 0

    @property
    def more(self) -> int:
        """How many fitting offers follow the listed ones."""
        return max(0, self.total - self.start - len(self.items))


def find_for_family(
    session: Session,
    query: FamilyQuery,
    settings: WalkSettings,
    records: OfferRecords | None = None,
) -> FamilyAnswer:
    """The offers that fit; reachable ones nearest first when a place is given.

    ``records``: the data version's offers in memory (:mod:`mapservice.offer_snapshot`),
    used where they can answer the filter (not for weekday or time of day), so the answer
    costs the walking times' one statement and no loading of offers.

    Raises ``ParameterError`` (``lat``) when the walking engine refuses the point.
    """
    if records is not None and records_answer(query.criteria):
        return _from_records(session, query, settings, records)
    if query.location is None:
        if query.shown is None:
            offers = queries.find_offers(session, query.criteria)
            return FamilyAnswer([Listed(o, comes_home=o.site is None) for o in offers])
        # One more than shown: where the next page starts.
        total, offers = queries.find_offers_page(
            session, query.criteria, query.shown + 1, offset=query.start
        )
        listed = [Listed(o, comes_home=o.site is None) for o in offers]
        return _paged(
            listed, total, query.shown, query.start, located=False, estimated=False, offset=True
        )
    loc = query.location
    profile = settings.profiles[query.profile]
    answer = reachable_offers(
        session, loc.lon, loc.lat, query.minutes, profile, query.criteria, settings
    )
    items = [
        Listed(offer, round(time.seconds / 60, 1), time.estimated) for offer, time in answer.offers
    ]
    # Offers that come to the family's home, where the home lies in their service area
    # (a box of a few centimetres meets the areas that contain the point).
    eps = 1e-7
    here = BBox(loc.lon - eps, loc.lat - eps, loc.lon + eps, loc.lat + eps)
    home = queries.find_offers(session, replace(query.criteria, bbox=here))
    items += [Listed(o, comes_home=True) for o in home if o.site is None]
    return _paged(
        items, len(items), query.shown, query.start, located=True, estimated=answer.estimated
    )


def _from_records(
    session: Session, query: FamilyQuery, settings: WalkSettings, records: OfferRecords
) -> FamilyAnswer:
    """:func:`find_for_family` with the offers taken from memory: the same answer."""
    criteria = query.criteria
    if query.location is None:
        # Paged: the quarter's first (as find_offers_page); everything: by category.
        fitting = records.fitting(criteria, quarter_first=query.shown is not None)
        listed = [Listed(o, comes_home=o.site is None) for o in fitting]
        if query.shown is None:
            return FamilyAnswer(listed)
        return _paged(listed, len(listed), query.shown, query.start, located=False, estimated=False)
    loc = query.location
    profile = settings.profiles[query.profile]
    origin, found = site_times(session, loc.lon, loc.lat, query.minutes, profile, settings)
    times = {time.site_id: time for time in found}  # nearest first
    pairs = sorted(
        (
            (offer, time)
            for site_id, time in times.items()
            for offer in records.at_site(site_id, criteria)
        ),
        key=lambda pair: (pair[1].seconds, pair[0].title, pair[0].id),
    )
    items = [Listed(offer, round(time.seconds / 60, 1), time.estimated) for offer, time in pairs]
    estimated = origin.estimated or any(time.estimated for _, time in pairs)
    items += [Listed(o, comes_home=True) for o in records.coming_home(loc.lon, loc.lat, criteria)]
    return _paged(items, len(items), query.shown, query.start, located=True, estimated=estimated)


def _paged(
    items: list[Listed],
    total: int,
    shown: int | None,
    start: int,
    *,
    located: bool,
    estimated: bool,
    offset: bool = False,
) -> FamilyAnswer:
    """The page of ``shown`` items from the ``start``-th; ``offset``: ``items`` begin there
    already (the database skipped the ones before)."""
    first = 0 if offset else start
    listed = items[first:] if shown is None else items[first : first + shown]
    after = first + len(listed)
    following = items[after] if len(items) > after else None
    return FamilyAnswer(
        listed,
        located=located,
        estimated=estimated,
        total=total,
        next_offer=following.offer.id if following else None,
        start=start,
    )
