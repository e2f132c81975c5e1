"""The write API's review of proposals by editors (``/api/proposals/<id>/approve|decline``).

Approving over a record changed since the proposal was made answers 409 with what changed
(``changes_since``) and the record's ETag now; sending that ETag as ``If-Match`` is the
editor's explicit decision to approve over those changes (412 when it changed again).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, jsonify, request

from mapservice.db import get_session
from mapservice.editing import proposals
from mapservice.editing.permissions import require
from mapservice.editing.service import InvalidInput
from mapservice.interop.openapi.spec import (
    BEARER_AUTH,
    describe,
    header,
    json_body,
    ok,
    path_id,
    ref,
)
from mapservice.models import Proposal
from mapservice.walking.profiles import settings_from_config
from mapservice.web.write_api import (
    _AUTH_ERRORS,
    _WRITE_ERRORS,
    _error,
    _if_match,
    bp,
    proposal_json,
    since_json,
)

_PROPOSAL_ID = path_id("proposal_id", "The proposal's id")
_DECIDED = ok("ProposalAnswer", description="The decided proposal (and the record's ETag)")


def _for_review(proposal_id: int) -> Proposal:
    found = get_session().get(Proposal, proposal_id)
    if found is None:
        abort(404, description=f"no proposal with id {proposal_id}")
    require(g.api_actor, "proposal.review")
    return found


@bp.post("/proposals/<int:proposal_id>/approve")
@describe(
    "Approve a proposal (editors); over a record changed since only with If-Match",
    tags=["writing"],
    security=BEARER_AUTH,
    parameters=[
        _PROPOSAL_ID,
        header(
            "If-Match",
            {"type": "string", "maxLength": 200},
            "The record's ETag now, as the 409 answer names it: approve over the changes "
            "made since the proposal (412 when it changed again).",
        ),
    ],
    responses={
        200: _DECIDED,
        400: ref("InvalidOffer"),
        **_AUTH_ERRORS,
        **{code: _WRITE_ERRORS[code] for code in (404, 409, 412, 413)},
    },
)
def approve(proposal_id: int) -> Any:
    proposal = _for_review(proposal_id)
    body = request.get_json(silent=True)
    fields = body.get("fields") if isinstance(body, dict) else None
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise InvalidInput({"fields": "fields must be a list of the proposal's member names"})
    session = get_session()
    if_match = _if_match()
    try:
        proposals.approve(
            session,
            g.api_actor,
            proposal,
            walk=settings_from_config(current_app.config),
            confirm_etag=if_match,
            fields=fields,
        )
    except proposals.ProposalConflict as conflict:
        session.rollback()
        status, error = (412, "precondition failed") if if_match else (409, "conflict")
        return _error(
            status,
            error,
            str(conflict),
            etag=conflict.etag,
            changes_since=since_json(conflict.since),
        )
    session.commit()
    etag = proposals.current_etag(proposal)
    response = jsonify({"proposal": proposal_json(proposal), "etag": etag})
    if etag:
        response.set_etag(etag)
    return response


@bp.post("/proposals/<int:proposal_id>/decline")
@describe(
    "Decline a proposal with a reason the provider reads (editors)",
    tags=["writing"],
    security=BEARER_AUTH,
    parameters=[_PROPOSAL_ID],
    request_body=json_body(
        "Decline", "Why the proposal is declined", {"reason": "Bitte Uhrzeit prüfen"}
    ),
    responses={
        200: _DECIDED,
        400: ref("InvalidOffer"),
        **_AUTH_ERRORS,
        **{code: _WRITE_ERRORS[code] for code in (404, 409, 413)},
    },
)
def decline(proposal_id: int) -> Any:
    proposal = _for_review(proposal_id)
    body = request.get_json(silent=True)
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput({"reason": "reason is missing: the provider reads why"})
    proposals.decline(get_session(), g.api_actor, proposal, reason)
    get_session().commit()
    return jsonify({"proposal": proposal_json(proposal)})
