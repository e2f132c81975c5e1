"""Security headers on every answer, cookies, reverse proxies and rate limits."""

from __future__ import annotations

import re

import pytest
from accounts import log_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from mapservice import create_app

PLACE = {"lat": "51.5226", "lon": "7.4722"}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize(
    "url", ["/", "/api/offers", "/offer/999999", "/static/css/map.css", "/auth/login"]
)
def test_every_answer_carries_the_headers(client: FlaskClient, url: str) -> None:
    answer = client.get(url)
    csp = directives(answer.headers["Content-Security-Policy"])
    assert csp["default-src"] == "'self'"
    for name in ("connect-src", "font-src"):
        assert csp[name] == "'self'"
    assert csp["img-src"] == "'self' data: blob:"
    assert csp["style-src"] == "'self' 'unsafe-inline'"
    assert csp["frame-src"] == csp["object-src"] == csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == csp["form-action"] == "'self'"
    assert csp["script-src"].startswith("'self'") and "unsafe" not in csp["script-src"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    policy = answer.headers["Permissions-Policy"]
    assert "geolocation=(self)" in policy and "camera=()" in policy
    assert "Strict-Transport-Security" not in answer.headers  # plain HTTP
    answer.close()


def test_inline_scripts_carry_this_requests_nonce(client: FlaskClient) -> None:
    nonces = []
    for _ in range(2):
        answer = client.get("/", query_string=PLACE)
        script_src = directives(answer.headers["Content-Security-Policy"])["script-src"]
        nonce = re.fullmatch(r"'self' 'nonce-([\w-]+)'", script_src)
        assert nonce, script_src
        nonces.append(nonce.group(1))
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/)([^>]*)>", answer.text)
        assert inline, "the map's script is inline"
        for attributes in inline:
            assert f'nonce="{nonce.group(1)}"' in attributes
    assert nonces[0] != nonces[1]
    assert "nonce" not in client.get("/api/offers").headers["Content-Security-Policy"]


def test_cookies_are_httponly_lax_and_secure_when_configured(
    app: Flask, client: FlaskClient, accounts: dict
) -> None:
    log_in(client, "planner@example.org")
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None
    assert session_cookie.http_only and session_cookie.same_site == "Lax"
    assert not session_cookie.secure
    language = client.get("/?lang=en").headers["Set-Cookie"]
    assert "HttpOnly" in language and "SameSite=Lax" in language and "Secure" not in language


def test_secure_cookies_and_hsts_behind_an_https_proxy(engine: Engine) -> None:
    secure = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "test",
            "SECURE_COOKIES": True,
            "TRUSTED_PROXIES": 1,
        }
    )
    client = secure.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    answer = client.get("/auth/login", headers=forwarded)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    # The session's cookie from the login form, the language's from a family page.
    family = client.get("/?lang=tr", headers=forwarded)
    assert family.status_code == 200
    cookies = answer.headers.getlist("Set-Cookie") + family.headers.getlist("Set-Cookie")
    assert any(cookie.startswith("session=") for cookie in cookies)
    assert any(cookie.startswith("lang=tr") for cookie in cookies)
    for cookie in cookies:
        if "Max-Age=0" not in cookie:  # Flask-Login's deletions carry nothing
            assert "Secure" in cookie and "HttpOnly" in cookie, cookie
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers


def test_isochrone_is_rate_limited_per_client_with_retry_after(
    app: Flask, client: FlaskClient
) -> None:
    app.config["RATE_LIMIT_ISOCHRONE"] = "3 per minute"
    query = {**PLACE, "minutes": "5"}
    answers = [client.get("/api/isochrone", query_string=query) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.is_json and refused.get_json()["error"] == "too many requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    other = client.get(
        "/api/isochrone", query_string=query, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other.status_code == 200  # another client has its own count
    assert client.get("/api/reachable", query_string=query).status_code == 200  # not limited


def test_exports_and_outreach_are_rate_limited(
    app: Flask, client: FlaskClient, accounts: dict
) -> None:
    app.config["RATE_LIMIT_EXPORT"] = "1 per minute"
    app.config["RATE_LIMIT_OUTREACH"] = "1 per minute"
    log_in(client, "admin@example.org")
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.get("/admin/export.csv").status_code == 200
    again = client.get("/admin/export.csv")
    assert again.status_code == 429 and again.headers["Retry-After"]
    assert client.get("/admin/").status_code == 200  # the pages stay usable
    assert client.post("/outreach/", data={}).status_code == 400  # nothing asked; counted
    assert client.post("/outreach/", data={}).status_code == 429


def test_a_limit_can_be_switched_off(app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_ISOCHRONE"] = ""
    query = {**PLACE, "minutes": "5"}
    assert {client.get("/api/isochrone", query_string=query).status_code for _ in range(5)} == {200}
