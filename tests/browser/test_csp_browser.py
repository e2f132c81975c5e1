"""The pages work under the Content-Security-Policy: the family flow (place, map, filter
change via JavaScript), an offer page, the print view, the planners' and the outreach
workers' pages, with no violation reported by the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from accounts import PASSWORD
from browser_support import wait_until
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from test_family_browser import run_flow

from mapservice.auth import create_user
from mapservice.models import Offer, User

# Collects every securitypolicyviolation event from the start of each document.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber
  );
});
"""


class Violations:
    """CSP reports from the console and from the page's event listener, and script errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Permissions-Policy" in message.text:
            self.console.append(message.text)

    def check(self) -> None:
        events: list[str] = self.page.evaluate("window.__csp || []")
        assert events == [], events
        assert self.console == [], self.console
        assert self.errors == [], self.errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_family_flow_offer_and_print_under_the_policy(
    page: Page, base_url: str, engine: Engine
) -> None:
    violations = Violations(page)
    run_flow(page, base_url, "de")  # place, map drawn, isochrone, list refreshed via JS
    policy = page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    assert "'nonce-" in policy and "frame-ancestors 'none'" in policy
    violations.check()

    with Session(engine) as session:
        offer_id = session.scalar(select(func.min(Offer.id)).where(Offer.status == "active"))
    page.goto(f"{base_url}/offer/{offer_id}?lang=ar")
    expect(page.locator("h1")).to_be_visible()
    violations.check()

    page.goto(f"{base_url}/print?lat=51.5226&lon=7.4722&minutes=10")
    expect(page.locator("figure.qr svg")).to_be_visible()
    violations.check()


@pytest.fixture
def staff(engine: Engine) -> Iterator[str]:
    """An admin account in the shared test database, removed again afterwards."""
    email = "csp-browser-admin@example.org"
    with Session(engine) as session, session.begin():
        session.execute(delete(User).where(User.email == email))
        create_user(session, email, PASSWORD, "admin")
    try:
        yield email
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(User).where(User.email == email))


def _log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def test_planners_and_outreach_pages_under_the_policy(
    page: Page, base_url: str, staff: str
) -> None:
    violations = Violations(page)
    _log_in(page, base_url, staff)
    page.goto(f"{base_url}/planners/")
    expect(page.locator(".leaflet-container")).to_be_visible()
    wait_until(page, "document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
    violations.check()

    page.goto(f"{base_url}/outreach/")
    page.fill("input[name='visit-1-lat']", "51.5226")
    page.fill("input[name='visit-1-lon']", "7.4722")
    page.fill("input[name='visit-1-age_months']", "18")
    page.locator("form.no-print button[type=submit]").last.click()
    page.wait_for_load_state()
    expect(page.locator(".leaflet-container")).to_be_visible()
    wait_until(page, "document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
    violations.check()


def test_a_violation_would_be_seen(page: Page, base_url: str) -> None:
    """The listeners work: an inline script without the nonce is refused and reported."""
    violations = Violations(page)
    page.goto(f"{base_url}/api/categories")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran") is None
    with pytest.raises(AssertionError):
        violations.check()
