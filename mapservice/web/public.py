"""The public map for families."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    return "mapservice"
