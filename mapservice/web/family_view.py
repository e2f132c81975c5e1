"""The family page's view model: the filter form's values from the URL, the answer, and what
the page, the list fragment (``/results``) and the print view show of it.

Privacy: the place a family enters is used for the query and rendered into the page; it is
never logged (see ``tests/test_family_privacy.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app, g, url_for
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from werkzeug.datastructures import MultiDict

from mapservice import geocode, mapview, queries
from mapservice.data_cache import VersionedCache, data_version
from mapservice.db import get_session
from mapservice.family.query import (
    DEFAULT_MINUTES,
    DEFAULT_PROFILE,
    PAGE_SIZE,
    FamilyQuery,
    locate_address,
    parse_family_query,
)
from mapservice.family.search import FamilyAnswer, Listed, find_for_family
from mapservice.models import Offer, Site
from mapservice.offer_snapshot import OfferRecords, offer_records
from mapservice.taxonomy import categories
from mapservice.validation import ParameterError, parse_age_months
from mapservice.web import family_list, family_map
from mapservice.web.walking_api import walk_settings

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
    "shown",
    "start",
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
    minutes: str = str(DEFAULT_MINUTES)
    profile: str = DEFAULT_PROFILE
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
        minutes=args.get("minutes") or str(DEFAULT_MINUTES),
        profile=args.get("profile") or DEFAULT_PROFILE,
        day=args.get("day", ""),
        time=args.get("time", ""),
    )


def _group_by_category(items: list[Listed]) -> list[tuple[str, list[Listed]]]:
    grouped: dict[str, list[Listed]] = defaultdict(list)
    for item in items:
        grouped[item.offer.category].append(item)
    return [(key, grouped[key]) for key in categories() if key in grouped]


def _site_markers(
    offers: list[Offer], anchors: list[Site], points: dict[int, tuple[float, float]]
) -> list[mapview.SiteMarker]:
    """The sites to draw; ``points``: (lat, lon) by site id, known ahead (else read from
    the geometry)."""
    by_site: dict[int, tuple[Site, list[int]]] = {}
    for anchor in anchors:  # anchors stay on the map for orientation, even with no match
        by_site[anchor.id] = (anchor, [])
    for offer in offers:
        if offer.site is not None:
            by_site.setdefault(offer.site.id, (offer.site, []))[1].append(offer.id)
    markers = []
    for site, offer_ids in by_site.values():
        lat_lon = points.get(site.id)
        if lat_lon is None:
            point = to_shape(site.geom)
            assert isinstance(point, Point)
            lat_lon = (point.y, point.x)
        markers.append(
            mapview.SiteMarker(
                lat=lat_lon[0],
                lon=lat_lon[1],
                name=site.name,
                address=site.address,
                is_anchor=site.is_anchor,
                offer_ids=tuple(offer_ids),
            )
        )
    return markers


# Service areas simplified for the map, per offer and data version (the whole city's are
# large multipolygons: simplifying them on every page cost milliseconds).
display_areas: VersionedCache[dict[str, Any]] = VersionedCache(512)


def _service_areas(offers: list[Offer], version: int | None) -> list[mapview.ServiceArea]:
    areas = []
    for offer in offers:
        area = offer.service_area
        if offer.site is not None or area is None:
            continue
        if version is None:
            geometry = mapview.display_geometry(area)
        else:
            geometry = display_areas.get(
                get_session(),
                ("area", offer.id),
                lambda area=area: mapview.display_geometry(area),  # type: ignore[misc]
                version=version,
            )
        areas.append(mapview.ServiceArea(geometry, offer.id))
    return areas


@dataclass
class FamilyView:
    """Everything the page, the list fragment and the print view show."""

    args: dict[str, str]
    form: FormValues
    query: FamilyQuery
    answer: FamilyAnswer
    error: ParameterError | None = None
    age_months: int | None = None
    places: list[geocode.Place] = field(default_factory=list)
    anchors: list[Site] = field(default_factory=list)
    records: OfferRecords | None = None

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
            "offer_count": answer.total,
            "link_args": self.link_args(),
            "entries": family_list.ListEntries(
                self.link_args(), answer.located, g.get("data_version")
            ),
            **self.more_context(),
        }

    def more_context(self) -> dict[str, Any]:
        """Links to the previous and the next page of the list: the same view from another
        ``start``, scrolled to the list (plain links, so they work without JavaScript too;
        ``family.js`` loads them in place from ``*_results_url``)."""
        answer = self.answer
        shown = self.query.shown or len(answer.items)
        context: dict[str, Any] = {
            "page_first": answer.start + 1,
            "page_last": answer.start + len(answer.items),
            "prev_url": None,
            "prev_results_url": None,
            "next_url": None,
            "next_results_url": None,
            "next_offer": None,
        }
        if answer.more > 0 and answer.next_offer is not None:
            args: dict[str, Any] = self.link_args() | {"start": str(answer.start + shown)}
            anchor = f"offer-{answer.next_offer}"
            context["next_url"] = url_for("public.index", **args, _anchor=anchor)
            context["next_results_url"] = url_for("public.results", **args)
            context["next_offer"] = answer.next_offer
        if answer.start > 0 and shown:
            back: dict[str, Any] = self.link_args()
            # From past the end (an old link after offers ended): back to the last page.
            previous = max(0, min(answer.start, answer.total) - shown)
            if previous:
                back["start"] = str(previous)
            else:
                back.pop("start", None)
            context["prev_url"] = url_for("public.index", **back, _anchor="results-heading")
            context["prev_results_url"] = url_for("public.results", **back)
        return context

    def map_data(self) -> dict[str, Any]:
        location = self.query.location if not self.error else None
        return mapview.map_data(
            _site_markers(
                self.offers, self.anchors, self.records.site_points if self.records else {}
            ),
            _service_areas(self.offers, self.records.version if self.records else None),
            origin=[location.lat, location.lon] if location else None,
            minutes=self.query.minutes,
            profile=self.query.profile,
            estimated=self.answer.estimated,
        )


def map_centre() -> tuple[float, float]:
    """The ``MAP_CENTER`` setting (lat, lon): where address choices are ordered from when no
    quarter is loaded."""
    lat, lon = current_app.config["MAP_CENTER"]
    return float(lat), float(lon)


def family_view(raw: MultiDict[str, str]) -> FamilyView:
    args = normalised_args(raw)
    session = get_session()
    # Read first: what the page then renders from cache is at least this new.
    version = data_version(session)
    family_map.remember_data_version(version)
    records = offer_records(session, version)
    error: ParameterError | None = None
    places: list[geocode.Place] = []
    try:
        query = parse_family_query(args)
        query, places = locate_address(session, query, map_centre())
        answer = find_for_family(session, query, walk_settings(), records)
    except ParameterError as exc:
        # Show everything rather than nothing, and say which input was not understood.
        error = exc
        query = FamilyQuery(criteria=queries.OfferFilter(), shown=PAGE_SIZE)
        answer = find_for_family(session, query, walk_settings(), records)
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
        anchors=list(records.anchors),
        records=records,
    )
