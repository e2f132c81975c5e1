"""The public web map, built with folium on the service's own copy of Leaflet. Free of Flask.

The page must make no third-party request (privacy by default), so the map loads only
``static/vendor/leaflet`` and no folium element that pulls assets from a CDN is used
(folium's ``Popup`` also needs jQuery). The background is the service's own vector base
map (:mod:`mapservice.basemap`, drawn by ``static/js/basemap.js``) or, if one is
configured, a raster tile server.

folium draws what does not change with the filter (the quarter, the sub-districts, the
credits). Sites and service areas change with every filter, so they travel as compact
data (:func:`map_data`, embedded once as JSON and refreshed by ``static/js/family.js``),
and their popups are built in the browser from the list entries with ``textContent``:
text from the data is never parsed as markup, and the page does not carry each offer twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import shapely
from branca.element import Element, Figure
from folium.template import Template
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from markupsafe import Markup, escape
from shapely.geometry import shape as geometry_shape

from mapservice.basemap.page import BASEMAP_JS, VectorBasemap

LEAFLET_JS = "vendor/leaflet/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/leaflet.css"

# A page without folium (the offer page): Leaflet, the base map's scripts and the small
# map, in this order, all deferred.
OFFER_MAP_JS = (LEAFLET_JS, *BASEMAP_JS[:2], "js/offer-map.js", BASEMAP_JS[2])

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
    """How the map looks, from the app's configuration.

    The background is the raster ``tile_url`` when one is set, else the vector ``basemap``
    when there is one, else none.
    """

    center: tuple[float, float]
    zoom: int
    static_url: str = "/static"
    tile_url: str = ""
    tile_attribution: str = ""
    label: str = "Karte"
    basemap: VectorBasemap | None = None

    @property
    def has_background(self) -> bool:
        return bool(self.tile_url or self.basemap)


@dataclass(frozen=True)
class SiteMarker:
    """A site on the map and the listed offers held there (by id)."""

    lat: float
    lon: float
    name: str
    address: str
    is_anchor: bool
    offer_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ServiceArea:
    """Where an offer comes to the family's home."""

    geojson: dict[str, Any]
    offer_id: int


@dataclass(frozen=True)
class AreaShape:
    """A polygon drawn for orientation (a GeoJSON geometry, Feature or FeatureCollection)."""

    geojson: dict[str, Any]
    name: str


@dataclass(frozen=True)
class MapContent:
    quarters: Sequence[AreaShape] = ()
    subdistricts: Sequence[AreaShape] = ()
    credits: Sequence[str] = field(default_factory=lambda: [DORTMUND_CREDIT])


def _leaflet_style(style: MarkerStyle) -> dict[str, Any]:
    return {
        "radius": style.radius,
        "color": style.color,
        "weight": style.weight,
        "fillColor": style.fill_color,
        "fillOpacity": 0.95,
        "className": style.class_name,
    }


def map_data(
    sites: Iterable[SiteMarker], service_areas: Iterable[ServiceArea], **extra: Any
) -> dict[str, Any]:
    """What ``family.js`` draws: sites as ``[lat, lon, anchor, name, address, [offer ids]]``
    (anchors last, so they are drawn on top), service areas as one FeatureCollection, the two
    marker styles, and ``extra`` (origin, minutes, profile …).

    Plain data: the page embeds it with ``tojson`` and the script only ever sets text.
    """
    rows = [
        [
            round(site.lat, 6),
            round(site.lon, 6),
            int(site.is_anchor),
            site.name,
            site.address,
            list(site.offer_ids),
        ]
        for site in sorted(sites, key=lambda s: s.is_anchor)
    ]
    areas = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": area.geojson, "properties": {"id": area.offer_id}}
            for area in service_areas
        ],
    }
    return {
        "sites": rows,
        "areas": areas,
        "styles": [_leaflet_style(STYLE_SITE), _leaflet_style(STYLE_ANCHOR)],
        "areaStyle": STYLE_SERVICE_AREA,
        **extra,
    }


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
                 {%- if this.basemap %}
                 data-basemap="{{ this.basemap|tojson|forceescape }}"{% endif %}
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
            window.mapserviceMap = {{ this.get_name() }};
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
        figure = _figure(self)
        # The page declares its own charset; drop the Figure's duplicate meta tag.
        figure.header._children.pop("meta_http", None)
        self.basemap: dict[str, Any] | None = None
        self.credits_osm = False
        if settings.tile_url:
            folium.TileLayer(
                tiles=settings.tile_url,
                attr=settings.tile_attribution or " ",
                name="Base map",
                max_zoom=19,
            ).add_to(self)
        elif settings.basemap is not None:
            self.basemap = settings.basemap.page_config()
            self.credits_osm = "openstreetmap" in settings.basemap.attribution.lower()
            for number, script in enumerate(BASEMAP_JS):
                figure.header.add_child(
                    Element(f'<script defer src="{escape(f"{base}/{script}")}"></script>'),
                    name=f"basemap_js_{number}",
                )


