"""The family map: filters, where you are, the offers you reach on foot; offer pages,
calendar files, a print view and the address search behind the "where" box.

Every choice is a GET parameter, so a link reproduces the view, and the page works without
JavaScript (the form submits, the server looks the address up). With JavaScript
(``static/js/family.js``) a change refreshes the list and the map from ``/results`` without
reloading. The views only parse and render: :mod:`mapservice.family` answers,
:mod:`mapservice.geocode` searches addresses, :mod:`mapservice.mapview` builds the map.

Privacy: the place a family enters is used for the query and rendered into the page; it is
never logged (see ``tests/test_family_privacy.py``), and no view sends it anywhere else.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from geoalchemy2.shape import to_shape
from markupsafe import Markup
from shapely.geometry import Point
from werkzeug.datastructures import MultiDict

from mapservice import family, geocode, mapview, queries
from mapservice.db import get_session
from mapservice.i18n import current_language, offer_text
from mapservice.models import Offer, Site
from mapservice.taxonomy import MAX_AGE_MONTHS, categories
from mapservice.validation import BBox, ParameterError, parse_age_months
from mapservice.web.walking_api import walk_settings

bp = Blueprint("public", __name__)

# Sub-district outlines drawn for orientation: those within this many degrees of the centre
# (about 1 km east-west, 1.1 km north-south at Dortmund's latitude).
NEIGHBOURHOOD_DEG = (0.015, 0.01)
FILTER_KEYS = (
    "age_months",
    "age_years",
    "age_extra_months",
    "birth_month",
    "where",
    "lat",
    "lon",
    "minutes",
    "profile",
    "category",
    "language",
    "free",
    "day",
    "time",
    "bbox",
)


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
    where: str = ""
    lat: str = ""
    lon: str = ""
    minutes: str = str(family.DEFAULT_MINUTES)
    profile: str = family.DEFAULT_PROFILE
    day: str = ""
    time: str = ""


def normalised_args(args: MultiDict[str, str]) -> dict[str, str]:
    """One value per filter: checkboxes send ``category`` repeatedly, links comma-separated."""
    values = {key: args.get(key, "") for key in FILTER_KEYS if key in args}
    if "where" in values:
        # A search box, not a document: what is kept, shown and linked is what is searched.
        values["where"] = " ".join(values["where"].split())[: geocode.MAX_QUERY_LENGTH]
    if "category" in args:
        values["category"] = ",".join(part for part in args.getlist("category") if part)
    return values


def view_args(args: Mapping[str, str]) -> dict[str, str]:
    """The parameters that reproduce a view (empty ones dropped), for links."""
    return {key: value for key, value in args.items() if value}


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
        where=args.get("where", ""),
        lat=args.get("lat", ""),
        lon=args.get("lon", ""),
        minutes=args.get("minutes") or str(family.DEFAULT_MINUTES),
        profile=args.get("profile") or family.DEFAULT_PROFILE,
        day=args.get("day", ""),
        time=args.get("time", ""),
    )


def _near_centre(center: tuple[float, float]) -> BBox:
    lat, lon = center
    dlon, dlat = NEIGHBOURHOOD_DEG
    return BBox(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def _group_by_category(items: list[family.Listed]) -> list[tuple[str, list[family.Listed]]]:
    grouped: dict[str, list[family.Listed]] = defaultdict(list)
    for item in items:
        grouped[item.offer.category].append(item)
    return [(key, grouped[key]) for key in categories() if key in grouped]


def _site_markers(offers: list[Offer], anchors: list[Site]) -> list[mapview.SiteMarker]:
    by_site: dict[int, tuple[Site, list[int]]] = {}
    for anchor in anchors:  # anchors stay on the map for orientation, even with no match
        by_site[anchor.id] = (anchor, [])
    for offer in offers:
        if offer.site is not None:
            by_site.setdefault(offer.site.id, (offer.site, []))[1].append(offer.id)
    markers = []
    for site, offer_ids in by_site.values():
        point = to_shape(site.geom)
        assert isinstance(point, Point)
        markers.append(
            mapview.SiteMarker(
                lat=point.y,
                lon=point.x,
                name=site.name,
                address=site.address,
                is_anchor=site.is_anchor,
                offer_ids=tuple(offer_ids),
            )
        )
    return markers


def _service_areas(offers: list[Offer]) -> list[mapview.ServiceArea]:
    return [
        mapview.ServiceArea(mapview.display_geometry(offer.service_area), offer.id)
        for offer in offers
        if offer.site is None and offer.service_area is not None
    ]


@dataclass
class FamilyView:
    """Everything the page, the list fragment and the print view show."""

    args: dict[str, str]
    form: FormValues
    query: family.FamilyQuery
    answer: family.FamilyAnswer
    error: ParameterError | None = None
    age_months: int | None = None
    places: list[geocode.Place] = field(default_factory=list)
    anchors: list[Site] = field(default_factory=list)

    @property
    def offers(self) -> list[Offer]:
        return [item.offer for item in self.answer.items]

    @property
    def address_not_found(self) -> bool:
        return (
            bool(self.query.where)
            and self.query.location is None
            and not self.places
            and not self.error
        )

    @property
    def choices(self) -> list[geocode.Place]:
        """The places offered for a typed address that was not certain ("did you mean …?")."""
        return self.places if self.query.location is None and not self.error else []

    def link_args(self) -> dict[str, str]:
        """The view's parameters, with a looked-up place pinned as lat/lon."""
        args = view_args(self.args)
        location = self.query.location
        if location is not None and not self.error:
            args |= {"lat": f"{location.lat:.6f}", "lon": f"{location.lon:.6f}"}
            args["where"] = location.label
        return args

    def template_context(self) -> dict[str, Any]:
        answer = self.answer
        return {
            "form": self.form,
            "error": self.error,
            "age_months": None if self.error else self.age_months,
            "located": answer.located,
            "estimated": answer.estimated,
            "location": self.query.location,
            "query": self.query,
            "places": self.places,
            "choices": self.choices,
            "address_not_found": self.address_not_found,
            "items": answer.items,
            "groups": [] if answer.located else _group_by_category(answer.items),
            "offer_count": len(answer.items),
            "link_args": self.link_args(),
        }

    def map_data(self) -> dict[str, Any]:
        location = self.query.location if not self.error else None
        return mapview.map_data(
            _site_markers(self.offers, self.anchors),
            _service_areas(self.offers),
            origin=[location.lat, location.lon] if location else None,
            minutes=self.query.minutes,
            profile=self.query.profile,
            estimated=self.answer.estimated,
        )


