"""The vector base map over HTTP: the PMTiles archive, served whole or by byte ranges, and
the map settings every page with a map uses (:func:`map_settings`).

The browser's PMTiles reader asks for the header and then one byte range per tile, so the
archive is answered with Werkzeug's conditional responses: ``Accept-Ranges``, ``206`` with
``Content-Range``, ``416`` for a range it cannot serve (malformed, outside the file, or
several ranges at once), ``ETag``/``Last-Modified`` and ``304`` for a conditional request.
The bytes are sent as they are (tiles inside are gzip-compressed already); Flask-Compress
leaves the response alone because its type is not in ``COMPRESS_MIMETYPES``.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, send_file, url_for
from markupsafe import escape

from mapservice import basemap, mapview

log = logging.getLogger(__name__)

bp = Blueprint("basemap", __name__)

MEDIA_TYPE = "application/vnd.pmtiles"
# A day: the page links the archive with its version, so a replaced file gets a new URL.
MAX_AGE = 24 * 3600
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"

_reported: set[str] = set()


def current_basemap() -> basemap.Basemap | None:
    """The configured archive, checked; ``None`` when it is off, missing or not usable."""
    config = current_app.config
    path = basemap.locate(config.get("BASEMAP"), config["DATA_DIR"])
    if path is None:
        return None
    try:
        return basemap.read_archive(path)
    except basemap.BasemapError as exc:
        message = str(exc)
        if message not in _reported:  # once per problem, not once per page
            _reported.add(message)
            log.warning("no base map: %s", message)
        return None


def _attribution_html(text: str) -> str:
    """The data's credit for Leaflet's attribution control (HTML), linked to OSM's terms."""
    credit = str(escape(text))
    if "openstreetmap" in text.lower():
        return f'<a href="{OSM_COPYRIGHT}">{credit}</a>'
    return credit


def map_settings(label: str) -> mapview.MapSettings:
    """Map settings from the configuration, with the base map that is configured."""
    config = current_app.config
    center = config["MAP_CENTER"]
    archive = None if config.get("TILE_URL") else current_basemap()
    vector = None
    if archive is not None:
        vector = mapview.VectorBasemap(
            url=url_for("basemap.archive", v=archive.version),
            attribution=_attribution_html(archive.attribution),
            bounds=archive.bounds,
            max_zoom=archive.max_zoom,
        )
    return mapview.MapSettings(
        center=(float(center[0]), float(center[1])),
        zoom=int(config["MAP_ZOOM"]),
        static_url=url_for("static", filename="").rstrip("/"),
        tile_url=config.get("TILE_URL") or "",
        tile_attribution=config.get("TILE_ATTRIBUTION") or "",
        label=label,
        basemap=vector,
    )


@bp.get("/tiles/basemap.pmtiles")
def archive() -> Response:
    """The archive, whole or in byte ranges (``Range: bytes=0-16383``)."""
    found = current_basemap()
    if found is None:
        abort(404, description="no base map archive is configured or it is missing")
    response = send_file(
        found.path,
        mimetype=MEDIA_TYPE,
        conditional=True,
        etag=True,
        last_modified=found.mtime,
        max_age=MAX_AGE,
    )
    # For this service's own pages: other sites cannot embed it (no hot-linking).
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
