"""The map of a planned round: the legs (routed solid, estimated dashed), the stops
numbered in the visiting order, and the sites of the families' offers."""

from __future__ import annotations

import folium
from branca.element import Figure
from folium.template import Template
from markupsafe import Markup

from mapservice import mapview
from mapservice.models import Site
from mapservice.outreach.plan import Plan
from mapservice.outreach.sites import site_point

STYLE_ROUTED = {"color": "#08519c", "weight": 5, "opacity": 0.85}
STYLE_ESTIMATED = {"color": "#b35806", "weight": 4, "opacity": 0.9, "dash_array": "8 8"}


class _NumberLabel(folium.MacroElement):
    """A permanent label with a stop's number in the visiting order (a number only)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.number|tojson }},
                {permanent: true, direction: "center", className: "stop-number"});
        {% endmacro %}
        """
    )

    def __init__(self, number: int) -> None:
        super().__init__()
        self._name = "NumberLabel"
        self.number = str(int(number))


def route_map(settings: mapview.MapSettings, plan: Plan) -> mapview.MapParts:
    """The route (routed legs solid, estimated ones dashed), the stops numbered, and the
    sites of the families' offers. Every text goes through :class:`mapview.EscapedTooltip`."""
    fmap = mapview.LocalLeafletMap(settings)  # with the configured background map
    points: list[tuple[float, float]] = []
    titles: dict[int, tuple[Site, list[str]]] = {}
    for visit in plan.visits:
        for item in visit.offers:
            site = item.offer.site
            if site is not None:
                shown = titles.setdefault(site.id, (site, []))[1]
                if item.offer.title not in shown:
                    shown.append(item.offer.title)
    for site, names in titles.values():
        marker = folium.CircleMarker(
            site_point(site),
            radius=5,
            color="#ffffff",
            weight=1,
            fill=True,
            fill_color="#1f78b4",
            fill_opacity=0.9,
        )
        marker.add_child(mapview.EscapedTooltip(f"{site.name}: {'; '.join(names)}"))
        marker.add_to(fmap)
    for leg in plan.legs:
        style = STYLE_ESTIMATED if leg.estimated else STYLE_ROUTED
        line = folium.PolyLine(leg.path, **style)
        note = " (geschätzt: Luftlinie × Umwegfaktor)" if leg.estimated else ""
        line.add_child(mapview.EscapedTooltip(f"{leg.minutes:.0f} min{note}"))
        line.add_to(fmap)
        points.extend(leg.path)
    stops = [(0, plan.start)] + [(visit.position, visit.stop) for visit in plan.visits]
    for number, stop in stops:
        marker = folium.CircleMarker(
            (stop.lat, stop.lon),
            radius=11,
            color="#4a2000",
            weight=2,
            fill=True,
            fill_color="#e66101" if number == 0 else "#ffffff",
            fill_opacity=1,
        )
        marker.add_child(_NumberLabel(number))
        marker.add_to(fmap)
        points.append((stop.lat, stop.lon))
    if points:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))], padding=(20, 20))
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.render()
    # Generated markup; every text from the data went through EscapedTooltip (escape + JSON).
    return mapview.MapParts(
        header=Markup(root.header.render()),  # noqa: S704
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
    )
