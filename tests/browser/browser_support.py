"""Helpers for the browser tests."""

from __future__ import annotations

import time

from playwright.sync_api import Page


def wait_until(page: Page, expression: str, timeout_ms: float = 30_000) -> None:
    """Wait until ``expression`` is true in the page.

    Playwright's ``wait_for_function`` compiles its predicate inside the page, which the
    Content-Security-Policy refuses (no eval); ``evaluate`` runs over the DevTools protocol,
    which the policy does not govern, so this polls with it.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)
