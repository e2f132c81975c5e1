"""Walking API: reachable offers and isochrones."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("walking_api", __name__)
