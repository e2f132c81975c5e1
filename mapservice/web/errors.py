"""Errors as JSON for the API: bad parameters (400) name the parameter; 404/405 stay JSON.

Call :func:`register_json_errors` from every blueprint under ``/api``. Errors on other paths
keep Flask's HTML pages.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mapservice.validation import ParameterError

API_PREFIX = "/api/"


def parameter_error_response(error: ParameterError) -> tuple[Response, int]:
    """``400 {"error": ..., "parameter": ..., "message": ...}``."""
    return jsonify(error.as_dict()), 400


def http_error_response(error: HTTPException) -> Response | HTTPException:
    """JSON for HTTP errors on API paths (404 for unknown routes too); HTML elsewhere."""
    if not (request.path + "/").startswith(API_PREFIX):
        return error
    body = {
        "error": (error.name or "error").lower(),
        "message": error.description or "",
        "status": error.code,
    }
    response = jsonify(body)
    response.status_code = error.code or 500
    if error.code == 405 and (allowed := error.get_response().headers.get("Allow")):
        response.headers["Allow"] = allowed
    return response


def register_json_errors(bp: Blueprint) -> None:
    """Answer this blueprint's errors in JSON.

    HTTP errors are registered app-wide (a 404 for an unknown URL happens before any
    blueprint is chosen) but only turn into JSON for paths under ``/api/``; registering
    from several API blueprints is harmless, they install the same behaviour.
    """
    bp.register_error_handler(ParameterError, parameter_error_response)
    bp.app_errorhandler(HTTPException)(http_error_response)
