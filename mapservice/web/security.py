"""Security headers on every answer, per-request script nonces, cookies, reverse proxies.

* **Content-Security-Policy**: only this origin, for everything (scripts, styles, images,
  fetches, fonts, workers); no frames, no plugins, no ``<base>`` elsewhere, forms post only
  here, and no other site may frame a page. Inline scripts (the map scaffolding folium writes)
  run only with the request's nonce: templates write ``<script nonce="{{ csp_nonce() }}">``.
  Inline styles are allowed (``'unsafe-inline'`` for styles only): folium/Leaflet and the
  staff pages set ``style`` attributes, and styles cannot run code. A configured third-party
  tile server (``TILE_URL``, off by default) is added to ``img-src``.
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (a family's place is
  in our URLs), ``Permissions-Policy`` (geolocation for this origin only, the rest off),
  ``X-Frame-Options: DENY`` for browsers without ``frame-ancestors``, and
  ``Strict-Transport-Security`` on answers sent over HTTPS.
* Cookies are ``HttpOnly`` and ``SameSite=Lax`` (see :mod:`mapservice.auth`), and ``Secure``
  with ``MAPSERVICE_SECURE_COOKIES=true`` (serve over HTTPS only then).
* Behind reverse proxies, ``MAPSERVICE_TRUSTED_PROXIES=<n>`` makes the service believe the
  ``X-Forwarded-For/-Proto/-Host`` headers of the ``n`` proxies in front (werkzeug's
  ``ProxyFix``): client addresses for rate limits, ``https`` links and HSTS. Never set it
  without a proxy in front: clients could claim any address.

A page cached whole must not keep a nonce: cache the parts (e.g. the map's script) and
render the page, or nonces would no longer match the header.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

PERMISSIONS_POLICY = ", ".join(
    [
        "geolocation=(self)",
        *(
            f"{feature}=()"
            for feature in (
                "accelerometer",
                "autoplay",
                "camera",
                "display-capture",
                "encrypted-media",
                "fullscreen",
                "gyroscope",
                "magnetometer",
                "microphone",
                "midi",
                "payment",
                "picture-in-picture",
                "publickey-credentials-get",
                "screen-wake-lock",
                "usb",
                "xr-spatial-tracking",
            )
        ),
    ]
)
HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """This request's script nonce (made on first use; the header then allows it)."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return f"{parts.scheme}://{parts.netloc.split('@')[-1]}".replace("{s}.", "*.")
    return None


def content_security_policy(nonce: str | None, tile_url: str = "") -> str:
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    images = "'self' data: blob:"
    if tile_url and (tiles := _origin(tile_url)):
        images += f" {tiles}"
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        "style-src": "'self' 'unsafe-inline'",
        "img-src": images,
        "connect-src": "'self'",
        "font-src": "'self'",
        "worker-src": "'self' blob:",
        "manifest-src": "'self'",
        "media-src": "'self'",
        "frame-src": "'none'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _add_headers(response: Response) -> Response:
    headers = response.headers
    config = current_app.config
    headers["Content-Security-Policy"] = content_security_policy(
        g.get("csp_nonce"), config.get("TILE_URL") or ""
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("SECURE_COOKIES", False)
    app.config.setdefault("TRUSTED_PROXIES", 0)
    secure = bool(app.config["SECURE_COOKIES"])
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):  # Flask's default is None
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.add_template_global(csp_nonce, "csp_nonce")
    app.after_request(_add_headers)
