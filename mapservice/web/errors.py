"""Errors answered the way each audience reads them.

* API paths (``/api/…``, ``/planners/api/…``, ``/hsds/…``) and clients asking for JSON get
  JSON: bad parameters (400) name the parameter; every HTTP error (404, 405, 413, 429 …) is
  ``{"error", "message", "status"}``. Under ``/ogcapi/`` it is OGC API's exception document
  ``{"code", "description"}`` (HTML when the client asks for HTML).
* Every other HTTP error (an unknown address, a wrong method, a body too large …) answers a
  short page of our own in the visitor's language, never Werkzeug's English default; the
  headers that go with it (``Allow``, ``Retry-After``, ``Content-Range`` …) are kept.
* A database that is gone, restarting or overloaded answers **503** with ``Retry-After``
  (JSON, or a short page in the visitor's language), never a 500: the request may simply be
  repeated a moment later. Pooled connections that died are replaced by the engines
  (``pool_pre_ping``; :func:`mapservice.db.read_only`), so nothing else is needed to recover.
* Anything else unexpected answers our own **500** page (or JSON) with an error id; the log
  holds the id, the method, the path (never the query string: it holds the family's place
  and the child's age) and the traceback (engines hide bound parameters, see ``db.py``).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import psycopg
import sqlalchemy.exc
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from mapservice.validation import ParameterError

JSON_PATH_PREFIXES = ("/api/", "/planners/api/", "/hsds/")
OGC_API_PREFIX = "/ogcapi/"
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
    if path.startswith(JSON_PATH_PREFIXES) or path + "/" in JSON_PATH_PREFIXES:
        return True
    return request.accept_mimetypes.best in JSON_TYPES


def _is_ogc_api() -> bool:
    return (request.path + "/").startswith(OGC_API_PREFIX)


def _ogc_wants_html() -> bool:
    """OGC API answers HTML for ``f=html`` or a browser's Accept header, as its views do."""
    requested = request.args.get("f")
    if requested:
        return requested == "html"
    return request.accept_mimetypes.best == "text/html"


def parameter_error_response(error: ParameterError) -> tuple[Response, int]:
    """``400 {"error": ..., "parameter": ..., "message": ...}``."""
    return jsonify(error.as_dict()), 400


# Werkzeug's headers of an HTTP error that describe its own (English) body; the others
# (Allow, Retry-After, WWW-Authenticate, Content-Range …) go with our answer.
BODY_HEADERS = frozenset({"content-type", "content-length"})


def http_error_response(error: HTTPException) -> Response | HTTPException:
    """Any HTTP error (404 for an unknown address too): JSON on API paths, OGC API's
    exception document under ``/ogcapi/``, else our page in the visitor's language."""
    if error.response is not None:  # abort(response): the view chose its answer itself
        return error
    code = error.code or 500
    if _is_ogc_api() and not _ogc_wants_html():
        name = (error.name or "Error").title().replace(" ", "")
        response = Response(
            json.dumps({"code": name, "description": error.description or ""}),
            status=code,
            mimetype="application/json",
        )
    elif wants_json():
        response = jsonify(
            {
                "error": (error.name or "error").lower(),
                "message": error.description or "",
                "status": code,
            }
        )
        response.status_code = code
    else:
        response = _page("error.html", code)
    try:
        original = error.get_response()
    except Exception:  # an error without a response of its own: nothing to keep
        original = None
    if original is not None:
        for header, value in original.headers.items():
            if header.lower() not in BODY_HEADERS:
                response.headers[header] = value
    return response


def register_json_errors(bp: Blueprint) -> None:
    """Answer this blueprint's bad parameters in JSON (HTTP errors: :func:`init_app`)."""
    bp.register_error_handler(ParameterError, parameter_error_response)


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
    # App-wide: a 404 for an unknown address happens before any blueprint is chosen.
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(InternalServerError, internal_server_error)
