"""Matching what a family typed against what the database holds, and never landing elsewhere.

Candidates come from four sources, each through a pg_trgm index or a small table:

* the street index of the walking networks (``walk_street``, :mod:`mapservice.walking.streets`),
* house addresses: OSM ``addr:*`` points (:class:`AddressPoint`) and the sites' addresses,
  only when a house number was typed, and only with that number,
* the sites by name,
* the quarter and the statistical sub-districts by name.

Each candidate is then classified. A candidate is **strong** when its folded name is the typed
one up to a few typing errors (:func:`allowed_edits`, Levenshtein distance on text folded by
``mapservice_fold`` with the spaces taken out, so "missunde strasse", "Missundestr" and
"Misundestraße" all meet "Missundestraße"), no other name is as close, and, for an address,
the typed house number is the address's. Only when the strong candidates are all one place is
that place the answer (:attr:`Lookup.answer`). A street whose typed house number nobody knows
is still the answer, flagged (:attr:`Lookup.number_unknown`), so the page can say so.
Everything else is **weak**: offered as a choice ("did you mean …?"), nearest to the quarter
first, never taken. So "Schleswiger Str 5" lands on Schleswiger Straße in the Nordstadt or
asks, and can no longer become "Dürener Straße 5, Witten" because both end in "Straße 5".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_QUERY_LENGTH = 120
MIN_QUERY_LENGTH = 3
# A weak hit is offered only if it is this similar (pg_trgm, on the street's core or the
# name) or within the typing errors a strong one may have: a choice, not noise.
WEAK_MIN_SCORE = 0.35
# For names of sites and areas, compared with all that was typed ("straße" and all).
WEAK_MIN_SCORE_NAMES = 0.5

# Candidates read per source before classifying (the list shows a handful): streets and
# addresses, and the nearest names of sites and areas.
FETCH_PER_SOURCE = 20
FETCH_NAMES = 8
# Strong hits closer than this are one place (a site and its address, two address records).
SAME_PLACE_M = 150.0
# An address lies on a street of the index (the same name) within this distance.
ON_STREET_M = 150.0
# Weak hits are ordered by their distance to the quarter in steps of this, then by spelling.
DISTANCE_STEP_M = 1000.0

Match = Literal["strong", "weak"]

# A house number at the end of the street part ("Schleswiger Str 5", "Str. 12a", "Weg 3 b")
# or at its start ("5 Schleswiger Str").
_NUMBER_LAST = re.compile(r"^(?P<street>.*?\D)\s*(?P<number>\d{1,5}(?:\s?[a-zA-Z])?)$")
_NUMBER_FIRST = re.compile(r"^(?P<number>\d{1,5}(?:\s?[a-zA-Z])?)\s+(?P<street>\D.*)$")


@dataclass(frozen=True)
class Place:
    """One search hit: what to show, where it is, what kind of thing it is, and whether it
    may be taken as the answer (``match == "strong"``) or only offered as a choice."""

    label: str
    lat: float
    lon: float
    kind: str  # "site" | "address" | "street" | "area"
    score: float
    match: Match = "weak"
    distance_m: float | None = None  # to the quarter (or the map centre)

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "kind": self.kind,
            "match": self.match,
        }


@dataclass(frozen=True)
class Lookup:
    """The answer to a typed address: the place to take, if one is certain, and the list."""

    places: list[Place] = field(default_factory=list)  # the answer first, then the choices
    answer: Place | None = None
    house_number: str = ""  # as typed, normalised ("5a")

    @property
    def number_unknown(self) -> bool:
        """The answer is a street, but the typed house number is not known on it."""
        return self.answer is not None and self.answer.kind == "street" and bool(self.house_number)


@dataclass(frozen=True)
class TypedAddress:
    """The typed text split into the street part, the house number and the whole."""

    full: str
    street: str
    number: str


def split_query(query: str) -> TypedAddress:
    """``"Schleswiger Str 5, 44145 Dortmund"`` → street ``Schleswiger Str``, number ``5``.

    What follows a comma (postcode, town) is not part of the street.
    """
    # Control characters (a NUL byte cannot even be sent to PostgreSQL) are no address.
    printable = "".join(char if char.isprintable() else " " for char in query)
    full = " ".join(printable.split())[:MAX_QUERY_LENGTH]
    first = full.split(",")[0].strip()
    found = _NUMBER_LAST.match(first) or _NUMBER_FIRST.match(first)
    if found is None:
        return TypedAddress(full, first, "")
    street = found.group("street").strip(" ,.")
    return TypedAddress(full, street, found.group("number").replace(" ", "").lower())


def allowed_edits(key: str) -> int:
    """Typing errors forgiven in a folded name without spaces: none in a short word (there
    every letter tells streets apart), one from 5 letters, two from 10."""
    return 0 if len(key) < 5 else 1 if len(key) < 10 else 2


_FOLD_SQL = text(
    "SELECT mapservice_fold(:street), mapservice_fold(:full), "
    "mapservice_street_core(mapservice_fold(:street))"
)

# Each source is read through a pg_trgm index on text folded when it was written (revision
# 0012): streets (the most similar first, GiST) and addresses (GIN, with the house number) by
# the core of the street name (``:core``; "strasse" alone would match every street), sites
# and areas by their names (the most similar first, GiST).
# ``name_key`` is what the edit distance is measured on (folded, without spaces).
_CANDIDATES_SQL = text(
    """
    WITH ref AS (
        SELECT coalesce(
            -- Simplified to 20 m: distances only order the choices, in whole kilometres.
            (SELECT ST_Simplify(ST_Transform(ST_Union(geom), 25832), 20)
             FROM area WHERE kind = 'quarter'),
            ST_Transform(ST_SetSRID(
                ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326), 25832)
        ) AS geom
    ),
    candidates AS (
        (SELECT s.name AS label, 'street' AS kind, s.point AS geom, s.folded AS compared,
                similarity(s.core, :core) AS score, s.id AS street_id, s.place
         FROM walk_street s
         WHERE :core <> ''
         ORDER BY s.core <-> :core
         LIMIT :fetch)
        UNION ALL
        (SELECT concat_ws(' ', a.street, a.house_number)
                    || CASE WHEN a.city IS NOT NULL THEN ', ' || a.city ELSE '' END,
                'address', a.geom, mapservice_fold(a.street), similarity(a.street_core, :core),
                NULL, NULL
         FROM address_point a
         WHERE :number <> '' AND :core <> '' AND a.street_core % :core
           AND lower(replace(a.house_number, ' ', '')) = :number
         ORDER BY 5 DESC
         LIMIT :fetch)
        UNION ALL
        (SELECT concat_ws(' ', s.street, s.house_number)
                    || CASE WHEN s.postcode IS NOT NULL THEN ', ' || s.postcode ELSE '' END,
                'address', s.geom, mapservice_fold(s.street), similarity(s.street_core, :core),
                NULL, NULL
         FROM site s
         WHERE :number <> '' AND :core <> '' AND s.street IS NOT NULL AND s.street_core % :core
           AND lower(replace(s.house_number, ' ', '')) = :number
         ORDER BY 5 DESC
         LIMIT :fetch)
        UNION ALL
        (SELECT s.name || CASE WHEN s.street IS NOT NULL AND s.street <> s.name
                               THEN ', ' || concat_ws(' ', s.street, s.house_number) ELSE '' END,
                'site', s.geom, s.name_folded, similarity(s.name_folded, :full), NULL, NULL
         FROM site s
         ORDER BY s.name_folded <-> :full
         LIMIT :fetch_names)
        UNION ALL
        (SELECT ar.name, 'area', ST_PointOnSurface(ar.geom), ar.name_folded,
                similarity(ar.name_folded, :full), NULL, NULL
         FROM area ar
         WHERE ar.kind IN ('quarter', 'subdistrict')
         ORDER BY ar.name_folded <-> :full
         LIMIT :fetch_names)
    )
    SELECT c.label, c.kind, ST_Y(c.geom) AS lat, ST_X(c.geom) AS lon,
           replace(c.compared, ' ', '') AS name_key, c.score,
           levenshtein(left(replace(c.compared, ' ', ''), 255),
                       CASE WHEN c.kind IN ('site', 'area') THEN :full_key ELSE :street_key END)
               AS edits,
           ST_Distance(ST_Transform(c.geom, 25832), ref.geom) AS distance_m,
           c.place,
           CASE WHEN c.kind = 'street' THEN c.street_id ELSE
               (SELECT w.id FROM walk_street w
                WHERE w.folded = c.compared
                  AND ST_DWithin(w.geom, ST_Transform(c.geom, 25832), :on_street)
                ORDER BY w.id LIMIT 1) END AS street_id
    FROM candidates c
    CROSS JOIN ref
    """
)


@dataclass(frozen=True)
class _Hit:
    label: str
    kind: str
    lat: float
    lon: float
    name_key: str
    score: float
    edits: int
    distance_m: float | None
    street_id: int | None

    def place(self, match: Match) -> Place:
        return Place(self.label, self.lat, self.lon, self.kind, self.score, match, self.distance_m)


# Which strong hit stands for a place: an address beats the site there, which beats the
# area or the bare street.
_PRIORITY = {"address": 0, "site": 1, "area": 2, "street": 3}


def lookup(
    session: Session,
    query: str,
    *,
    limit: int = 8,
    centre: tuple[float, float] | None = None,
) -> Lookup:
    """Look ``query`` up: the certain answer, if there is one, and the hits to choose from.

    ``centre`` (lat, lon; e.g. the ``MAP_CENTER`` setting) orders the choices where no
    quarter is loaded. A query shorter than three letters finds nothing; a longer one than
    :data:`MAX_QUERY_LENGTH` is cut (it is a search box).
    """
    typed = split_query(query)
    if len(typed.full) < MIN_QUERY_LENGTH:
        return Lookup()
    street_folded, full_folded, core = session.execute(
        _FOLD_SQL, {"street": typed.street, "full": typed.full}
    ).one()
    if not full_folded:
        return Lookup()
    lat, lon = centre if centre is not None else (None, None)
    rows = session.execute(
        _CANDIDATES_SQL,
        {
            "core": core,
            "full": full_folded,
            "street_key": street_folded.replace(" ", "")[:255],
            "full_key": full_folded.replace(" ", "")[:255],
            "number": typed.number,
            "fetch": FETCH_PER_SOURCE,
            "fetch_names": FETCH_NAMES,
            "on_street": ON_STREET_M,
            "lat": lat,
            "lon": lon,
        },
    )
    hits = [
        _Hit(
            f"{row.label}, {row.place}" if row.place else row.label,
            row.kind,
            float(row.lat),
            float(row.lon),
            row.name_key,
            float(row.score),
            int(row.edits),
            None if row.distance_m is None else float(row.distance_m),
            row.street_id,
        )
        for row in rows
    ]
    return _classify(
        hits, street_folded.replace(" ", ""), full_folded.replace(" ", ""), typed, limit
    )


def search(
    session: Session, query: str, limit: int = 8, centre: tuple[float, float] | None = None
) -> list[Place]:
    """The hits for ``query``: the certain answer first (``match="strong"``), then the
    choices, nearest to the quarter first."""
    return lookup(session, query, limit=limit, centre=centre).places


def _close_names(hits: list[_Hit], key: str) -> set[str]:
    """The names that are the typed one: exactly, or, if none is exact, the one nearest
    within :func:`allowed_edits` (two names as near as each other are a question, not an
    answer)."""
    if not key or not hits:
        return set()
    best = min(hit.edits for hit in hits)
    nearest = {hit.name_key for hit in hits if hit.edits == best}
    if best == 0 or (best <= allowed_edits(key) and len(nearest) == 1):
        return nearest
    return set()


def _metres(a: _Hit, b: _Hit) -> float:
    # Equirectangular: exact enough over a few hundred metres.
    dy = (a.lat - b.lat) * 111_320.0
    dx = (a.lon - b.lon) * 111_320.0 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def _classify(
    hits: list[_Hit], street_key: str, full_key: str, typed: TypedAddress, limit: int
) -> Lookup:
    streetlike = [hit for hit in hits if hit.kind in ("street", "address")]
    # A typed house number means an address: a site or area name is then only a choice
    # (unless the name has that number).
    named = [
        hit
        for hit in hits
        if hit.kind in ("site", "area") and (not typed.number or typed.number in hit.name_key)
    ]
    # A name is only as strong as the nearest spelling of any kind: an exact street beats a
    # site whose name is one letter off, and the other way round.
    best = min((hit.edits for hit in streetlike + named), default=0)
    street_names = (
        _close_names(streetlike, street_key)
        if any(hit.edits == best for hit in streetlike)
        else set()
    )
    site_names = _close_names(named, full_key) if any(hit.edits == best for hit in named) else set()
    strong = [hit for hit in streetlike if hit.name_key in street_names]
    strong += [hit for hit in named if hit.name_key in site_names]
    # A street on which a strong address (or a site of its name) lies is that place, not
    # another one.
    covered = {hit.street_id for hit in strong if hit.kind != "street" and hit.street_id}
    contenders = [hit for hit in strong if not (hit.kind == "street" and hit.street_id in covered)]
    groups: list[list[_Hit]] = []
    for hit in sorted(contenders, key=lambda h: (_PRIORITY[h.kind], h.edits, -h.score)):
        group = next((g for g in groups if _metres(g[0], hit) <= SAME_PLACE_M), None)
        if group is None:
            groups.append([hit])
        else:
            group.append(hit)
    answer = groups[0][0] if len(groups) == 1 else None
    strong_ids = {id(hit) for hit in strong}

    def plausible(hit: _Hit) -> bool:
        if hit.kind in ("site", "area"):
            key, min_score = full_key, WEAK_MIN_SCORE_NAMES
        else:
            key, min_score = street_key, WEAK_MIN_SCORE
        return id(hit) in strong_ids or hit.score >= min_score or hit.edits <= allowed_edits(key)

    def rank(hit: _Hit) -> tuple[int, float, int, int, float]:
        # The names that were the typed one (but at several places) first, then the other
        # spellings; each nearest to the quarter first.
        step = math.inf if hit.distance_m is None else hit.distance_m // DISTANCE_STEP_M
        return (
            0 if id(hit) in strong_ids else 1,
            step,
            _PRIORITY[hit.kind] if typed.number else 0,
            hit.edits,
            -hit.score,
        )

    places: list[Place] = [answer.place("strong")] if answer else []
    seen = {answer.label} if answer else set()
    for hit in sorted((h for h in hits if h is not answer and plausible(h)), key=rank):
        if hit.label in seen:
            continue
        seen.add(hit.label)
        places.append(hit.place("weak"))
        if len(places) == limit:
            break
    return Lookup(places, places[0] if answer else None, typed.number)
