"""Logins for the tests of the staff pages (imported by their test modules; the
``accounts`` fixture is in conftest.py)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PASSWORD = "correct horse battery"
ROLES = ("planner", "outreach", "admin")

_TOKEN_PATTERNS = (
    re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'),
    re.compile(r'name="csrf_token" value="([^"]+)"'),
    re.compile(r'<meta name="csrf-token" content="([^"]+)"'),
)


def token_from(page: str) -> str:
    """The CSRF token a rendered page carries (form field or meta tag)."""
    for pattern in _TOKEN_PATTERNS:
        found = pattern.search(page)
        if found:
            return found.group(1)
    raise AssertionError("the page carries no CSRF token")


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """POST the login form with its token; the answer is the test's to judge."""
    token = token_from(client.get("/auth/login").get_data(as_text=True))
    return client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": token}
    )


def sign_in(client: FlaskClient, email: str) -> None:
    """Log in and insist it worked."""
    assert log_in(client, email).status_code == 302
