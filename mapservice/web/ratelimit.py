"""Rate limits per client on the expensive endpoints (the ``limits`` library, as the login).

Each group has a setting, ``MAPSERVICE_RATE_LIMIT_<GROUP>`` (a ``limits`` string such as
``"60 per minute"``, or ``""`` for no limit); a client over it gets **429** with
``Retry-After`` (JSON on API paths). Counters live in ``RATE_LIMIT_STORAGE`` (default
``memory://``: per process, so with several workers a client may make up to that many times
the limit; ``redis://…`` shares them). The client is ``request.remote_addr``: behind a
reverse proxy set ``MAPSERVICE_TRUSTED_PROXIES`` (see :mod:`mapservice.web.security`).

The limited endpoints are listed here, in one place, rather than decorated in each view.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, request
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

# group → default limit
DEFAULT_LIMITS = {
    # a family page fetches one per place or filter change
    "ISOCHRONE": "60 per minute",
    # one route plan computes walking times between every pair of visits
    "OUTREACH": "20 per minute",
    # planners' and admins' exports compute or dump whole areas
    "EXPORT": "20 per minute",
}
# endpoint → group (with the methods that count; the outreach form itself is cheap)
LIMITED_ENDPOINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "walking_api.isochrone": ("ISOCHRONE", ("GET",)),
    "outreach.plan": ("OUTREACH", ("POST",)),
    "planners.export_geojson": ("EXPORT", ("GET",)),
    "planners.export_csv": ("EXPORT", ("GET",)),
    "planners.export_gpkg": ("EXPORT", ("GET",)),
    "admin.export": ("EXPORT", ("GET",)),
}


def _check_rate_limit() -> None:
    limited = LIMITED_ENDPOINTS.get(request.endpoint or "")
    if limited is None or request.method not in limited[1]:
        return
    group = limited[0]
    setting = current_app.config.get(f"RATE_LIMIT_{group}")
    if not setting:
        return
    limiter: MovingWindowRateLimiter = current_app.extensions["mapservice.rate_limiter"]
    limit = parse_limit(str(setting))
    client = request.remote_addr or "unknown"
    if not limiter.hit(limit, group, client):
        reset_at = limiter.get_window_stats(limit, group, client).reset_time
        retry_after = max(1, int(reset_at - time.time()) + 1)
        raise TooManyRequests(
            f"Too many requests ({limit}). Try again in {retry_after} s.", retry_after=retry_after
        )


def init_app(app: Flask) -> None:
    for group, default in DEFAULT_LIMITS.items():
        app.config.setdefault(f"RATE_LIMIT_{group}", default)
    app.config.setdefault("RATE_LIMIT_STORAGE", "memory://")
    storage = storage_from_string(str(app.config["RATE_LIMIT_STORAGE"]))
    app.extensions["mapservice.rate_limiter"] = MovingWindowRateLimiter(storage)
    app.before_request(_check_rate_limit)
