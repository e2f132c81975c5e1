"""Home-visit rounds for outreach workers (e.g. welcome visits to newborns). Free of Flask.

A worker enters the day's visits (an address or a point, and the child's age) and a start
point. The answer is

* the visiting order with the least total walking time: exact (Held-Karp) up to
  :data:`EXACT_MAX_VISITS` visits, nearest neighbour + 2-opt above;
* the legs between the stops: walked along the imported walking network where both ends lie
  on the same network (shortest paths on the in-memory graph of :mod:`mapservice.walking`),
  else straight line x detour factor, marked estimated;
* per family, the age-fitting active offers within a few minutes' walk (the family map's
  :func:`mapservice.family.find_for_family`).

Privacy: nothing here writes to the database or logs; the plan lives only in the answer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Figure
from folium.template import Template
from geoalchemy2.shape import to_shape
from markupsafe import Markup
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice import family, geocode, mapview
from mapservice.models import Site
from mapservice.queries import OfferFilter
from mapservice.validation import ParameterError, parse_age_months, parse_latitude, parse_longitude
from mapservice.walking.graph import WalkGraph, get_graph
from mapservice.walking.profiles import WalkProfile, WalkSettings
from mapservice.walking.reach import TO_METRIC, TO_WGS84
from mapservice.walking.snap import Snap, snap_point

MAX_VISITS = 20
DEFAULT_ROWS = 8
# Held-Karp needs n^2 * 2^n steps: 10 visits are ~0.1 s in Python, 12 would be ~0.6 s.
EXACT_MAX_VISITS = 10
MINUTE_CHOICES = (5, 10, 15, 20)
DEFAULT_MINUTES = 15


# --- visiting order -------------------------------------------------------------------------


def route_cost(cost: Sequence[Sequence[float]], order: Sequence[int], round_trip: bool) -> float:
    """Total cost of visiting ``order`` (starting at ``order[0]``), back to it if round trip."""
    total = sum(cost[a][b] for a, b in itertools.pairwise(order))
    if round_trip and len(order) > 1:
        total += cost[order[-1]][order[0]]
    return total


def held_karp(cost: Sequence[Sequence[float]], round_trip: bool) -> list[int]:
    """The cheapest order of all stops starting at stop 0 (exact; dynamic programming)."""
    n = len(cost)
    if n <= 2:
        return list(range(n))
    visits = n - 1
    full = (1 << visits) - 1
    # best[mask][j]: cheapest path from 0 through the visits in mask, ending at visit j.
    best: list[dict[int, float]] = [{} for _ in range(full + 1)]
    parent: list[dict[int, int]] = [{} for _ in range(full + 1)]
    for j in range(visits):
        best[1 << j][j] = cost[0][j + 1]
        parent[1 << j][j] = -1
    for mask in range(1, full + 1):
        for j, here in best[mask].items():
            for k in range(visits):
                if mask & (1 << k):
                    continue
                nxt = mask | (1 << k)
                value = here + cost[j + 1][k + 1]
                if value < best[nxt].get(k, math.inf):
                    best[nxt][k] = value
                    parent[nxt][k] = j

    def closing(j: int) -> float:
        return best[full][j] + (cost[j + 1][0] if round_trip else 0.0)

    last = min(range(visits), key=closing)
    order = []
    mask = full
    while last != -1:
        order.append(last + 1)
        last, mask = parent[mask][last], mask & ~(1 << last)
    return [0, *reversed(order)]


def nearest_neighbour(cost: Sequence[Sequence[float]]) -> list[int]:
    order = [0]
    left = set(range(1, len(cost)))
    while left:
        here = order[-1]
        nxt = min(left, key=lambda k: (cost[here][k], k))
        order.append(nxt)
        left.remove(nxt)
    return order


def two_opt(cost: Sequence[Sequence[float]], order: list[int], round_trip: bool) -> list[int]:
    """Reverse segments (never the start) while that shortens the route."""
    best = list(order)
    best_cost = route_cost(cost, best, round_trip)
    improved = True
    while improved:
        improved = False
        for i in range(1, len(best) - 1):
            for k in range(i + 1, len(best)):
                candidate = best[:i] + best[i : k + 1][::-1] + best[k + 1 :]
                value = route_cost(cost, candidate, round_trip)
                if value < best_cost - 1e-9:
                    best, best_cost, improved = candidate, value, True
    return best


def best_order(cost: Sequence[Sequence[float]], round_trip: bool) -> tuple[list[int], bool]:
    """The visiting order (stop 0 first) and whether it is proven the cheapest."""
    if len(cost) - 1 <= EXACT_MAX_VISITS:
        return held_karp(cost, round_trip), True
    return two_opt(cost, nearest_neighbour(cost), round_trip), False


# --- walking between stops --------------------------------------------------------------------


@dataclass(frozen=True)
class _Routed:
    """How the shortest way between two snapped stops runs (for drawing it)."""

    network_id: int
    source_row: int  # row of the search from the first stop's chosen edge end
    from_node: int  # node indices of the chosen edge ends; -1: both on one edge, direct
    to_node: int


@dataclass
class WalkMatrix:
    """Walking metres between all stops, and how each pair was measured."""

    metres: np.ndarray
    estimated: np.ndarray  # bool
    snaps: list[Snap | None]
    points: list[tuple[float, float]]  # (x, y) EPSG:25832
    routed: dict[tuple[int, int], _Routed] = field(default_factory=dict)
    graphs: dict[int, WalkGraph] = field(default_factory=dict)
    predecessors: dict[int, np.ndarray] = field(default_factory=dict)
    steps: bool = True


def walking_matrix(
    session: Session,
    points: Sequence[tuple[float, float]],
    profile: WalkProfile,
    settings: WalkSettings,
) -> WalkMatrix:
    """Metres between every pair of ``(lon, lat)`` points: routed where both lie on one
    network, else straight line x detour factor (estimated)."""
    n = len(points)
    xs, ys = TO_METRIC.transform([p[0] for p in points], [p[1] for p in points])
    metric = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    metres = np.zeros((n, n))
    estimated = np.zeros((n, n), dtype=bool)
    for i, j in itertools.combinations(range(n), 2):
        straight = math.dist(metric[i], metric[j])
        metres[i, j] = metres[j, i] = straight * settings.detour_factor
        estimated[i, j] = estimated[j, i] = True
    snaps = [
        snap_point(session, lon, lat, steps=profile.steps, max_snap_m=settings.max_snap_m)
        for lon, lat in points
    ]
    matrix = WalkMatrix(metres, estimated, snaps, metric, steps=profile.steps)
    by_network: dict[int, list[int]] = {}
    for i, snap in enumerate(snaps):
        if snap is not None:
            by_network.setdefault(snap.network_id, []).append(i)
    for network_id, members in by_network.items():
        if len(members) > 1:
            _route_network(session, matrix, network_id, members)
    return matrix


def _route_network(
    session: Session, matrix: WalkMatrix, network_id: int, members: list[int]
) -> None:
    snaps = matrix.snaps
    first = snaps[members[0]]
    assert first is not None
    graph = get_graph(session, network_id, first.version)
    ends: dict[int, np.ndarray] = {}
    sources: list[int] = []
    for i in members:
        snap = snaps[i]
        assert snap is not None
        ends[i] = graph.node_index([snap.source, snap.target])
        sources.extend(int(node) for node in ends[i])
    dist, pred = dijkstra(
        graph.variant(matrix.steps).matrix, directed=True, indices=sources, return_predecessors=True
    )
    matrix.graphs[network_id] = graph
    matrix.predecessors[network_id] = np.atleast_2d(pred)
    dist = np.atleast_2d(dist)
    row = {i: 2 * position for position, i in enumerate(members)}
    for i, j in itertools.combinations(members, 2):
        a, b = snaps[i], snaps[j]
        assert a is not None and b is not None
        offsets_a = (a.to_source_m, a.to_target_m)
        offsets_b = (b.to_source_m, b.to_target_m)
        found = math.inf
        choice = _Routed(network_id, -1, -1, -1)
        for ea in (0, 1):
            for eb in (0, 1):
                value = offsets_a[ea] + dist[row[i] + ea, ends[j][eb]] + offsets_b[eb]
                if value < found:
                    found = value
                    choice = _Routed(network_id, row[i] + ea, int(ends[i][ea]), int(ends[j][eb]))
        if a.edge_id == b.edge_id:
            direct = abs(a.fraction - b.fraction) * a.length_m
            if direct <= found:
                found, choice = direct, _Routed(network_id, -1, -1, -1)
        if math.isfinite(found):
            total = found + a.distance_m + b.distance_m
            matrix.metres[i, j] = matrix.metres[j, i] = total
            matrix.estimated[i, j] = matrix.estimated[j, i] = False
            matrix.routed[(i, j)] = choice


def leg_path(matrix: WalkMatrix, i: int, j: int) -> list[tuple[float, float]]:
    """The way from stop ``i`` to stop ``j`` as ``(lat, lon)`` points: along the network
    where routed, else the straight line."""
    if (i, j) not in matrix.routed and (j, i) in matrix.routed:
        return leg_path(matrix, j, i)[::-1]
    routed = matrix.routed.get((i, j))
    if routed is None:
        coords = [matrix.points[i], matrix.points[j]]
    else:
        coords = _network_coords(matrix, routed, i, j)
    xs, ys = TO_WGS84.transform([c[0] for c in coords], [c[1] for c in coords])
    return [(round(float(y), 6), round(float(x), 6)) for x, y in zip(xs, ys, strict=True)]


def _network_coords(
    matrix: WalkMatrix, routed: _Routed, i: int, j: int
) -> list[tuple[float, float]]:
    graph = matrix.graphs[routed.network_id]
    a, b = matrix.snaps[i], matrix.snaps[j]
    assert a is not None and b is not None
    geom_a = graph.geoms[graph.edge_index(a.edge_id)]
    geom_b = graph.geoms[graph.edge_index(b.edge_id)]
    at_a = a.fraction * geom_a.length
    at_b = b.fraction * geom_b.length
    coords: list[tuple[float, float]] = [matrix.points[i]]
    if routed.source_row < 0:  # both on one edge
        coords += _line(substring(geom_a, at_a, at_b))
    else:
        start_is_source = routed.from_node == int(graph.node_index([a.source])[0])
        coords += _line(substring(geom_a, at_a, 0 if start_is_source else geom_a.length))
        nodes = _node_path(matrix.predecessors[routed.network_id][routed.source_row], routed)
        edges = _edge_lookup(graph, matrix.steps)
        for p, q in itertools.pairwise(nodes):
            k = edges[(min(p, q), max(p, q))]
            line = _line(graph.geoms[k])
            coords += line if graph.edge_u[k] == p else line[::-1]
        end_is_source = routed.to_node == int(graph.node_index([b.source])[0])
        coords += _line(substring(geom_b, 0 if end_is_source else geom_b.length, at_b))
    coords.append(matrix.points[j])
    return coords


def _line(geom: Any) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in shapely.get_coordinates(geom)]


def _node_path(pred: np.ndarray, routed: _Routed) -> list[int]:
    nodes = [routed.to_node]
    while nodes[-1] != routed.from_node:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


def _edge_lookup(graph: WalkGraph, steps: bool) -> dict[tuple[int, int], int]:
    """The shortest allowed edge between each pair of nodes (what the search walked)."""
    allowed = np.ones(len(graph.edge_u), dtype=bool) if steps else ~graph.steps
    found: dict[tuple[int, int], int] = {}
    for k in np.flatnonzero(allowed):
        u, v = int(graph.edge_u[k]), int(graph.edge_v[k])
        key = (min(u, v), max(u, v))
        if key not in found or graph.length[k] < graph.length[found[key]]:
            found[key] = int(k)
    return found


# --- the day's plan ------------------------------------------------------------------------


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
    offers: list[family.Listed]
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
    query = family.FamilyQuery(
        criteria=OfferFilter(age_months=stop.age_months),
        location=family.Location(stop.lat, stop.lon, stop.label),
        minutes=minutes,
        profile=profile.key,
    )
    try:
        answer = family.find_for_family(session, query, settings)
    except ParameterError as exc:
        return Visit(position, stop, [], True, exc.message)
    return Visit(position, stop, answer.items, answer.estimated)


# --- the form -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An input that was not understood; ``field`` is the form field's name."""

    field: str
    message: str

    @property
    def label(self) -> str:
        """Where the problem is, in the form's words (``Besuch 2, Adresse``)."""
        parts = self.field.split("-")
        if len(parts) == 3 and parts[0] == "visit":
            return f"Besuch {parts[1]}, {FIELD_LABELS.get(parts[2], parts[2])}"
        return FIELD_LABELS.get(self.field, self.field)


