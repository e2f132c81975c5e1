"""Browser tests: Playwright driving Debian's Chromium (no browser download) against the app
served from a thread on 127.0.0.1, bound to the test database (the committed default data;
these tests only read)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from live_support import live_server, share_engine
from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright
from sqlalchemy import Engine

from mapservice import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="session")
def live_app(engine: Engine, data_dir: Path) -> Flask:
    app = create_app(
        {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "browser-test",
            # One browser session runs many flows, all from 127.0.0.1, and the limits count per
            # client address: the staff tests alone log in more than 5 times a minute.
            "RATE_LIMIT_ISOCHRONE": "1000 per minute",
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )
    share_engine(app, engine)
    return app


@pytest.fixture(scope="session")
def base_url(live_app: Flask) -> Iterator[str]:
    with live_server(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing (./dev test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Requests:
    """Every URL the page asked for."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, request: Request) -> None:
        self.urls.append(request.url)

    def elsewhere(self) -> list[str]:
        allowed = ("http://127.0.0.1:", "data:", "blob:", "about:")
        return [url for url in self.urls if not url.startswith(allowed)]


@pytest.fixture
def requests() -> Requests:
    return Requests()


def phone_context(browser: Browser, locale: str, **extra: Any) -> BrowserContext:
    return browser.new_context(locale=locale, accept_downloads=True, **PHONE, **extra)


@pytest.fixture
def phone_de(browser: Browser, requests: Requests) -> Iterator[Page]:
    context = phone_context(browser, "de-DE")
    page = context.new_page()
    page.on("request", requests)
    yield page
    context.close()


@pytest.fixture
def phone_ar(browser: Browser, requests: Requests) -> Iterator[Page]:
    context = phone_context(browser, "ar")
    page = context.new_page()
    page.on("request", requests)
    yield page
    context.close()
