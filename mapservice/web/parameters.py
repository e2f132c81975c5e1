"""Every request parameter's length, checked before anything else runs.

A value longer than its limit answers **400 naming the parameter** (JSON on API paths and
for scripts, else a short page in the visitor's language) before a view, the CSRF check,
the database or a library (the print view's QR encoder) sees it. The limits are generous
for real input and listed in the README ("Running it for real" → "Bad input").

:data:`PUBLIC_PARAMETERS` names the parameters each public GET endpoint reads; the
hostile-input test (``tests/test_hostile_input.py``) sends generated values to each of them.
An endpoint missing here is still tested, with every known parameter name.

JSON bodies (the write API, the planners' scenarios) are checked the same way, before the
view parses them: at most ``MAX_JSON_BODY`` bytes (else **413**), nested at most
:data:`JSON_MAX_DEPTH` deep, at most :data:`JSON_MAX_ITEMS` members per object or list, and no
text longer than its field's limit (:data:`JSON_FIELD_LIMITS`, else :data:`JSON_TEXT_LIMIT`)
(else **400 naming the member**, e.g. ``schedule[2].weekday``). The views check each field's
own rules (``mapservice.editing.offer_input``, ``mapservice.planning.scenarios``) afterwards;
nothing is written before every check passed.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from mapservice.geocode import MAX_QUERY_LENGTH
from mapservice.validation import ParameterError
from mapservice.web.errors import wants_json
from mapservice.web.family_view import FILTER_KEYS

# Characters per value. Numbers get room for a float's digits or a comma-separated list.
PARAMETER_LIMITS: dict[str, int] = {
    # the family's filters (public pages, /results, /print, /api/offers, /api/reachable)
    "age_months": 16,
    "age_years": 16,
    "age_extra_months": 16,
    "birth_month": 16,
    "where": 200,
    "lat": 32,
    "lon": 32,
    "minutes": 64,
    "profile": 32,
    "category": 400,
    "language": 100,
    "free": 8,
    "day": 16,
    "time": 16,
    "bbox": 128,
    "shown": 16,
    "lang": 16,
    "q": MAX_QUERY_LENGTH,
    # staff pages
    "next": 512,
    "area": 64,
    "phase": 16,
    "scenario": 16,
    "limit": 16,
    "rows": 16,
    "status": 32,
    "source": 64,
}
DEFAULT_LIMIT = 200  # any other query parameter
FORM_DEFAULT_LIMIT = 1000  # any other form field (addresses, names, notes)
NAME_LIMIT = 64  # a parameter's name
# Outreach form rows are named visit-<n>-<field>: the field's limit applies.
_ROW_FIELD = re.compile(r"^visit-\d{1,3}-(?P<field>[a-z_]+)$")
# The offer form's free text and its translations (description_tr …) may be as long as the
# write API allows; the form then answers with its own message next to the field.
_TRANSLATED_FIELD = re.compile(r"^(?P<field>description)(?:_[a-z]{2})?$")

# JSON bodies: their shape, and text per member name (the writable offer's free-text fields,
# as mapservice/interop/openapi/writing.py documents them; a scenario's name and label).
JSON_MAX_DEPTH = 8
JSON_MAX_ITEMS = 200  # members of one object or items of one list (a schedule's slots …)
JSON_TEXT_LIMIT = 5000  # any other text: the longest free text (a description)
# Keyed by the member's path without list indices ("schedule.weekday"); an offer sent as a
# GeoJSON Feature has the same limits under "properties.".
JSON_FIELD_LIMITS: dict[str, int] = {
    # an offer (write API)
    "title": 300,
    "description": 5000,
    "cost_text": 300,
    "contact": 2000,
    "category": 40,
    "status": 32,
    "wheelchair": 32,
    "languages": 16,
    "schedule.weekday": 16,
    "schedule.start": 16,
    "schedule.end": 16,
    "schedule.valid_from": 32,
    "schedule.valid_to": 32,
    "new_site.name": 300,
    **{f"new_site.{key}": 200 for key in ("street", "house_number", "postcode", "city")},
    # a scenario and its changes (planners' API)
    "name": 200,
    "label": 200,
    "area": 80,
    "action": 16,
}
DEFAULT_MAX_JSON_BODY = 256 * 1024
_LIST_INDEX = re.compile(r"\[\d+\]")

# The family view's filters: one list, so a new filter gets a limit and is fuzzed at once.
_FILTERS = FILTER_KEYS
_OFFER_FILTERS = ("age_months", "age_years", "age_extra_months", "birth_month", "category")
# Public GET endpoints → the query parameters they read (``lang`` is read by every page).
PUBLIC_PARAMETERS: dict[str, tuple[str, ...]] = {
    "public.index": (*_FILTERS, "lang"),
    "public.results": _FILTERS,
    "public.print_view": (*_FILTERS, "lang"),
    "public.offer_page": (*_FILTERS, "lang"),
    "public.offer_calendar": (),
    "public.geocode_api": ("q",),
    "api.offers": (*_OFFER_FILTERS, "bbox", "language", "free"),
    "api.offer": (),
    "api.sites": ("bbox",),
    "api.taxonomy": (),
    "api.health": (),
    "walking_api.reachable": ("lat", "lon", "minutes", "profile", *_OFFER_FILTERS),
    "walking_api.isochrone": ("lat", "lon", "minutes", "profile"),
    "walking_api.profiles": (),
    "auth.login": ("next", "lang"),
}


def limit_for(name: str, *, form: bool = False) -> int:
    if name in PARAMETER_LIMITS:
        return PARAMETER_LIMITS[name]
    row_field = _ROW_FIELD.match(name)
    if row_field and row_field["field"] in PARAMETER_LIMITS:
        return PARAMETER_LIMITS[row_field["field"]]
    if form:
        translated = _TRANSLATED_FIELD.match(name)
        if translated:
            return JSON_FIELD_LIMITS[translated["field"]]
        if name == "contact":
            return JSON_FIELD_LIMITS["contact"]
        return FORM_DEFAULT_LIMIT
    return DEFAULT_LIMIT


def _too_long() -> tuple[ParameterError, int] | None:
    """The first parameter (query, then form) longer than its limit, with the limit."""
    sources = [(request.args, False)]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append((request.form, True))
    for values, form in sources:
        for name, value in values.items(multi=True):
            if len(name) > NAME_LIMIT:
                shown = name[:20] + "…"
                return ParameterError(shown, "unknown parameter with an over-long name"), NAME_LIMIT
            limit = limit_for(name, form=form)
            if len(value) > limit:
                return ParameterError(name, f"must be at most {limit} characters"), limit
    return None


def check_parameter_lengths() -> Response | None:
    """``before_request``: refuse an over-long parameter before anything else runs."""
    found = _too_long()
    if found is None:
        return check_json_body()
    error, limit = found
    if wants_json():
        response = jsonify(error.as_dict())
    else:
        response = Response(
            render_template("error.html", status=400, parameter=error.parameter, limit=limit),
            mimetype="text/html",
        )
    response.status_code = 400
    return response


def check_json_body() -> Response | None:
    """A JSON body's size and shape, before any view reads it (answers in JSON: the client
    sent JSON). 413 for a body over ``MAX_JSON_BODY`` bytes, 400 naming the member else."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or not request.is_json:
        return None
    limit = int(current_app.config.get("MAX_JSON_BODY") or DEFAULT_MAX_JSON_BODY)
    too_large = ParameterError("body", f"must be at most {limit} bytes of JSON")
    if request.content_length is not None and request.content_length > limit:
        return _json_error(too_large, 413)
    # A body without a length (chunked) stops being read at the limit.
    request.max_content_length = limit
    try:
        data = request.get_json(silent=True)
    except RequestEntityTooLarge:
        return _json_error(too_large, 413)
    except RecursionError:  # json's parser gives up on very deep nesting
        return _json_error(ParameterError("body", "is nested too deeply"), 400)
    problem = json_problem(data)
    return None if problem is None else _json_error(problem, 400)