FIELD_LABELS = {
    "address": "Adresse",
    "lat": "Breite",
    "lon": "Länge",
    "age_months": "Alter in Monaten",
    "birth_month": "Geburtsmonat",
    "lang": "Sprache",
    "start": "Start",
    "start_address": "Startadresse",
    "start_lat": "Start (Breite)",
    "start_lon": "Start (Länge)",
    "profile": "Profil",
    "minutes": "Minuten",
}


@dataclass(frozen=True)
class PlanRequest:
    start: Stop | None
    homes: list[Stop]
    profile: str
    minutes: int
    round_trip: bool
    problems: list[Problem]


def visit_field(row: int, name: str) -> str:
    return f"visit-{row}-{name}"


def parse_plan_form(
    session: Session,
    form: Mapping[str, str],
    settings: WalkSettings,
    languages: Sequence[str],
) -> PlanRequest:
    """Read the POSTed form; addresses are looked up in the offline address search.

    Every problem is collected (not only the first), so the worker can fix them at once.
    """
    problems: list[Problem] = []
    profile = form.get("profile") or "adult"
    if profile not in settings.profiles:
        problems.append(Problem("profile", f"unbekanntes Profil {profile[:20]!r}"))
        profile = "adult"
    raw_minutes = form.get("minutes") or str(DEFAULT_MINUTES)
    if raw_minutes not in {str(m) for m in MINUTE_CHOICES}:
        problems.append(Problem("minutes", "bitte 5, 10, 15 oder 20 Minuten wählen"))
        raw_minutes = str(DEFAULT_MINUTES)
    start = _start(session, form, problems)
    homes: list[Stop] = []
    for row in range(1, MAX_VISITS + 1):
        home = _home(session, form, row, languages, problems)
        if home is not None:
            homes.append(home)
    if not homes and not any(p.field.startswith("visit-") for p in problems):
        problems.append(Problem(visit_field(1, "address"), "bitte mindestens einen Besuch angeben"))
    return PlanRequest(
        start=start,
        homes=homes,
        profile=profile,
        minutes=int(raw_minutes),
        round_trip=(form.get("round_trip") or "") in ("1", "on", "true"),
        problems=problems,
    )


