"""The day's plan: the stops in the visiting order with the least walking, the legs
between them, and per family the age-fitting active offers within a few minutes' walk
(the family map's :func:`mapservice.family.search.find_for_family`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mapservice.family.query import FamilyQuery, Location
from mapservice.family.search import Listed, find_for_family
from mapservice.outreach.order import best_order
from mapservice.outreach.walks import leg_path, walking_matrix
from mapservice.queries import OfferFilter
from mapservice.validation import ParameterError
from mapservice.walking.profiles import WalkProfile, WalkSettings

DEFAULT_MINUTES = 15


@dataclass(frozen=True)
class Stop:
    """The start (index 0) or a family's home."""

    label: str
    lat: float
    lon: float
    number: int = 0  # the row it was entered in (0: the start)
    age_months: int | None = None
    language: str = "de"


@dataclass(frozen=True)
class Leg:
    origin: Stop
    target: Stop
    metres: float
    seconds: float
    estimated: bool
    path: list[tuple[float, float]]  # (lat, lon)

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class Visit:
    """A family in the visiting order, with the offers near their home."""

    position: int
    stop: Stop
    offers: list[Listed]
    estimated: bool
    problem: str | None = None  # the walking engine refused the home (e.g. far off a path)


@dataclass(frozen=True)
class Plan:
    start: Stop
    visits: list[Visit]
    legs: list[Leg]
    round_trip: bool
    exact: bool
    minutes: int
    profile: WalkProfile

    @property
    def total_seconds(self) -> float:
        return sum(leg.seconds for leg in self.legs)

    @property
    def total_metres(self) -> float:
        return sum(leg.metres for leg in self.legs)

    @property
    def estimated(self) -> bool:
        return any(leg.estimated for leg in self.legs)


def plan_round(
    session: Session,
    start: Stop,
    homes: Sequence[Stop],
    profile: WalkProfile,
    settings: WalkSettings,
    *,
    round_trip: bool = True,
    minutes: int = DEFAULT_MINUTES,
) -> Plan:
    """The visiting order with the least walking, its legs, and each family's offers."""
    stops = [start, *homes]
    matrix = walking_matrix(session, [(s.lon, s.lat) for s in stops], profile, settings)
    order, exact = best_order(matrix.metres.tolist(), round_trip)
    pairs = list(itertools.pairwise(order))
    if round_trip and len(order) > 1:
        pairs.append((order[-1], order[0]))
    legs = [
        Leg(
            stops[i],
            stops[j],
            float(matrix.metres[i, j]),
            float(matrix.metres[i, j]) / profile.speed_mps,
            bool(matrix.estimated[i, j]),
            leg_path(matrix, i, j),
        )
        for i, j in pairs
    ]
    visits = [
        _visit(session, position, stops[index], profile, settings, minutes)
        for position, index in enumerate(order[1:], start=1)
    ]
    return Plan(start, visits, legs, round_trip, exact, minutes, profile)


def _visit(
    session: Session,
    position: int,
    stop: Stop,
    profile: WalkProfile,
    settings: WalkSettings,
    minutes: int,
) -> Visit:
    query = FamilyQuery(
        criteria=OfferFilter(age_months=stop.age_months),
        location=Location(stop.lat, stop.lon, stop.label),
        minutes=minutes,
        profile=profile.key,
    )
    try:
        answer = find_for_family(session, query, settings)
    except ParameterError as exc:
        return Visit(position, stop, [], True, exc.message)
    return Visit(position, stop, answer.items, answer.estimated)
