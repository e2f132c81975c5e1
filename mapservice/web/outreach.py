"""Outreach workers' page: plan the day's home visits (role ``outreach`` or ``admin``).

``GET /outreach/`` shows the form; ``POST /outreach/`` (with the CSRF token) answers the
visiting order, the route map and one printable sheet per family. The views only parse
and render; :mod:`mapservice.outreach` plans.

Privacy: the families' addresses and points exist only in the POSTed form and in the
answer. Nothing is written to the database or the session, nothing is logged, and the
answer carries ``Cache-Control: no-store`` so that no browser or proxy keeps it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, make_response, render_template, request
from flask_babel import force_locale
from markupsafe import Markup

from mapservice.auth import check_roles
from mapservice.db import get_session
from mapservice.i18n import LANGUAGES, language_choices
from mapservice.outreach.form import (
    DEFAULT_ROWS,
    MAX_VISITS,
    MINUTE_CHOICES,
    Problem,
    parse_plan_form,
    visit_field,
)
from mapservice.outreach.plan import DEFAULT_MINUTES, plan_round
from mapservice.outreach.route_map import route_map
from mapservice.outreach.sites import anchor_sites
from mapservice.web import basemap
from mapservice.web.walking_api import walk_settings

OUTREACH_ROLES = ("outreach", "admin")

bp = Blueprint("outreach", __name__)


@bp.before_request
def _outreach_only() -> Any:
    return check_roles(OUTREACH_ROLES)


@bp.after_request
def _not_stored(response: Response) -> Response:
    # The form and the answer hold families' addresses: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _rows(requested: str | None, filled: int = 0) -> int:
    rows = int(requested) if requested and requested.isdigit() else DEFAULT_ROWS
    return max(1, min(MAX_VISITS, max(rows, filled)))


def _form_page(form: dict[str, str], problems: list[Problem], rows: int, **extra: Any) -> str:
    settings = walk_settings()
    return render_template(
        "outreach/index.html",
        form=form,
        problems=problems,
        problem_fields={p.field for p in problems},
        rows=rows,
        visit_field=visit_field,
        anchors=anchor_sites(get_session()),
        profiles=settings.profiles,
        minute_choices=MINUTE_CHOICES,
        languages=language_choices(),
        max_visits=MAX_VISITS,
        **extra,
    )


@bp.get("/")
def index() -> str:
    defaults = {"minutes": str(DEFAULT_MINUTES), "round_trip": "1", "profile": "adult"}
    anchors = anchor_sites(get_session())
    if anchors:
        defaults["start"] = f"site:{anchors[0].id}"
    return _form_page(defaults, [], _rows(request.args.get("rows")))


@bp.post("/")
def plan() -> tuple[str, int] | Response:
    session = get_session()
    form = {key: value for key, value in request.form.items() if key != "csrf_token"}
    filled = max(
        (
            row
            for row in range(1, MAX_VISITS + 1)
            if any(form.get(visit_field(row, k)) for k in ("address", "lat", "lon"))
        ),
        default=0,
    )
    rows = _rows(form.get("rows"), filled)
    settings = walk_settings()
    asked = parse_plan_form(session, form, settings, LANGUAGES)
    if asked.problems or asked.start is None:
        return _form_page(form, asked.problems, rows), 400
    the_plan = plan_round(
        session,
        asked.start,
        asked.homes,
        settings.profiles[asked.profile],
        settings,
        round_trip=asked.round_trip,
        minutes=asked.minutes,
    )
    map_settings = basemap.map_settings(label="Route der Hausbesuche")
    today = dt.date.today()
    sheets = []
    for visit in the_plan.visits:
        # Each family's sheet in the language chosen for it.
        with force_locale(visit.stop.language):
            sheets.append(
                Markup(  # noqa: S704 - a rendered template; its data texts are autoescaped
                    render_template(
                        "outreach/_sheet.html",
                        visit=visit,
                        plan=the_plan,
                        today=today,
                        sheet_lang=visit.stop.language,
                    )
                )
            )
    page = _form_page(
        form,
        [],
        rows,
        plan=the_plan,
        route_map=route_map(map_settings, the_plan),
        sheets=sheets,
    )
    return make_response(page, 200)