def _map_centre() -> tuple[float, float]:
    """The ``MAP_CENTER`` setting (lat, lon): where address choices are ordered from when no
    quarter is loaded."""
    lat, lon = current_app.config["MAP_CENTER"]
    return float(lat), float(lon)


def family_view(raw: MultiDict[str, str]) -> FamilyView:
    args = normalised_args(raw)
    session = get_session()
    error: ParameterError | None = None
    places: list[geocode.Place] = []
    try:
        query = family.parse_family_query(args)
        query, places = family.locate_address(session, query, _map_centre())
        answer = family.find_for_family(session, query, walk_settings())
    except ParameterError as exc:
        # Show everything rather than nothing, and say which input was not understood.
        error, query = exc, family.FamilyQuery(criteria=queries.OfferFilter())
        answer = family.find_for_family(session, query, walk_settings())
    try:
        age_months = parse_age_months(args)
    except ParameterError:
        age_months = None
    form = form_values(args, age_months)
    if places and query.location is not None:
        # The server looked the address up: the form shows the place it took.
        location = query.location
        form = replace(
            form, where=location.label, lat=f"{location.lat:.6f}", lon=f"{location.lon:.6f}"
        )
    return FamilyView(
        args=args,
        form=form,
        query=query,
        answer=answer,
        error=error,
        age_months=age_months,
        places=places,
        anchors=queries.find_anchor_sites(session),
    )


def _page_options(view: FamilyView) -> dict[str, Any]:
    session = get_session()
    languages = sorted(set(queries.offer_languages(session)) | {view.form.language} - {""})
    return {
        "category_options": list(categories().values()),
        "language_options": languages,
        "max_age_years": MAX_AGE_MONTHS // 12,
        "minute_choices": family.MINUTE_CHOICES,
        "profile_choices": family.PROFILE_CHOICES,
        "weekday_keys": family.ICAL_DAYS,
    }


