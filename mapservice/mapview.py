"""The public web map, built with folium on the service's own copy of Leaflet. Free of Flask.

The page must make no third-party request (privacy by default), so the map loads only
``static/vendor/leaflet`` and no folium element that pulls assets from a CDN is used
(folium's ``Popup`` also needs jQuery). Base tiles come only from a configured tile server.

Everything from the data reaches the browser escaped: popup HTML arrives here already
rendered by an autoescaping template (:class:`markupsafe.Markup`), tooltips are escaped
here, and both are handed to Leaflet as JSON string literals (``tojson`` escapes ``<``,
``>``, ``&`` and ``'``), never spliced into markup inside JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import shapely
from branca.element import Figure
from folium.template import Template
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from markupsafe import Markup, escape

LEAFLET_JS = "vendor/leaflet/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/leaflet.css"

DORTMUND_CREDIT = "Stadt Dortmund (dl-de/zero-2.0)"
OSM_CREDIT = "© OpenStreetMap contributors"

# Colour-blind safe pair (orange / blue) for anchor and other sites.
STYLE_SUBDISTRICT = {"color": "#7a7a7a", "weight": 1, "fill": False, "interactive": False}
STYLE_QUARTER = {
    "color": "#6a1b9a",
    "weight": 4,
    "dashArray": "8 6",
    "fillColor": "#6a1b9a",
    "fillOpacity": 0.04,
    "interactive": False,
}
STYLE_SERVICE_AREA = {
    "color": "#1b7837",
    "weight": 2,
    "fillColor": "#1b7837",
    "fillOpacity": 0.08,
}


@dataclass(frozen=True)
class MarkerStyle:
    radius: float
    color: str
    weight: float
    fill_color: str
    class_name: str


# The page's legend (static/css/map.css, .swatch-*) mirrors these.
STYLE_ANCHOR = MarkerStyle(11, "#4a2000", 3, "#e66101", "site-anchor")
STYLE_SITE = MarkerStyle(7, "#ffffff", 2, "#1f78b4", "site")


@dataclass(frozen=True)
class MapSettings:
    """How the map looks, from the app's configuration."""

    center: tuple[float, float]
    zoom: int
    static_url: str = "/static"
    tile_url: str = ""
    tile_attribution: str = ""
    label: str = "Karte"


@dataclass(frozen=True)
class SiteMarker:
    """A site on the map; ``popup`` is HTML already escaped by the template."""

    lat: float
    lon: float
    name: str
    is_anchor: bool
    popup: Markup


@dataclass(frozen=True)
class AreaShape:
    """A polygon on the map (a GeoJSON geometry or Feature); optional escaped popup."""

    geojson: dict[str, Any]
    name: str
    popup: Markup | None = None


@dataclass(frozen=True)
class MapContent:
    quarters: Sequence[AreaShape] = ()
    subdistricts: Sequence[AreaShape] = ()
    service_areas: Sequence[AreaShape] = ()
    sites: Sequence[SiteMarker] = ()
    credits: Sequence[str] = field(default_factory=lambda: [DORTMUND_CREDIT])


@dataclass(frozen=True)
class MapParts:
    """The three parts a page embeds (as in folium's Flask example)."""

    header: Markup
    html: Markup
    script: Markup


class LocalLeafletMap(folium.Map):
    """A folium map that loads only the local Leaflet and leaves the page's layout alone.

    folium's own template adds jQuery-dependent code, global ``html, body`` styles and a
    viewport that forbids zooming the page; this one has none of them.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}{% endmacro %}

        {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }}
                 role="region" aria-label="{{ this.label|e }}"></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{ this.options|tojavascript }}
                }
            );
        {% endmacro %}
        """
    )

    def __init__(self, settings: MapSettings, **kwargs: Any) -> None:
        super().__init__(location=settings.center, zoom_start=settings.zoom, tiles=None, **kwargs)
        self.label = settings.label
        base = settings.static_url.rstrip("/")
        # Instance lists: folium's class-level lists are shared module globals.
        self.default_js = [("leaflet", f"{base}/{LEAFLET_JS}")]
        self.default_css = [("leaflet_css", f"{base}/{LEAFLET_CSS}")]
        # The page declares its own charset; drop the Figure's duplicate meta tag.
        _figure(self).header._children.pop("meta_http", None)