def _point(
    form: Mapping[str, str], lat_name: str, lon_name: str, problems: list[Problem]
) -> tuple[float, float] | None:
    try:
        lat = parse_latitude(form, lat_name)
        lon = parse_longitude(form, lon_name)
    except ParameterError as exc:
        problems.append(Problem(exc.parameter, exc.message))
        return None
    if (lat is None) != (lon is None):
        problems.append(Problem(lat_name, "Breite und Länge bitte zusammen angeben"))
        return None
    return None if lat is None or lon is None else (lat, lon)


def _lookup(
    session: Session, text: str, field_name: str, problems: list[Problem]
) -> tuple[float, float, str] | None:
    """The typed address as (lat, lon, label) if the search is certain of it (the family
    page's rule: a weak match is a choice, never the answer); else a problem naming the
    field, with the choices nearest to the quarter first."""
    found = geocode.lookup(session, text, limit=4)
    best = found.answer
    if best is not None:
        label = best.label
        if found.number_unknown:
            label += f" (Hausnummer {found.house_number} nicht bekannt)"
        return best.lat, best.lon, label
    if found.places:
        choices = "; ".join(place.label for place in found.places)
        problems.append(Problem(field_name, f"Adresse nicht eindeutig – meinten Sie: {choices}?"))
    else:
        problems.append(Problem(field_name, "Adresse nicht gefunden"))
    return None


