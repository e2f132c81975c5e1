"""The write API for providers' own systems and scripts (issue 10), under ``/api``.

Authentication: ``Authorization: Bearer <token>`` only (``mapservice create-token EMAIL``).
The blueprint is exempt from CSRF checks because a cookie session never authorises a
write here: a browser does not attach the header to a cross-site request by itself.

``POST /api/offers``                 201 + ``Location`` + ``ETag`` (202 + proposal for a
                                     provider that is not trusted)
``PATCH /api/offers/<id>``           200 + ``ETag`` (202 + proposal); ``If-Match`` → 412 if stale
``POST /api/offers/<id>/end``        200 (202 + proposal); ``If-Match`` as above
``GET /api/offers/<id>/history``     the offer's revisions, newest first
``GET /api/proposals/<id>``          a proposal (its status, and the reason if declined)
``POST /api/proposals/<id>/approve`` editors: put it live; 409 with ``changes_since`` when the
                                     record changed since the proposal was made, unless
                                     ``If-Match`` names its ETag now (412 if that is stale);
                                     body ``{"fields": [...]}`` approves only those fields
``POST /api/proposals/<id>/decline`` editors: ``{"reason": "..."}`` (400 without one)

The body is the JSON ``GET /api/offers/<id>`` returns (a Feature or its ``properties``);
read-only members are ignored, so what was read can be sent back unchanged. Errors:
400 ``{"error", "parameter", "message", "errors": {field: message}}`` (nothing written),
401 without a valid token, 403 when the role may not, 404, 412 when ``If-Match`` is stale.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request, url_for

from mapservice import queries
from mapservice.auth import csrf
from mapservice.db import get_session
from mapservice.editing import proposals, revisions
from mapservice.editing.offer_input import properties_of
from mapservice.editing.permissions import Actor, EditingError, Forbidden, NotFound, require
from mapservice.editing.service import InvalidInput, Outcome, Stale, end_offer, save_offer
from mapservice.editing.states import offer_etag
from mapservice.editing.tokens import user_for_token
from mapservice.importers.records import RowInvalid
from mapservice.interop.openapi.spec import (
    BEARER_AUTH,
    GEOJSON,
    JSON,
    describe,
    header,
    json_body,
    ok,
    path_id,
    ref,
)
from mapservice.models import Offer, Proposal
from mapservice.walking.profiles import settings_from_config
from mapservice.web.api import geojson_response
from mapservice.web.errors import register_json_errors

bp = Blueprint("write_api", __name__)
csrf.exempt(bp)
register_json_errors(bp)


def _error(status: int, error: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": error, "message": message, **extra}), status


@bp.before_request
def _bearer_only() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(get_session(), token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response, status = _error(401, "unauthorized", "send Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="mapservice"'
        return response, status
    g.api_actor = Actor.of(user)
    return None


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden) -> tuple[Response, int]:
    return _error(403, "forbidden", str(error))


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[Response, int]:
    return _error(404, "not found", str(error))


@bp.errorhandler(Stale)
def _stale(error: Stale) -> tuple[Response, int]:
    get_session().rollback()
    return _error(412, "precondition failed", f"{error}; GET it again and reapply your change")


@bp.errorhandler(InvalidInput)
def _invalid(error: InvalidInput) -> tuple[Response, int]:
    get_session().rollback()
    first = next(iter(error.errors))
    return _error(400, "invalid offer", error.errors[first], parameter=first, errors=error.errors)


@bp.errorhandler(EditingError)
def _refused(error: EditingError) -> tuple[Response, int]:
    get_session().rollback()
    return _error(409, "conflict", str(error))


def _body() -> Any:
    data = request.get_json(silent=True)
    try:
        return properties_of(data)
    except RowInvalid as exc:
        raise InvalidInput({"body": str(exc)}) from None


def _offer(offer_id: int) -> Offer:
    offer = get_session().get(Offer, offer_id)
    if offer is None:
        abort(404, description=f"no offer with id {offer_id}")
    return offer


def proposal_json(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal.id,
        "status": proposal.status,
        "entity": proposal.entity,
        "offer_id": proposal.offer_id,
        "provider_id": proposal.provider_id,
        "data": proposal.data,
        "base_etag": proposal.base_etag,
        "reason": proposal.reason,
        "created_at": proposal.created_at.isoformat() if proposal.created_at else None,
        "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
    }


def since_json(since: list[proposals.Since]) -> list[dict[str, Any]]:
    return [
        {
            "revision_id": item.revision.id,
            "author": item.revision.author,
            "created_at": item.revision.created_at.isoformat(),
            "changes": item.changes,
            "overlapping": sorted(item.overlapping),
        }
        for item in since
    ]


def _answer(outcome: Outcome, created: bool = False) -> Response:
    session = get_session()
    session.commit()
    if outcome.proposal is not None:
        response = jsonify({"proposal": proposal_json(outcome.proposal)})
        response.status_code = 202
        response.headers["Location"] = url_for(
            "write_api.proposal", proposal_id=outcome.proposal.id
        )
        return response
    assert outcome.offer is not None
    response = geojson_response(queries.offer_feature(outcome.offer))
    response.set_etag(offer_etag(outcome.offer))
    if created:
        response.status_code = 201
        response.headers["Location"] = url_for("api.offer", offer_id=outcome.offer.id)
    return response


# --- the description of each operation (OpenAPI, mapservice/interop/openapi) ------------

_OFFER_ID = path_id("offer_id", "The offer's id")
_IF_MATCH = header(
    "If-Match",
    {"type": "string", "maxLength": 200},
    "The ETag of the offer as last read; 412 when it changed since.",
)
_BODY_TEXT = "The offer as GET /api/offers/{offer_id} returns it (a Feature or its properties)."
_NEW_OFFER = json_body(
    "OfferWrite",
    _BODY_TEXT,
    {
        "title": "Elterncafé (Beispiel)",
        "category": "parents_cafe",
        "age_min_months": 0,
        "age_max_months": 72,
        "languages": ["de", "tr"],
        "cost_free": None,
        "schedule": [{"weekday": "tue", "start": "09:00", "end": "11:00"}],
        "new_site": {"name": "Familienzentrum (Beispiel)", "lon": 7.4700, "lat": 51.5240},
    },
    (JSON, GEOJSON),
)
_CHANGE = json_body(
    "OfferWrite",
    _BODY_TEXT + " Only the members sent change.",
    {"registration_required": True, "capacity": 12},
    (JSON, GEOJSON),
)
_ETAG = {"ETag": "The offer's new version"}
_PROPOSED = ok(
    "ProposalAnswer",
    description="The provider is not trusted yet: a proposal for the coordinators",
    headers={"Location": "The proposal (GET /api/proposals/{proposal_id})"},
)
_AUTH_ERRORS = {401: ref("Unauthorized"), 403: ref("Forbidden")}
_WRITE_ERRORS = {
    400: ref("InvalidOffer"),
    **_AUTH_ERRORS,
    404: ref("WriteNotFound"),
    409: ref("Conflict"),
    412: ref("PreconditionFailed"),
    413: ref("BodyTooLarge"),
}


def _written(description: str) -> dict[str, Any]:
    return ok("OfferFeature", GEOJSON, description, headers=_ETAG)


def _if_match() -> str | None:
    header = request.headers.get("If-Match")
    return header.strip().removeprefix("W/") if header else None


@bp.post("/offers")
@describe(
    "Add an offer",
    tags=["writing"],
    security=BEARER_AUTH,
    request_body=_NEW_OFFER,
    responses={
        201: ok(
            "OfferFeature",
            GEOJSON,
            "The new offer",
            headers={"Location": "The new offer's address", "ETag": "Its version"},
        ),
        202: _PROPOSED,
        **{code: answer for code, answer in _WRITE_ERRORS.items() if code not in (404, 412)},
    },
)
def create() -> Response:
    walk = settings_from_config(current_app.config)
    outcome = save_offer(get_session(), g.api_actor, _body(), walk=walk)
    return _answer(outcome, created=True)


@bp.patch("/offers/<int:offer_id>")
@describe(
    "Change an offer: only the members sent",
    tags=["writing"],
    security=BEARER_AUTH,
    parameters=[_OFFER_ID, _IF_MATCH],
    request_body=_CHANGE,
    responses={200: _written("The changed offer"), 202: _PROPOSED, **_WRITE_ERRORS},
)
def patch(offer_id: int) -> Response:
    offer = _offer(offer_id)
    walk = settings_from_config(current_app.config)
    outcome = save_offer(
        get_session(), g.api_actor, _body(), offer, if_match=_if_match(), walk=walk
    )
    return _answer(outcome)


@bp.post("/offers/<int:offer_id>/end")
@describe(
    "End an offer (its status becomes ended; the history keeps it)",
    tags=["writing"],
    security=BEARER_AUTH,
    parameters=[_OFFER_ID, _IF_MATCH],
    responses={
        200: _written("The ended offer"),
        202: _PROPOSED,
        **{code: answer for code, answer in _WRITE_ERRORS.items() if code != 400},
    },
)
def end(offer_id: int) -> Response:
    outcome = end_offer(get_session(), g.api_actor, _offer(offer_id), if_match=_if_match())
    return _answer(outcome)


@bp.get("/offers/<int:offer_id>/history")
@describe(
    "The offer's revisions, newest first",
    tags=["writing"],
    security=BEARER_AUTH,
    parameters=[_OFFER_ID],
    responses={200: ok("History"), **_AUTH_ERRORS, 404: ref("WriteNotFound")},
)
def history(offer_id: int) -> Response:
    offer = _offer(offer_id)
    require(g.api_actor, "history.view", offer.provider_id)
    return jsonify(
        {
            "offer_id": offer.id,
            "revisions": [
                {
                    "id": revision.id,
                    "action": revision.action,
                    "author": revision.author,
                    "created_at": revision.created_at.isoformat(),
                    "changes": revision.changes,
                }
                for revision in revisions.history(get_session(), "offer", offer.id)
            ],
        }
    )


@bp.get("/proposals/<int:proposal_id>")
@describe(
    "A proposal: its status, and the reason if declined",
    tags=["writing"],
    security=BEARER_AUTH,
    parameters=[path_id("proposal_id", "The proposal's id")],
    responses={200: ok("Proposal"), **_AUTH_ERRORS, 404: ref("WriteNotFound")},
)
def proposal(proposal_id: int) -> Response:
    found = get_session().get(Proposal, proposal_id)
    if found is None:
        abort(404, description=f"no proposal with id {proposal_id}")
    actor: Actor = g.api_actor
    if actor.role == "provider":
        require(actor, "proposal.view", found.provider_id)
    else:
        require(actor, "proposal.review")
    return jsonify(proposal_json(found))


from mapservice.web import write_review  # noqa: E402,F401  (registers the review endpoints)
