"""The public map for families: a filter form, the map, and the same offers as a list.

Filters are GET parameters, so a link reproduces the view. The view only parses and renders;
finding offers is :mod:`mapservice.queries`, building the map is :mod:`mapservice.mapview`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, get_template_attribute, render_template, request, url_for
from geoalchemy2.shape import to_shape
from markupsafe import Markup
from shapely.geometry import Point
from werkzeug.datastructures import MultiDict

from mapservice import mapview, queries
from mapservice.db import get_session
from mapservice.models import Offer, Site
from mapservice.taxonomy import MAX_AGE_MONTHS, categories
from mapservice.validation import BBox, ParameterError, parse_age_months

bp = Blueprint("public", __name__)

# Sub-district outlines drawn for orientation: those within this many degrees of the centre
# (about 1 km east-west, 1.1 km north-south at Dortmund's latitude).
NEIGHBOURHOOD_DEG = (0.015, 0.01)
FILTER_KEYS = (
    "age_months",
    "age_years",
    "age_extra_months",
    "birth_month",
    "category",
    "language",
    "free",
    "bbox",
)


@bp.app_template_global("category_label")
def category_label(key: str) -> str:
    """The German label of a category key (the key itself if unknown)."""
    category = categories().get(key)
    return category.label_de if category else key


@dataclass(frozen=True)
class FormValues:
    """What the filter form shows, taken from the URL (raw, so bad input can be corrected)."""

    age_years: str
    age_extra_months: str
    birth_month: str
    categories: tuple[str, ...]
    language: str
    free: bool
    bbox: str


def normalised_args(args: MultiDict[str, str]) -> dict[str, str]:
    """One value per filter: checkboxes send ``category`` repeatedly, links comma-separated."""
    values = {key: args.get(key, "") for key in FILTER_KEYS if key in args}
    if "category" in args:
        values["category"] = ",".join(part for part in args.getlist("category") if part)
    return values


def form_values(args: Mapping[str, str], age_months: int | None) -> FormValues:
    years, extra = args.get("age_years", ""), args.get("age_extra_months", "")
    if args.get("age_months") and age_months is not None:
        # A link with age_months shows as years + months; submitting gives the same age.
        years, extra = str(age_months // 12), str(age_months % 12)
    return FormValues(
        age_years=years,
        age_extra_months=extra,
        birth_month=args.get("birth_month", ""),
        categories=tuple(part for part in args.get("category", "").split(",") if part),
        language=args.get("language", ""),
        free=args.get("free", "") not in ("", "0"),
        bbox=args.get("bbox", ""),
    )


def _near_centre(center: tuple[float, float]) -> BBox:
    lat, lon = center
    dlon, dlat = NEIGHBOURHOOD_DEG
    return BBox(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def _group_by_category(offers: list[Offer]) -> list[tuple[str, list[Offer]]]:
    grouped: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        grouped[offer.category].append(offer)
    return [(key, grouped[key]) for key in categories() if key in grouped]


def _escaped(rendered: Any) -> Markup:
    """A macro's output from the autoescaping environment (already Markup); refuse anything else."""
    if not isinstance(rendered, Markup):
        raise TypeError("popup HTML must come from an autoescaping template")
    # Collapse the template's indentation; Markup.split keeps the parts Markup.
    return Markup(" ").join(rendered.split())


def _site_markers(offers: list[Offer], anchors: list[Site]) -> list[mapview.SiteMarker]:
    site_popup = get_template_attribute("_offer.html", "site_popup")
    by_site: dict[int, tuple[Site, list[Offer]]] = {}
    for anchor in anchors:  # anchors stay on the map for orientation, even with no match
        by_site[anchor.id] = (anchor, [])
    for offer in offers:
        if offer.site is not None:
            by_site.setdefault(offer.site.id, (offer.site, []))[1].append(offer)
    markers = []
    for site, site_offers in by_site.values():
        point = to_shape(site.geom)
        assert isinstance(point, Point)
        markers.append(
            mapview.SiteMarker(
                lat=point.y,
                lon=point.x,
                name=site.name,
                is_anchor=site.is_anchor,
                popup=_escaped(site_popup(site, site_offers)),
            )
        )
    return markers


def _service_areas(offers: list[Offer]) -> list[mapview.AreaShape]:
    offer_popup = get_template_attribute("_offer.html", "offer_popup")
    return [
        mapview.AreaShape(
            geojson=mapview.display_geometry(offer.service_area),
            name=offer.title,
            popup=_escaped(offer_popup(offer)),
        )
        for offer in offers
        if offer.site is None and offer.service_area is not None
    ]


def _areas(features: list[dict[str, Any]]) -> list[mapview.AreaShape]:
    return [mapview.AreaShape(geojson=f, name=f["properties"]["name"]) for f in features]


def _outlines(features: list[dict[str, Any]]) -> list[mapview.AreaShape]:
    """Non-interactive outlines as one layer (one GeoJSON layer each would bloat the page)."""
    if not features:
        return []
    collection = queries.feature_collection(features)
    return [mapview.AreaShape(geojson=collection, name="")]


@bp.get("/")
def index() -> tuple[str, int]:
    config = current_app.config
    args = normalised_args(request.args)
    error: ParameterError | None = None
    try:
        criteria = queries.offer_filter_from_args(args)
    except ParameterError as exc:
        # Show everything rather than nothing, and say which input was not understood.
        error, criteria = exc, queries.OfferFilter()
    try:
        age_months = parse_age_months(args)
    except ParameterError:
        age_months = None

    session = get_session()
    offers = queries.find_offers(session, criteria)
    anchors = queries.find_anchor_sites(session)
    center = tuple(config["MAP_CENTER"])
    quarters = queries.area_features(session, "quarter")
    subdistricts = queries.area_features(session, "subdistrict", near=_near_centre(center))

    markers = _site_markers(offers, anchors)
    shown_sites = [o.site for o in offers if o.site is not None] + anchors
    sources = [(s.source_dataset, s.source_licence) for s in shown_sites]
    sources += [(o.source_dataset, None) for o in offers]
    sources += [(f["properties"]["source_dataset"], None) for f in quarters + subdistricts]
    settings = mapview.MapSettings(
        center=(float(center[0]), float(center[1])),
        zoom=int(config["MAP_ZOOM"]),
        static_url=url_for("static", filename="").rstrip("/"),
        tile_url=config.get("TILE_URL") or "",
        tile_attribution=config.get("TILE_ATTRIBUTION") or "",
        label="Karte der Angebote",
    )
    content = mapview.MapContent(
        quarters=_areas(quarters),
        subdistricts=_outlines(subdistricts),
        service_areas=_service_areas(offers),
        sites=markers,
        credits=mapview.data_credits(sources),
    )
    form = form_values(args, age_months)
    languages = sorted(set(queries.offer_languages(session)) | {form.language} - {""})
    page = render_template(
        "index.html",
        map=mapview.build_map(settings, content),
        has_tiles=bool(settings.tile_url),
        credits=content.credits,
        quarter_names=[f["properties"]["name"] for f in quarters],
        groups=_group_by_category(offers),
        offer_count=len(offers),
        age_months=None if error else age_months,
        form=form,
        category_options=list(categories().values()),
        language_options=languages,
        max_age_years=MAX_AGE_MONTHS // 12,
        error=error,
        has_anchors=bool(anchors),
        has_service_areas=bool(content.service_areas),
    )
    return page, 400 if error else 200