def _start(session: Session, form: Mapping[str, str], problems: list[Problem]) -> Stop | None:
    choice = form.get("start") or ""
    if choice.startswith("site:") and choice[5:].isdigit():
        site = session.get(Site, int(choice[5:]))
        if site is None:
            problems.append(Problem("start", "diesen Ort gibt es nicht"))
            return None
        lat, lon = _site_point(site)
        label = ", ".join(part for part in (site.name, site.address) if part)
        return Stop(label, lat, lon)
    point = _point(form, "start_lat", "start_lon", problems)
    text = " ".join((form.get("start_address") or "").split())[: geocode.MAX_QUERY_LENGTH]
    if point is not None:
        return Stop(text or "Startpunkt", point[0], point[1])
    if text:
        place = _lookup(session, text, "start_address", problems)
        if place is None:
            return None
        return Stop(place[2], place[0], place[1])
    if choice and choice != "other":
        problems.append(Problem("start", "bitte einen Startpunkt wählen"))
    else:
        problems.append(Problem("start_address", "bitte einen Startpunkt angeben"))
    return None


def _home(
    session: Session,
    form: Mapping[str, str],
    row: int,
    languages: Sequence[str],
    problems: list[Problem],
) -> Stop | None:
    def value(name: str) -> str:
        return (form.get(visit_field(row, name)) or "").strip()

    text = " ".join(value("address").split())[: geocode.MAX_QUERY_LENGTH]
    given = text or value("lat") or value("lon")
    if not given:
        if value("age_months") or value("birth_month"):
            problems.append(Problem(visit_field(row, "address"), "Adresse oder Punkt fehlt"))
        return None
    before = len(problems)
    point = _point(form, visit_field(row, "lat"), visit_field(row, "lon"), problems)
    age_args = {"age_months": value("age_months"), "birth_month": value("birth_month")}
    age: int | None = None
    try:
        age = parse_age_months(age_args)
    except ParameterError as exc:
        problems.append(Problem(visit_field(row, exc.parameter), exc.message))
    else:
        if age is None:
            problems.append(
                Problem(visit_field(row, "age_months"), "Alter oder Geburtsmonat fehlt")
            )
    language = value("lang") or "de"
    if language not in languages:
        problems.append(Problem(visit_field(row, "lang"), "unbekannte Sprache"))
    label = text
    if point is None and len(problems) == before:
        place = _lookup(session, text, visit_field(row, "address"), problems)
        if place is not None:
            point, label = (place[0], place[1]), place[2]
    if len(problems) > before or point is None:
        return None
    return Stop(label or f"Besuch {row}", point[0], point[1], row, age, language)


