"""Default settings. Override with ``MAPSERVICE_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    # None: use the private cluster the service starts itself (see pgcluster.py).
    DATABASE_URL: str | None = None
    DATABASE_NAME = "mapservice"
    # Public data from the city and OpenStreetMap; not copied into the project.
    DATA_DIR = str(PROJECT_ROOT.parent / "shared" / "data")
    # The bundled data covers Innenstadt-Nord (open data, and the walking network with a 2 km
    # margin); True loads all of Dortmund instead (MAPSERVICE_ALL_CITY=true).
    ALL_CITY = False
    # Published standards (HSDS 3.0 JSON schemas) the tests validate answers against.
    STANDARDS_DIR = str(PROJECT_ROOT.parent / "shared" / "standards")
    # HSDS addresses need a state and a country: where the network works.
    HSDS_STATE_PROVINCE = "Nordrhein-Westfalen"
    HSDS_COUNTRY = "DE"
    # Tiles are the only third-party request a page makes, and only if set (privacy by default),
    # e.g. "https://tile.openstreetmap.org/{z}/{x}/{y}.png" with the attribution below.
    TILE_URL = ""
    TILE_ATTRIBUTION = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    # The base map: a PMTiles v3 archive of vector tiles the service serves itself (relative
    # paths lie in DATA_DIR; empty: none). A TILE_URL above replaces it. See mapservice/basemap/.
    BASEMAP = "tiles/dortmund-basemap-2021.pmtiles"
    # Map centre: Nordstadt, between Nordmarkt and Borsigplatz.
    MAP_CENTER = (51.5253, 7.4727)
    MAP_ZOOM = 15
    # Offers last checked longer ago than this many months count as overdue (issue 10).
    OVERDUE_MONTHS = 6
    # The server behind `mapservice serve` (see mapservice/serving/settings.py and README,
    # "Running it for real"): address, processes (None: cores + 1), threads per process,
    # seconds a request may take before its worker is restarted.
    BIND = "127.0.0.1:5000"
    WORKERS: int | None = None
    THREADS = 4
    TIMEOUT = 30
    # Database connections of each process (see mapservice/db.py, PoolSettings): each of its
    # two engines keeps DB_POOL_SIZE (None: THREADS, one per request served at once) and may
    # open DB_MAX_OVERFLOW more. A request that finds none free within DB_POOL_TIMEOUT
    # seconds answers 503 + Retry-After at once: far below TIMEOUT, and below the couple of
    # seconds after which a person (or wrk) gives up. Connecting gives up after
    # DB_CONNECT_TIMEOUT s; a hot read after DB_READ_STATEMENT_TIMEOUT_MS (0: never).
    DB_POOL_SIZE: int | None = None
    DB_MAX_OVERFLOW = 2
    DB_POOL_TIMEOUT = 1.0
    DB_CONNECT_TIMEOUT = 2
    DB_READ_STATEMENT_TIMEOUT_MS = 10_000
    # Request bodies: the largest accepted at all (bytes; the admin's file import allows up to
    # 20 MB), and the largest JSON body (write API, planners' scenarios). Larger: 413.
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024
    MAX_JSON_BODY = 256 * 1024
    # None: a random key kept in instance/secret_key (see create_app).
    SECRET_KEY: str | None = None
    # Compressed answers keep the page within its weight budget. Over HTTPS, browsers accept
    # zstd (Chrome, Edge, Firefox) or br (Safari) besides gzip: zstd at its level 3 packs an
    # isochrone as small as gzip at 6 in a fifth of the time, br at 4 smaller in two thirds.
    # Over plain HTTP browsers offer gzip and deflate only. Static files are streamed, which
    # Flask-Compress compresses with deflate only.
    COMPRESS_ALGORITHM: ClassVar[list[str]] = ["zstd", "br", "gzip", "deflate"]
    COMPRESS_ALGORITHM_STREAMING: ClassVar[list[str]] = ["deflate"]
    COMPRESS_MIMETYPES: ClassVar[list[str]] = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "image/svg+xml",
        "text/calendar",
    ]
