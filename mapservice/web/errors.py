"""Errors answered the way each audience reads them.

* API paths (``/api/…``, ``/planners/api/…``) and clients asking for JSON get JSON:
  bad parameters (400) name the parameter; 404/405/429 stay JSON (:func:`register_json_errors`).
* A database that is gone, restarting or overloaded answers **503** with ``Retry-After``
  (JSON, or a short page in the visitor's language), never a 500: the request may simply be
  repeated a moment later. Pooled connections that died are replaced by the engines
  (``pool_pre_ping``; :func:`mapservice.db.read_only`), so nothing else is needed to recover.
* Anything else unexpected answers our own **500** page (or JSON) with an error id; the log
  holds the id, the method, the path (never the query string: it holds the family's place
  and the child's age) and the traceback (engines hide bound parameters, see ``db.py``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import psycopg
import sqlalchemy.exc
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from mapservice.validation import ParameterError

API_PREFIX = "/api/"
JSON_PATH_PREFIXES = ("/api/", "/planners/api/")
JSON_TYPES = ("application/json", "application/geo+json")
DEFAULT_RETRY_AFTER = 2  # seconds: a restart of the embedded cluster takes about 0.5 s

log = logging.getLogger("mapservice.errors")

# What a database that is gone, restarting or overloaded raises: connection refused or
# lost, "the database system is starting up", too many connections, a pool with no free
# connection in time, a statement cancelled or rolled back by the server under load.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def wants_json() -> bool:
    """JSON for API paths and for scripts that ask for it (``/results`` from family.js)."""
    path = request.path
    if path.startswith(JSON_PATH_PREFIXES) or path + "/" == API_PREFIX:
        return True
    return request.accept_mimetypes.best in JSON_TYPES


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
    original = error.get_response()
    for header in ("Allow", "Retry-After"):
        if value := original.headers.get(header):
            response.headers[header] = value
    return response


def register_json_errors(bp: Blueprint) -> None:
    """Answer this blueprint's errors in JSON.

    HTTP errors are registered app-wide (a 404 for an unknown URL happens before any
    blueprint is chosen) but only turn into JSON for paths under ``/api/``; registering
    from several API blueprints is harmless, they install the same behaviour.
    """
    bp.register_error_handler(ParameterError, parameter_error_response)
    bp.app_errorhandler(HTTPException)(http_error_response)


def _page(template: str, status: int, **context: Any) -> Response:
    """An error page in the visitor's language; plain text if even that fails."""
    try:
        body = render_template(template, status=status, **context)
        return Response(body, status=status, mimetype="text/html")
    except Exception:  # the error page must not fail in turn
        log.exception("error page %s could not be rendered", template)
        return Response(f"Error {status}", status=status, mimetype="text/plain")


def database_unavailable(error: Exception) -> Response:
    """503 with ``Retry-After`` for a database that is gone, restarting or overloaded."""
    retry_after = int(current_app.config.get("RETRY_AFTER_SECONDS", DEFAULT_RETRY_AFTER))
    original = getattr(error, "orig", None) or error
    # The class and SQLSTATE say what happened; the message may quote the statement.
    log.warning(
        "database unavailable on %s %s: %s (sqlstate %s)",
        request.method,
        request.path,
        type(original).__name__,
        getattr(original, "sqlstate", None),
    )
    if wants_json():
        response = jsonify(
            {
                "error": "service unavailable",
                "message": "The database is not reachable right now; please retry shortly.",
                "status": 503,
            }
        )
        response.status_code = 503
    else:
        response = _page("error.html", 503, retry_after=retry_after)
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def unexpected_error(error: Exception) -> Response | HTTPException:
    """Our 500: logs an error id with the traceback, shows the id, nothing else."""
    if isinstance(error, HTTPException):
        return error
    propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
    if propagate is None:
        propagate = current_app.testing or current_app.debug
    if propagate:
        raise error  # tests and the debugger see the exception itself, as Flask does
    error_id = str(uuid.uuid4())
    log.error("error %s on %s %s", error_id, request.method, request.path, exc_info=error)
    if wants_json():
        response = jsonify(
            {
                "error": "internal server error",
                "message": "Something went wrong on our side. Please quote the error id.",
                "error_id": error_id,
                "status": 500,
            }
        )
        response.status_code = 500
    else:
        response = _page("error.html", 500, error_id=error_id)
    response.headers["Cache-Control"] = "no-store"
    return response


def internal_server_error(error: InternalServerError) -> Response | HTTPException:
    """An ``abort(500)`` or an error Flask wrapped itself: the same page as above."""
    original = error.original_exception
    if not isinstance(original, Exception):
        original = RuntimeError(error.description)
    return unexpected_error(original)


def init_app(app: Flask) -> None:
    app.config.setdefault("RETRY_AFTER_SECONDS", DEFAULT_RETRY_AFTER)
    for error in UNAVAILABLE_ERRORS:
        app.register_error_handler(error, database_unavailable)
    app.register_error_handler(Exception, unexpected_error)
    app.register_error_handler(InternalServerError, internal_server_error)