# --- the map ---------------------------------------------------------------------------------

STYLE_ROUTED = {"color": "#08519c", "weight": 5, "opacity": 0.85}
STYLE_ESTIMATED = {"color": "#b35806", "weight": 4, "opacity": 0.9, "dash_array": "8 8"}


class _NumberLabel(folium.MacroElement):
    """A permanent label with a stop's number in the visiting order (a number only)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.number|tojson }},
                {permanent: true, direction: "center", className: "stop-number"});
        {% endmacro %}
        """
    )

    def __init__(self, number: int) -> None:
        super().__init__()
        self._name = "NumberLabel"
        self.number = str(int(number))


def route_map(settings: mapview.MapSettings, plan: Plan) -> mapview.MapParts:
    """The route (routed legs solid, estimated ones dashed), the stops numbered, and the
    sites of the families' offers. Every text goes through :class:`mapview.EscapedTooltip`."""
    fmap = mapview.LocalLeafletMap(settings)  # with the configured background map
    points: list[tuple[float, float]] = []
    titles: dict[int, tuple[Site, list[str]]] = {}
    for visit in plan.visits:
        for item in visit.offers:
            site = item.offer.site
            if site is not None:
                shown = titles.setdefault(site.id, (site, []))[1]
                if item.offer.title not in shown:
                    shown.append(item.offer.title)
    for site, names in titles.values():
        marker = folium.CircleMarker(
            _site_point(site),
            radius=5,
            color="#ffffff",
            weight=1,
            fill=True,
            fill_color="#1f78b4",
            fill_opacity=0.9,
        )
        marker.add_child(mapview.EscapedTooltip(f"{site.name}: {'; '.join(names)}"))
        marker.add_to(fmap)
    for leg in plan.legs:
        style = STYLE_ESTIMATED if leg.estimated else STYLE_ROUTED
        line = folium.PolyLine(leg.path, **style)
        note = " (geschätzt: Luftlinie × Umwegfaktor)" if leg.estimated else ""
        line.add_child(mapview.EscapedTooltip(f"{leg.minutes:.0f} min{note}"))
        line.add_to(fmap)
        points.extend(leg.path)
    stops = [(0, plan.start)] + [(visit.position, visit.stop) for visit in plan.visits]
    for number, stop in stops:
        marker = folium.CircleMarker(
            (stop.lat, stop.lon),
            radius=11,
            color="#4a2000",
            weight=2,
            fill=True,
            fill_color="#e66101" if number == 0 else "#ffffff",
            fill_opacity=1,
        )
        marker.add_child(_NumberLabel(number))
        marker.add_to(fmap)
        points.append((stop.lat, stop.lon))
    if points:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(20, 20))
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.render()
    # Generated markup; every text from the data went through EscapedTooltip (escape + JSON).
    return mapview.MapParts(
        header=Markup(root.header.render()),  # noqa: S704
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
    )


def _site_point(site: Site) -> tuple[float, float]:
    point = to_shape(site.geom)
    assert isinstance(point, shapely.Point)
    return float(point.y), float(point.x)


def anchor_sites(session: Session) -> list[Site]:
    """The network's anchor sites, offered as quick choices for the start."""
    return list(session.scalars(select(Site).where(Site.is_anchor).order_by(Site.name, Site.id)))