def js_string(text: str) -> str:
    """A JavaScript string literal that is safe inside an HTML ``<script>`` element.

    JSON with ``<`` escaped, so neither ``</script>`` nor ``<!--`` can occur; unlike Jinja's
    ``tojson`` it keeps ``>``, ``&``, quotes and non-ASCII letters as they are, which roughly
    halves the size of popup HTML.
    """
    literal = json.dumps(text, ensure_ascii=False)
    return literal.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class EscapedPopup(folium.MacroElement):
    """Bind a popup whose HTML is already escaped; passed to Leaflet as a string literal."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.content }}, {maxWidth: 320});
        {% endmacro %}
        """
    )

    def __init__(self, content: Markup) -> None:
        super().__init__()
        self._name = "EscapedPopup"
        self.content = js_string(str(content))


class EscapedTooltip(folium.MacroElement):
    """Bind a plain-text tooltip: the text is escaped before Leaflet sets it as HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.content }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "EscapedTooltip"
        self.content = js_string(str(escape(text)))


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
        self.credits = list(credits)
        self.content = ""

    def render(self, **kwargs: Any) -> Any:
        # The base map credits OpenStreetMap itself (linked); do not say it twice.
        shown = getattr(self._parent, "credits_osm", False)
        credits = [c for c in self.credits if not (shown and c == OSM_CREDIT)]
        self.content = str(Markup(" | ").join(escape(credit) for credit in credits))
        return super().render(**kwargs)


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
    return folium.GeoJson(
        shape.geojson, style_function=lambda _feature: style, highlight_function=None
    )


def build_map(settings: MapSettings, content: MapContent) -> MapParts:
    """The folium map with the quarter and sub-districts, rendered (sites: :func:`map_data`)."""
    fmap = LocalLeafletMap(settings)
    for shape in content.subdistricts:
        _polygon(shape, STYLE_SUBDISTRICT).add_to(fmap)
    # The quarter's outline takes no clicks, so the sites and areas drawn later stay usable.
    for shape in content.quarters:
        _polygon(shape, STYLE_QUARTER).add_to(fmap)
    if content.quarters:
        # Open on the quarter, whatever the screen size.
        west, south, east, north = _bounds(shape.geojson for shape in content.quarters)
        # Without animation: an animated first zoom ends ~250 ms later by moving the view
        # back here, over a chosen place the page's script has fitted in the meantime.
        opening = folium.map.FitBounds([(south, west), (north, east)], padding=(8, 8))
        opening.options["animate"] = False
        fmap.add_child(opening)
    fmap.add_child(DataCredits(content.credits))

    root = _figure(fmap)
    root.render()
    # Generated markup and script; every data text in it went through escape() or tojson.
    return MapParts(
        header=Markup(root.header.render()),  # noqa: S704
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
    )


def _bounds(geojsons: Iterable[dict[str, Any]]) -> tuple[float, float, float, float]:
    """(west, south, east, north) of GeoJSON geometries or Features."""
    shapes = [geometry_shape(item.get("geometry") or item) for item in geojsons]
    bounds = shapely.GeometryCollection(shapes).bounds
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def _figure(fmap: folium.Map) -> Figure:
    root = fmap.get_root()
    assert isinstance(root, Figure)
    return root
