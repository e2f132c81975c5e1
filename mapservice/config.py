"""Default settings. Override with ``MAPSERVICE_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    # None: use the private cluster the service starts itself (see pgcluster.py).
    DATABASE_URL: str | None = None
    DATABASE_NAME = "mapservice"
    # Public data from the city and OpenStreetMap; not copied into the project.
    DATA_DIR = str(PROJECT_ROOT.parent / "shared" / "data")
    # Tiles are the only third-party request a page makes, and only if set (privacy by default),
    # e.g. "https://tile.openstreetmap.org/{z}/{x}/{y}.png" with the attribution below.
    TILE_URL = ""
    TILE_ATTRIBUTION = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    # Map centre: Nordstadt, between Nordmarkt and Borsigplatz.
    MAP_CENTER = (51.5253, 7.4727)
    MAP_ZOOM = 15
    # None: a random key kept in instance/secret_key (see create_app).
    SECRET_KEY: str | None = None
    JSON_SORT_KEYS = False
