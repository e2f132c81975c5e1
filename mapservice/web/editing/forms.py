"""The offer form: raw text fields ↔ the write API's JSON shape. Free of Flask.

The form is plain HTML (works on a phone without scripts); what was typed is kept as raw
strings so a form with errors comes back exactly as sent. Checking is the domain's
(:func:`mapservice.editing.offer_input.check_offer`); this module only reshapes, and
reports what it cannot reshape (a year that is not a number) under the domain's field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mapservice.editing.states import State
from mapservice.i18n import LANGUAGES
from mapservice.taxonomy import phases
from mapservice.web.editing.messages import age_errors, schedule_row_error

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
TRANSLATED = tuple(code for code in LANGUAGES if code != "de")
EXTRA_ROWS = 1  # empty schedule rows under the filled ones
TRI_STATE = {"yes": True, "no": False, "unknown": None}


@dataclass
class OfferForm:
    """What the form shows: raw values by input name, schedule rows, errors by field."""

    raw: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.raw.get(name, "")


def _years_months(months: int | None) -> tuple[str, str]:
    if months is None:
        return "", ""
    return str(months // 12), str(months % 12)


def _tri(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def form_from_state(state: State, wheelchair: str | None = None) -> OfferForm:
    """The form filled with a stored offer (or a copy of one)."""
    min_years, min_months = _years_months(state.get("age_min_months"))
    max_years, max_months = _years_months(state.get("age_max_months"))
    raw = {
        "title": state.get("title") or "",
        "description": state.get("description") or "",
        "category": state.get("category") or "",
        "age_min_years": min_years,
        "age_min_rest": min_months,
        "age_max_years": max_years,
        "age_max_rest": max_months,
        "languages": " ".join(state.get("languages") or []),
        "cost_free": _tri(state.get("cost_free")),
        "cost_text": state.get("cost_text") or "",
        "registration_required": _tri(state.get("registration_required")),
        "contact": state.get("contact") or "",
        "capacity": str(state["capacity"]) if state.get("capacity") else "",
        "status": state.get("status") or "active",
        "no_school_holidays": "on" if state.get("no_school_holidays") else "",
        "site_mode": "existing",
        "site_id": str(state["site_id"]) if state.get("site_id") else "",
        "provider_id": str(state["provider_id"]) if state.get("provider_id") else "",
        "wheelchair": wheelchair or "unknown",
    }
    for code, entry in (state.get("translations") or {}).items():
        if code in TRANSLATED:
            raw[f"title_{code}"] = entry.get("title", "")
            raw[f"description_{code}"] = entry.get("description", "")
    rows = [
        {
            "weekday": slot["weekday"],
            "start": slot["start"],
            "end": slot["end"],
            "valid_from": slot.get("valid_from") or "",
            "valid_to": slot.get("valid_to") or "",
        }
        for slot in state.get("schedule") or []
    ]
    return OfferForm(raw, rows + _empty_rows(EXTRA_ROWS))


def _empty_rows(count: int) -> list[dict[str, str]]:
    return [{"weekday": "", "start": "", "end": "", "valid_from": "", "valid_to": ""}] * count


def form_from_post(form: Mapping[str, str], *, add_row: bool = False) -> OfferForm:
    """The form as sent (to show again), with one more empty row when asked."""
    raw = {key: value for key, value in form.items() if not key.startswith("slot_")}
    rows = []
    index = 0
    while f"slot_{index}_weekday" in form:
        rows.append(
            {
                key: form.get(f"slot_{index}_{key}", "").strip()
                for key in ("weekday", "start", "end", "valid_from", "valid_to")
            }
        )
        index += 1
    filled = [row for row in rows if any(row.values())]
    return OfferForm(raw, filled + _empty_rows(EXTRA_ROWS + (1 if add_row else 0)))


def _months(form: OfferForm, prefix: str, errors: dict[str, str]) -> int | None:
    years, rest = form.value(f"{prefix}_years").strip(), form.value(f"{prefix}_rest").strip()
    if not years and not rest:
        return None
    if not (years or "0").isdigit() or not (rest or "0").isdigit() or int(rest or 0) > 11:
        errors[f"{prefix}_months"] = "Jahre und Monate als ganze Zahlen angeben (Monate 0–11)."
        return None
    return int(years or 0) * 12 + int(rest or 0)


def data_from_form(
    form: OfferForm, *, provider_fixed: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON shape the domain checks, and errors the form itself finds."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        key: form.value(key)
        for key in ("title", "description", "category", "cost_text", "contact", "capacity")
    }
    data["status"] = form.value("status") or "active"
    ages: dict[str, int | None] = {}
    for key in ("age_min", "age_max"):
        months = _months(form, key, errors)
        ages[key] = months
        if months is not None:
            data[f"{key}_months"] = months
        elif f"{key}_months" not in errors:
            data[f"{key}_months"] = ""
    for key, message in age_errors(ages["age_min"], ages["age_max"]).items():
        errors.setdefault(key, message)
    data["languages"] = form.value("languages")
    for key in ("cost_free", "registration_required"):
        data[key] = TRI_STATE.get(form.value(key))
    data["no_school_holidays"] = form.value("no_school_holidays") == "on"
    data["wheelchair"] = form.value("wheelchair") or "unknown"
    data["translations"] = {
        code: {
            "title": form.value(f"title_{code}"),
            "description": form.value(f"description_{code}"),
        }
        for code in TRANSLATED
        if form.value(f"title_{code}").strip() or form.value(f"description_{code}").strip()
    }
    data["schedule"] = [
        {key: row[key] or None for key in row} for row in form.rows if any(row.values())
    ]
    for index, row in enumerate(form.rows):
        problem = schedule_row_error(row, WEEKDAYS) if any(row.values()) else None
        if problem:
            errors[f"slot_{index}"] = f"Zeile {index + 1}: {problem}"
    if any(key.startswith("slot_") for key in errors):
        errors["schedule"] = "Bitte die markierten Zeilen des Wochenplans korrigieren."
    if not provider_fixed:
        data["provider_id"] = form.value("provider_id") or None
    mode = form.value("site_mode")
    if mode in ("address", "map"):
        data["new_site"] = {
            key: form.value(f"site_{key}")
            for key in ("name", "lon", "lat", "street", "house_number", "postcode", "city")
        }
    else:
        data["site_id"] = form.value("site_id")
    return data, errors


def life_phases(min_months: int | None, max_months: int | None) -> list[str]:
    """The life phases an age range touches, as the network names them."""
    if min_months is None or max_months is None or min_months >= max_months:
        return []
    return [
        phase.label_de
        for phase in phases().values()
        if phase.min_months < max_months and min_months < phase.max_months
    ]
