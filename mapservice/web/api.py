"""The JSON API (RFC 7946 GeoJSON)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)