def json_problem(value: Any, path: str = "", depth: int = 0) -> ParameterError | None:
    """The first member of a parsed JSON body beyond the limits above, or None."""
    where = path or "body"
    if depth > JSON_MAX_DEPTH:
        return ParameterError(where, f"is nested more than {JSON_MAX_DEPTH} levels deep")
    if isinstance(value, str):
        field = _LIST_INDEX.sub("", path).removeprefix("properties.")
        limit = JSON_FIELD_LIMITS.get(field, JSON_TEXT_LIMIT)
        if len(value) > limit:
            return ParameterError(where, f"must be at most {limit} characters")
        return None
    if isinstance(value, dict | list) and len(value) > JSON_MAX_ITEMS:
        return ParameterError(where, f"must have at most {JSON_MAX_ITEMS} members")
    if isinstance(value, dict):
        for key, item in value.items():
            if len(key) > NAME_LIMIT:
                return ParameterError(key[:20] + "…", "unknown member with an over-long name")
            found = json_problem(item, f"{path}.{key}" if path else key, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = json_problem(item, f"{where}[{index}]", depth + 1)
            if found is not None:
                return found
    return None


def _json_error(error: ParameterError, status: int) -> Response:
    """The shape of the API's own 400s: ``parameter`` and ``errors`` {member: message}; the
    write API calls its 400 ``invalid offer`` (``InvalidOffer`` in its OpenAPI document)."""
    body: dict[str, Any] = {
        **error.as_dict(),
        "errors": {error.parameter: error.message},
        "status": status,
    }
    if status == 413:
        body["error"] = "request entity too large"
    elif request.blueprint == "write_api":
        body["error"] = "invalid offer"
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the check first, so that it runs before every other ``before_request``."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_parameter_lengths)
