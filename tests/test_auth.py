"""Logins, roles, CSRF and the login rate limit."""

import pytest
from accounts import PASSWORD, log_in, token_from
from sqlalchemy import select

from mapservice.auth import AccountError, authenticate, create_user
from mapservice.i18n import COOKIE
from mapservice.models import User


def test_passwords_are_hashed_and_checked(db_session, accounts):
    stored = db_session.scalar(
        select(User.password_hash).where(User.email == "planner@example.org")
    )
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    assert authenticate(db_session, "Planner@Example.org", PASSWORD).role == "planner"
    assert authenticate(db_session, "planner@example.org", "wrong password!") is None
    assert authenticate(db_session, "nobody@example.org", PASSWORD) is None


def test_accounts_need_a_real_address_role_and_long_password(db_session, accounts):
    with pytest.raises(AccountError, match="e-mail"):
        create_user(db_session, "not-an-address", PASSWORD, "planner")
    with pytest.raises(AccountError, match="role"):
        create_user(db_session, "x@example.org", PASSWORD, "mayor")
    with pytest.raises(AccountError, match="characters"):
        create_user(db_session, "x@example.org", "short", "planner")
    with pytest.raises(AccountError, match="exists"):
        create_user(db_session, "PLANNER@example.org", PASSWORD, "admin")


def test_anonymous_visitors_are_sent_to_login_or_refused(client):
    page = client.get("/planners/?phase=0-2")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/auth/login?next=/planners/")
    for path in ("/planners/api/coverage", "/planners/api/scenarios", "/planners/api/gaps"):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.json == {"error": "login required"}
    assert client.get("/planners/export.csv").status_code == 302


def test_outreach_workers_may_not_use_the_planners_pages(client, accounts):
    assert log_in(client, "outreach@example.org").status_code == 302
    assert client.get("/planners/").status_code == 403
    answer = client.get("/planners/api/coverage")
    assert answer.status_code == 403 and answer.json["error"] == "forbidden"
    assert client.get("/planners/export.geojson").status_code == 403


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_planners_and_admins_reach_page_and_api(client, accounts, role):
    answer = log_in(client, f"{role}@example.org")
    assert answer.status_code == 302 and answer.headers["Location"] == "/planners/"
    assert client.get("/planners/").status_code == 200
    assert client.get("/planners/api/coverage").status_code == 200


@pytest.mark.parametrize("path", ["/auth/login", "/planners/", "/outreach/"])
def test_staff_pages_stay_german_whatever_language_the_phone_chose(client, accounts, path):
    # A family chose Arabic on this phone earlier (the cookie), and the browser asks for
    # Arabic: the staff's German pages must not turn right-to-left or wear the family
    # page's title and language switcher.
    client.set_cookie(COOKIE, "ar")
    if path != "/auth/login":
        log_in(client, "admin@example.org")
    page = client.get(path, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in page
    assert "Angebote für Familien</h1>" not in page
    assert 'hreflang="ar"' not in page
    heading = {
        "/auth/login": "Anmeldung für Mitarbeitende",
        "/planners/": "Planung: Wo fehlen Angebote in Gehweite?",
        "/outreach/": "Hausbesuche planen",
    }[path]
    assert f'<h1 class="site-title">{heading}</h1>' in page


def test_wrong_password_is_refused_without_saying_which_part(client, accounts):
    answer = log_in(client, "planner@example.org", "wrong password!")
    assert answer.status_code == 401
    assert "E-Mail oder Passwort ist falsch" in answer.get_data(as_text=True)
    unknown = log_in(client, "ghost@example.org")
    assert unknown.status_code == 401
    assert client.get("/planners/").status_code == 302


def test_login_is_rate_limited(client, accounts):
    for _ in range(5):
        assert log_in(client, "planner@example.org", "wrong password!").status_code == 401
    refused = log_in(client, "planner@example.org")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    # Our page in the visitor's language (German here), not Werkzeug's English one.
    assert "<h2>Zu viele Anfragen</h2>" in refused.get_data(as_text=True)
    # Page views are not limited.
    assert client.get("/auth/login").status_code == 200


def test_login_without_csrf_token_is_refused(client, accounts):
    answer = client.post("/auth/login", data={"email": "planner@example.org", "password": PASSWORD})
    assert answer.status_code in (400, 401)
    assert client.get("/planners/").status_code == 302


def test_login_follows_only_local_next(client, accounts):
    token = token_from(client.get("/auth/login").get_data(as_text=True))
    answer = client.post(
        "/auth/login?next=//evil.example/x",
        data={"email": "planner@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.headers["Location"] == "/planners/"


def test_scenario_post_needs_the_csrf_token(client, accounts):
    log_in(client, "planner@example.org")
    refused = client.post("/planners/api/scenarios", json={"name": "Kita Nord"})
    assert refused.status_code == 400
    assert client.get("/planners/api/scenarios").json == {"scenarios": []}
    token = token_from(client.get("/planners/").get_data(as_text=True))
    made = client.post(
        "/planners/api/scenarios", json={"name": "Kita Nord"}, headers={"X-CSRFToken": token}
    )
    assert made.status_code == 201 and made.json["name"] == "Kita Nord"


def test_logout_ends_the_session(client, accounts):
    log_in(client, "planner@example.org")
    token = token_from(client.get("/planners/").get_data(as_text=True))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/planners/api/coverage").status_code == 401


def test_public_pages_and_api_stay_open(client):
    assert client.get("/").status_code == 200
    assert client.get("/api/offers").status_code == 200


def test_cli_adds_a_user_with_password_from_stdin(app, db_session):
    result = app.test_cli_runner().invoke(
        args=["add-user", "new@example.org", "--role", "outreach", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "created with role outreach" in result.output
    user = db_session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.role == "outreach"
    again = app.test_cli_runner().invoke(
        args=["add-user", "new@example.org", "--role", "planner", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert again.exit_code != 0 and "exists" in again.output
