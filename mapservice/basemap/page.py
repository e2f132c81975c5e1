"""What a page needs to draw the base map: the scripts it loads and the settings its map
element carries (read by ``static/js/basemap.js``). Free of Flask and folium."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The vector base map: renderer (protomaps-leaflet, with the pmtiles reader bundled), our
# style, and the script that adds the layer to the page's map. Deferred: they run after the
# page's inline map script has made the map.
BASEMAP_JS = (
    "vendor/protomaps-leaflet/protomaps-leaflet.js",
    "js/basemap-style.js",
    "js/basemap.js",
)


@dataclass(frozen=True)
class VectorBasemap:
    """The service's own vector tiles (a PMTiles archive read with HTTP range requests)."""

    url: str
    attribution: str
    bounds: tuple[float, float, float, float]  # west, south, east, north
    max_zoom: int  # of the data; the renderer over-zooms beyond it

    def page_config(self) -> dict[str, Any]:
        """What ``static/js/basemap.js`` reads from the map element's ``data-basemap``."""
        west, south, east, north = self.bounds
        return {
            "url": self.url,
            "attribution": self.attribution,
            "bounds": [[south, west], [north, east]],
            "maxDataZoom": self.max_zoom,
        }
