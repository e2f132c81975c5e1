"""Planners' pages: coverage, gaps, what-if scenarios."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("planners", __name__)
