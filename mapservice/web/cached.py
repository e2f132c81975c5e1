"""Answers built once per data version and served from memory (see :mod:`mapservice.data_cache`).

The encoded body is kept, and its gzip form too once a client asked for it, so a repeated
request costs the data-version lookup and a dictionary hit: no query, no encoding, no
compression (Flask-Compress leaves answers alone that already carry a Content-Encoding).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Hashable

from flask import Response, request
from sqlalchemy.orm import Session

from mapservice.data_cache import VersionedCache, data_version
from mapservice.db import read_only

# Bytes of encoded answers kept per process (each gunicorn worker has its own).
ANSWER_CACHE_BYTES = 32 * 1024 * 1024
COMPRESS_MIN_BYTES = 500

answers: VersionedCache[bytes] = VersionedCache(ANSWER_CACHE_BYTES, getsizeof=len)


def cached_answer(key: Hashable, build: Callable[[Session], bytes], mimetype: str) -> Response:
    """The answer for ``key`` at the current data version; ``build`` runs on a miss, inside
    a read-only session that reads the version first (so what it builds is never older)."""

    def work(session: Session) -> tuple[bytes, str | None]:
        version = data_version(session)
        body = answers.get(session, key, lambda: build(session), version=version)
        if len(body) < COMPRESS_MIN_BYTES or request.accept_encodings["gzip"] <= 0:
            return body, None
        packed = answers.get(
            session, ("gzip", key), lambda: gzip.compress(body, 6, mtime=0), version=version
        )
        return packed, "gzip"

    body, encoding = read_only(work)
    response = Response(body, mimetype=mimetype)
    response.vary.add("Accept-Encoding")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    return response