class EscapedPopup(folium.MacroElement):
    """Bind a popup whose HTML is already escaped; passed to Leaflet as a JSON string."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }},
                {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, content: Markup, max_width: int = 320) -> None:
        super().__init__()
        self._name = "EscapedPopup"
        self.content = str(content)
        self.options = {"maxWidth": max_width}


class EscapedTooltip(folium.MacroElement):
    """Bind a plain-text tooltip: the text is escaped before Leaflet sets it as HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.content|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "EscapedTooltip"
        self.content = str(escape(text))


class DataCredits(folium.MacroElement):
    """Credit the data sources in Leaflet's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution(
                {{ this.content|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, credits: Iterable[str]) -> None:
        super().__init__()
        self._name = "DataCredits"
        self.content = str(Markup(" | ").join(escape(credit) for credit in credits))


def data_credits(sources: Iterable[tuple[str, str | None]]) -> list[str]:
    """Credits for the data shown, from ``(dataset, licence)`` pairs.

    The city is always credited (sites, areas); OpenStreetMap whenever a shown record comes
    from it (ODbL asks for the credit wherever the data is displayed).
    """
    credits = [DORTMUND_CREDIT]
    for dataset, licence in sources:
        if dataset.lower().startswith("osm") or "odbl" in (licence or "").lower():
            credits.append(OSM_CREDIT)
            break
    return credits


def display_geometry(
    geom: WKBElement, tolerance_deg: float = 0.00002, grid_deg: float = 0.00001
) -> dict[str, Any]:
    """A GeoJSON geometry simplified (about 2 m) and snapped to about 1 m for the page."""
    shape = to_shape(geom).simplify(tolerance_deg, preserve_topology=True)
    geometry: dict[str, Any] = shapely.set_precision(shape, grid_deg).__geo_interface__
    return geometry


def _polygon(shape: AreaShape, style: dict[str, Any]) -> folium.GeoJson:
    layer = folium.GeoJson(
        shape.geojson, style_function=lambda _feature: style, highlight_function=None
    )
    if shape.popup is not None:
        layer.add_child(EscapedPopup(shape.popup))
        layer.add_child(EscapedTooltip(shape.name))
    return layer


def build_map(settings: MapSettings, content: MapContent) -> MapParts:
    """The folium map with quarter, sub-districts, service areas and sites, rendered."""
    fmap = LocalLeafletMap(settings)
    if settings.tile_url:
        folium.TileLayer(
            tiles=settings.tile_url, attr=settings.tile_attribution or " ", max_zoom=19
        ).add_to(fmap)
    for shape in content.subdistricts:
        _polygon(shape, STYLE_SUBDISTRICT).add_to(fmap)
    for shape in content.quarters:
        _polygon(shape, STYLE_QUARTER).add_to(fmap)
    for shape in content.service_areas:
        _polygon(shape, STYLE_SERVICE_AREA).add_to(fmap)
    # Anchors last, so they stay on top of ordinary sites.
    for site in sorted(content.sites, key=lambda s: s.is_anchor):
        style = STYLE_ANCHOR if site.is_anchor else STYLE_SITE
        marker = folium.CircleMarker(
            location=(site.lat, site.lon),
            radius=style.radius,
            color=style.color,
            weight=style.weight,
            fill=True,
            fill_color=style.fill_color,
            fill_opacity=0.95,
            class_name=style.class_name,
        )
        marker.add_child(EscapedPopup(site.popup))
        marker.add_child(EscapedTooltip(site.name))
        marker.add_to(fmap)
    fmap.add_child(DataCredits(content.credits))

    root = _figure(fmap)
    root.render()
    # Generated markup and script; every data text in it went through escape() or tojson.
    return MapParts(
        header=Markup(root.header.render()),  # noqa: S704
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
    )


def _figure(fmap: folium.Map) -> Figure:
    root = fmap.get_root()
    assert isinstance(root, Figure)
    return root
