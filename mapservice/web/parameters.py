"""Every request parameter's length, checked before anything else runs.

A value longer than its limit answers **400 naming the parameter** (JSON on API paths and
for scripts, else a short page in the visitor's language) before a view, the CSRF check,
the database or a library (the print view's QR encoder) sees it. The limits are generous
for real input and listed in the README ("Running it for real" → "Bad input").

:data:`PUBLIC_PARAMETERS` names the parameters each public GET endpoint reads; the
hostile-input test (``tests/test_hostile_input.py``) sends generated values to each of them.
An endpoint missing here is still tested, with every known parameter name.
"""

from __future__ import annotations

import re

from flask import Flask, Response, jsonify, render_template, request

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
    return FORM_DEFAULT_LIMIT if form else DEFAULT_LIMIT


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
        return None
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


def init_app(app: Flask) -> None:
    """Register the check first, so that it runs before every other ``before_request``."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_parameter_lengths)
