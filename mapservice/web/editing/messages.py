"""German messages for the staff forms, next to each field.

The domain reports errors in English, naming the field (as the write API answers them);
the forms show a German sentence instead: a message by field and kind of error, never the
English parser text. Schedule rows and the age range are checked here first, row by row,
so their messages can say which row and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

LABELS = {
    "title": "Titel",
    "description": "Beschreibung",
    "category": "Bereich",
    "status": "Status",
    "provider_id": "Anbieter",
    "age_min_months": "Alter von",
    "age_max_months": "Alter bis unter",
    "languages": "Sprachen",
    "cost_free": "Kostenlos?",
    "cost_text": "Kosten (Text)",
    "registration_required": "Anmeldung nötig?",
    "contact": "Kontakt",
    "capacity": "Plätze",
    "schedule": "Wochenplan",
    "no_school_holidays": "Schulferien",
    "site_id": "Ort",
    "new_site": "neuer Ort",
    "wheelchair": "Rollstuhlgerecht",
    "translations": "Übersetzungen",
    "name": "Name",
    "kind": "Art",
    "website": "Webseite",
    "street": "Straße",
    "house_number": "Hausnummer",
    "postcode": "PLZ",
    "city": "Ort",
    "location": "Position",
}

# Whole messages for an error the domain reports about a field, by a pattern of its text.
_BY_PATTERN: tuple[tuple[str, str, str], ...] = (
    ("title", r"is missing", "Bitte einen Titel eingeben."),
    ("category", r"missing|unknown", "Bitte einen Bereich aus der Liste wählen."),
    ("site_id", r"no site with id", "Diesen Ort gibt es nicht (mehr). Bitte neu wählen."),
    (
        "site_id",
        r"needed|missing|number",
        "Bitte einen vorhandenen Ort wählen oder einen neuen Ort anlegen.",
    ),
    ("provider_id", r"no provider with id", "Diesen Anbieter gibt es nicht (mehr)."),
    (
        "provider_id",
        r"own provider",
        "Ein Anbieter-Konto legt Angebote nur für den eigenen Anbieter an.",
    ),
    (
        "wheelchair",
        r"shared",
        "Diesen Ort nutzen auch andere Anbieter: die Zugänglichkeit ändert die Koordination.",
    ),
    (
        "new_site",
        r"name",
        "Bitte einen Namen für den neuen Ort eingeben.",
    ),
    (
        "new_site",
        r"lon|lat|coordinates",
        "Bitte eine Adresse suchen und wählen oder einen Punkt auf der Karte anklicken.",
    ),
    (
        "languages",
        r"language",
        "Bitte Sprachen als Kürzel aus zwei Buchstaben angeben, z. B. „de tr ar“.",
    ),
    ("capacity", r"positive", "Bitte eine Zahl größer als 0 eingeben (oder leer lassen)."),
    ("capacity", r"number", "Bitte die Plätze als ganze Zahl eingeben (oder leer lassen)."),
    ("name", r"another provider", "Einen Anbieter mit diesem Namen gibt es schon."),
    ("name", r"missing", "Bitte einen Namen eingeben."),
    ("kind", r".", "Bitte eine Art aus der Liste wählen."),
    (
        "website",
        r"web address",
        "Bitte eine Webadresse wie https://www.beispiel.de eingeben (oder leer lassen).",
    ),
    (
        "location",
        r".",
        "Bitte Breite und Länge als Zahlen angeben oder auf der Karte klicken.",
    ),
    (
        "translations",
        r"longer",
        "Eine Übersetzung ist zu lang (höchstens 5000 Zeichen).",
    ),
)
_LONGER = re.compile(r"longer than (\d+) characters")


def german(field: str, message: str) -> str:
    """The German sentence for the domain's ``message`` about ``field``."""
    for name, pattern, text in _BY_PATTERN:
        if name == field and re.search(pattern, message):
            return text
    longer = _LONGER.search(message)
    if longer:
        return f"Zu lang: höchstens {longer.group(1)} Zeichen."
    if "is missing" in message:
        return "Bitte ausfüllen."
    if message.startswith("unknown field"):
        return "Dieses Feld kennt das Formular nicht."
    if "unknown" in message or "must be true" in message:
        return "Bitte einen Wert aus der Liste wählen."
    label = LABELS.get(field, field)
    return f"Bitte „{label}“ prüfen: so kann es nicht gespeichert werden."


def german_errors(errors: Mapping[str, str]) -> dict[str, str]:
    return {field: german(field, message) for field, message in errors.items()}


# --- checks the form makes itself, in German ----------------------------------------------

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_YEARS = 18


def _time(value: str) -> dt.time | None:
    found = _TIME.match(value.strip())
    return dt.time(int(found.group(1)), int(found.group(2))) if found else None


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def schedule_row_error(row: Mapping[str, str], weekdays: tuple[str, ...]) -> str | None:
    """What is wrong with a filled schedule row, in German (None: nothing)."""
    problems = []
    if row.get("weekday", "") not in weekdays:
        problems.append("bitte einen Tag wählen")
    start, end = _time(row.get("start", "")), _time(row.get("end", ""))
    if start is None or end is None:
        problems.append("„von“ und „bis“ als Uhrzeit angeben, z. B. 09:30")
    elif end <= start:
        problems.append("„bis“ muss nach „von“ liegen")
    valid_from, valid_to = row.get("valid_from", ""), row.get("valid_to", "")
    first = _date(valid_from) if valid_from else None
    last = _date(valid_to) if valid_to else None
    if (valid_from and first is None) or (valid_to and last is None):
        problems.append("Datum als Kalenderdatum angeben (JJJJ-MM-TT)")
    elif first and last and first > last:
        problems.append("„gültig ab“ muss vor „gültig bis“ liegen")
    if not problems:
        return None
    text = "; ".join(problems)
    return text[0].upper() + text[1:] + "."


def age_errors(low: int | None, high: int | None) -> dict[str, str]:
    """German messages for the age range in months (min inclusive, max exclusive)."""
    errors: dict[str, str] = {}
    if low is None:
        errors["age_min_months"] = "Bitte angeben, ab welchem Alter (Jahre und Monate)."
    elif low > MAX_YEARS * 12:
        errors["age_min_months"] = f"Höchstens {MAX_YEARS} Jahre."
    if high is None:
        errors["age_max_months"] = "Bitte angeben, bis unter welches Alter (Jahre und Monate)."
    elif high > MAX_YEARS * 12:
        errors["age_max_months"] = f"Höchstens {MAX_YEARS} Jahre („bis unter 18 Jahre“)."
    if not errors and low is not None and high is not None and low >= high:
        errors["age_max_months"] = "„bis unter“ muss ein höheres Alter sein als „von“."
    return errors
