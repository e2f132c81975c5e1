"""The family page's map scaffolding and choices, built once per data version.

The folium/Leaflet map (the quarter's and sub-districts' outlines, the credits) changes only
with the language, the map settings and the data; so do the outlines and the offer languages
of the filter. They are kept in bounded caches keyed by the data version
(:mod:`mapservice.data_cache`), so a changed area or offer shows on the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy.orm import Session

from mapservice import mapview, queries
from mapservice.data_cache import VersionedCache
from mapservice.db import get_session
from mapservice.i18n import current_language
from mapservice.models import Offer
from mapservice.validation import BBox
from mapservice.web import basemap

# Sub-district outlines drawn for orientation: those within this many degrees of the centre
# (about 1 km east-west, 1.1 km north-south at Dortmund's latitude).
NEIGHBOURHOOD_DEG = (0.015, 0.01)

Features = list[dict[str, Any]]
# A handful of entries each: versions x languages x credit variants.
outlines: VersionedCache[tuple[Features, Features]] = VersionedCache(16)
maps: VersionedCache[mapview.MapParts] = VersionedCache(64)
languages: VersionedCache[list[str]] = VersionedCache(8)


@dataclass(frozen=True)
class MapScaffolding:
    parts: mapview.MapParts
    credits: tuple[str, ...]
    quarter_names: list[str]
    has_tiles: bool


def _near_centre(center: tuple[float, float]) -> BBox:
    lat, lon = center
    dlon, dlat = NEIGHBOURHOOD_DEG
    return BBox(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def map_scaffolding(
    session: Session, version: int, sources: Iterable[tuple[str, str | None]]
) -> MapScaffolding:
    """The map for the page; ``sources`` are the (dataset, licence) of what the page shows."""
    settings = basemap.map_settings(label=gettext("Karte der Angebote"))

    def load_outlines() -> tuple[Features, Features]:
        near = _near_centre(settings.center)
        return (
            queries.area_features(session, "quarter"),
            queries.area_features(session, "subdistrict", near=near),
        )

    quarters, subdistricts = outlines.get(session, "outlines", load_outlines, version=version)
    area_sources = [(f["properties"]["source_dataset"], None) for f in quarters + subdistricts]
    credits = tuple(mapview.data_credits([*sources, *area_sources]))

    def build() -> mapview.MapParts:
        content = mapview.MapContent(
            quarters=[mapview.AreaShape(f, f["properties"]["name"]) for f in quarters],
            subdistricts=(
                [mapview.AreaShape(queries.feature_collection(subdistricts), "")]
                if subdistricts
                else []
            ),
            credits=credits,
        )
        return mapview.build_map(settings, content)

    key = (current_language(), settings, credits)
    return MapScaffolding(
        parts=maps.get(session, key, build, version=version),
        credits=credits,
        quarter_names=[f["properties"]["name"] for f in quarters],
        has_tiles=settings.has_background,
    )


def offer_languages(session: Session, version: int) -> list[str]:
    """The languages active offers are held in (the filter's choices)."""
    return languages.get(
        session, "languages", lambda: queries.offer_languages(session), version=version
    )


# Rendered facts of an offer (place, age, languages, times, cost, source): they depend only on
# the offer and the language, and rendering them is most of a list's cost. Bytes-bounded.
facts: VersionedCache[Markup] = VersionedCache(8 * 1024 * 1024, getsizeof=len)


def labels() -> Any:
    """``templates/_labels.html`` as a module in the page's language: its ~40 wordings are
    translated once per language and process, not on every page (``{% from … with
    context %}`` evaluates the whole file each time)."""
    language = current_language()
    by_language: dict[str, Any] = current_app.extensions.setdefault("mapservice_labels", {})
    found = by_language.get(language)
    if found is None:
        found = current_app.jinja_env.get_template("_labels.html").make_module()
        by_language[language] = found
    return found


def remember_data_version(version: int) -> None:
    """Let the templates' cached parts (:func:`offer_facts`) know the request's data version."""
    g.data_version = version


def offer_facts(offer: Offer) -> Markup:
    """``facts(offer)`` of ``_offer.html``, rendered once per offer, language and data version
    (directly when the view did not say which version it reads)."""
    macro = current_app.jinja_env.get_template("_offer.html").module.facts  # type: ignore[attr-defined]

    def render() -> Markup:
        rendered = macro(offer)
        # An autoescaping template: the macro escaped every text of the offer itself.
        assert isinstance(rendered, Markup)
        return rendered

    version = g.get("data_version")
    if version is None:
        return render()
    key = ("facts", offer.id, current_language())
    return facts.get(get_session(), key, render, version=version)
