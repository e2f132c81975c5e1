"""Logins and roles (planner, outreach worker, admin)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Set up login handling, CSRF protection and rate limits."""