@bp.get("/")
def index() -> tuple[str, int]:
    config = current_app.config
    view = family_view(request.args)
    session = get_session()
    center = tuple(config["MAP_CENTER"])
    quarters = queries.area_features(session, "quarter")
    subdistricts = queries.area_features(session, "subdistrict", near=_near_centre(center))
    shown_sites = [o.site for o in view.offers if o.site is not None] + view.anchors
    sources = [(s.source_dataset, s.source_licence) for s in shown_sites]
    sources += [(o.source_dataset, None) for o in view.offers]
    sources += [(f["properties"]["source_dataset"], None) for f in quarters + subdistricts]
    settings = mapview.MapSettings(
        center=(float(center[0]), float(center[1])),
        zoom=int(config["MAP_ZOOM"]),
        static_url=url_for("static", filename="").rstrip("/"),
        tile_url=config.get("TILE_URL") or "",
        tile_attribution=config.get("TILE_ATTRIBUTION") or "",
        label=gettext("Karte der Angebote"),
    )
    outlines = (
        [mapview.AreaShape(queries.feature_collection(subdistricts), "")] if subdistricts else []
    )
    content = mapview.MapContent(
        quarters=[mapview.AreaShape(f, f["properties"]["name"]) for f in quarters],
        subdistricts=outlines,
        credits=mapview.data_credits(sources),
    )
    page = render_template(
        "index.html",
        map=mapview.build_map(settings, content),
        map_data=view.map_data(),
        has_tiles=bool(settings.tile_url),
        credits=content.credits,
        quarter_names=[f["properties"]["name"] for f in quarters],
        has_anchors=bool(view.anchors),
        **view.template_context(),
        **_page_options(view),
    )
    return page, 400 if view.error else 200


@bp.get("/results")
def results() -> tuple[Response, int]:
    """The list and the map's data for the current choices (what ``family.js`` fetches)."""
    view = family_view(request.args)
    context = view.template_context()
    return jsonify(
        {
            "html": render_template("_results.html", **context),
            "map": view.map_data(),
            "url": url_for("public.index", **context["link_args"]),
            "print_url": url_for("public.print_view", **context["link_args"]),
            "count": len(view.answer.items),
            "error": view.error.as_dict() if view.error else None,
        }
    ), (400 if view.error else 200)


@bp.get("/print")
def print_view() -> tuple[str, int]:
    """The current list on A4, with a QR code that opens the same view on a phone."""
    view = family_view(request.args)
    context = view.template_context()
    link = url_for("public.index", _external=True, **context["link_args"])
    qr = segno.make(link, error="m")
    svg = io.BytesIO()
    qr.save(svg, kind="svg", scale=3, border=2, xmldecl=False, svgns=True, title=link)
    page = render_template(
        "print.html",
        qr_svg=Markup(svg.getvalue().decode()),  # noqa: S704 - generated by segno, link escaped
        view_url=link,
        today=dt.date.today(),
        **context,
    )
    return page, 400 if view.error else 200


def _offer_or_404(offer_id: int) -> Offer:
    offer = get_session().get(Offer, offer_id)
    if offer is None:
        abort(404)
    return offer


@bp.get("/offer/<int:offer_id>")
def offer_page(offer_id: int) -> str:
    offer = _offer_or_404(offer_id)
    back = view_args(normalised_args(request.args))
    language = current_language()
    title = offer_text(offer, "title")
    description = offer_text(offer, "description")
    url = url_for("public.offer_page", offer_id=offer.id, _external=True)
    json_ld = family.offer_json_ld(
        offer,
        title=title.text if title else offer.title,
        description=description.text if description else None,
        url=url,
        language=language,
    )
    return render_template(
        "offer.html",
        offer=offer,
        title=title,
        description=description,
        next_dates=family.next_dates(offer.schedule),
        json_ld=json_ld,
        back_args=back,
    )


@bp.get("/offer/<int:offer_id>.ics")
def offer_calendar(offer_id: int) -> Response:
    offer = _offer_or_404(offer_id)
    if not offer.schedule:
        abort(404, description="this offer has no regular dates")
    title = offer_text(offer, "title")
    description = offer_text(offer, "description")
    data = family.offer_calendar(
        offer,
        title=title.text if title else offer.title,
        description=description.text if description else None,
        url=url_for("public.offer_page", offer_id=offer.id, _external=True),
    )
    response = Response(data, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="angebot-{offer.id}.ics"'
    return response


@bp.get("/api/geocode")
def geocode_api() -> tuple[Response, int]:
    """``GET /api/geocode?q=`` → ``{"places": [{label, lat, lon, kind, match}, …]}``.

    ``match`` is ``strong`` for the one certain answer (always first) and ``weak`` for a
    choice ("did you mean …?"; nearest to the quarter first). Offline: only what the database
    holds is searched. Bad input answers 400 naming ``q``.
    """
    raw = request.args.get("q")
    if raw is None or not raw.strip():
        error = ParameterError("q", "is required: a street and house number or a place name")
        return jsonify(error.as_dict()), 400
    if len(raw) > geocode.MAX_QUERY_LENGTH:
        error = ParameterError("q", f"must be at most {geocode.MAX_QUERY_LENGTH} characters")
        return jsonify(error.as_dict()), 400
    places = geocode.search(get_session(), raw, centre=_map_centre())
    return jsonify({"places": [place.as_dict() for place in places]}), 200
