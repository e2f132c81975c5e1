"""Access logs without personal data.

A family's place, address and child's age travel in query strings (``/?lat=…&age_months=…``)
and in the ``Referer`` of whatever a page loads; client addresses identify people too. So an
access log line keeps the method, the path, the status, the size and the time, nothing else.

* :data:`GUNICORN_ACCESS_LOG_FORMAT`: gunicorn's ``access_log_format`` with exactly that
  (``%(U)s`` is the path without the query string), for ``gunicorn.conf.py``.
* :class:`PrivateAccessLog`: a logging filter that strips query strings, client addresses,
  referrers and user agents from what Werkzeug's development server and gunicorn log, in case
  a server is run with its default format. :func:`init_app` puts it on both loggers.

The application's own logs never take the query string (see :mod:`mapservice.web.errors`),
and the engines hide SQL parameters (:mod:`mapservice.db`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask

GUNICORN_ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")

_QUERY = re.compile(r"\?[^\s\"]*")
_LEADING_ADDRESS = re.compile(r"^\S+ - - \[")
# gunicorn atoms that hold the client's identity or the query: (h)ost, (l)ogname, (u)ser,
# (q)uery, (f) referer, (a)gent, and the request headers ({name}i) / environ ({name}e).
_GUNICORN_PRIVATE = re.compile(r"^(h|l|u|q|f|a|\{[^}]*\}[ie])$")


def strip_query(text: str) -> str:
    """``GET /?lat=51.5&lon=7.4 HTTP/1.1`` → ``GET / HTTP/1.1``."""
    return _QUERY.sub("", text)


class PrivateAccessLog(logging.Filter):
    """Take query strings and client identity out of access-log records (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):  # gunicorn: a format and its atoms
            record.args = _private_atoms(record.args)
        elif isinstance(record.args, tuple):  # Werkzeug: 'addr - - [date] "%s" %s %s'
            record.args = tuple(
                strip_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _LEADING_ADDRESS.sub("- - - [", strip_query(record.msg))
        return True


def _private_atoms(atoms: Mapping[str, Any]) -> Mapping[str, Any]:
    cleaned = {}
    for key, value in dict(atoms).items():
        if _GUNICORN_PRIVATE.match(key):
            cleaned[key] = "-"
        elif isinstance(value, str):
            cleaned[key] = strip_query(value)
        else:
            cleaned[key] = value
    wrapper: Any = type(atoms)  # gunicorn's SafeAtoms answers '-' for missing keys
    try:
        result: Mapping[str, Any] = wrapper(cleaned)
    except TypeError:
        return cleaned
    return result


def init_app(app: Flask) -> None:
    del app  # loggers are process-wide; adding the filter twice is harmless
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, PrivateAccessLog) for f in logger.filters):
            logger.addFilter(PrivateAccessLog())
