"""The outreach form: a worker enters the day's visits (an address or a point, the child's
age, the family's language) and a start point; every problem is collected with the field
it names. Addresses are looked up in the offline address search (:mod:`mapservice.geocode`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mapservice import geocode
from mapservice.models import Site
from mapservice.outreach.plan import DEFAULT_MINUTES, Stop
from mapservice.outreach.sites import site_point
from mapservice.validation import ParameterError, parse_age_months, parse_latitude, parse_longitude
from mapservice.walking.profiles import WalkSettings

MAX_VISITS = 20
DEFAULT_ROWS = 8
MINUTE_CHOICES = (5, 10, 15, 20)


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
        lat, lon = site_point(site)
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
