"""Pages for the network's editors and providers (``/editing``), German like the admin pages.

``GET /editing/``                               offers: search, filters, pages
``GET/POST /editing/offers/new``                 a new offer
``GET/POST /editing/offers/<id>``                edit (a provider's save is a proposal)
``POST /editing/offers/<id>/duplicate|end|confirm``
``GET /editing/offers/<id>/history``             revisions as a readable diff
``POST /editing/offers/<id>/restore/<rev>``      restore an earlier revision
``GET /editing/proposals``, ``GET/POST /editing/proposals/<id>``  review
``GET /editing/overdue``, ``POST /editing/confirm-all``         freshness
``GET/POST /editing/sites/<id>``                 a site's address, access and position
``GET /editing/sites/<id>/history``, ``POST /editing/sites/<id>/restore/<rev>``
``GET /editing/providers`` (a provider account: its own), ``GET/POST /editing/providers/<id>``
``GET /editing/providers/<id>/history``, ``POST /editing/providers/<id>/restore/<rev>``
``POST /editing/providers/<id>/trusted``         trust a provider (its changes go live)

Every POST carries the CSRF token (the app-wide CSRFProtect); every rule is the domain's
(:mod:`mapservice.editing`), which raises ``Forbidden`` whatever the page shows.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from flask_login import current_user

from mapservice.auth import check_roles
from mapservice.editing.permissions import EDITING_ROLES, Actor, Forbidden, NotFound

bp = Blueprint("editing", __name__)


@bp.before_request
def _staff_only() -> Any:
    return check_roles(EDITING_ROLES)


def actor() -> Actor:
    return Actor.of(current_user._get_current_object())


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden) -> Response:
    return Response(f"Nicht erlaubt: {error}", status=403, mimetype="text/plain")


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> Response:
    return Response(f"Nicht gefunden: {error}", status=404, mimetype="text/plain")


@bp.context_processor
def _context() -> dict[str, Any]:
    from mapservice.web.editing.messages import LABELS

    return {"me": actor(), "field_labels": LABELS}


from mapservice.web.editing import offers, records, review  # noqa: E402,F401  (registers views)
