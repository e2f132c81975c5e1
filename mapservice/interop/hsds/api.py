"""The HSDS 3.0 API (Open Referral): ``/``, ``/services``, ``/services/{id}``,
``/organizations``, ``/taxonomies``, ``/taxonomy_terms``. Free of Flask.

Pages carry ``total_items``, ``total_pages``, ``page_number``, ``size``, ``first_page``,
``last_page``, ``empty`` and ``contents`` (the HSDS OpenAPI's ``Page``). ``format=ndjson``
on ``/services`` exports every service fully nested, one JSON object per line.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from mapservice.interop import ApiAnswer
from mapservice.interop.hsds import mapping
from mapservice.models import Offer, Provider, Site
from mapservice.taxonomy import phases
from mapservice.validation import ParameterError, parse_choice, parse_int

JSON = "application/json"
NDJSON = "application/x-ndjson"
PER_PAGE_DEFAULT = 50
PER_PAGE_MAXIMUM = 500
PAGE_MAXIMUM = 100_000
HSDS_VERSION = "3.0"
PROFILE = "https://openreferral.org/specification/3.0/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
PAGING = ("page", "per_page")
SERVICE_PARAMETERS = (
    *PAGING,
    "search",
    "modified_after",
    "taxonomy_term_id",
    "organization_id",
    "format",
)


def check_known(args: Iterable[str], known: Iterable[str]) -> None:
    allowed = set(known)
    for name in args:
        if name not in allowed:
            raise ParameterError(name, f"not supported here; known: {', '.join(sorted(allowed))}")


def parse_uuid(args: Mapping[str, str], name: str) -> str | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ParameterError(name, "must be a UUID") from None


def parse_moment(args: Mapping[str, str], name: str) -> dt.datetime | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(name, "must be an RFC 3339 date-time or date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_search(args: Mapping[str, str]) -> str | None:
    raw = (args.get("search") or "").strip()
    if len(raw) > 200:
        raise ParameterError("search", "at most 200 characters")
    if "\x00" in raw:
        raise ParameterError("search", "must not contain NUL characters")
    return raw or None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_of(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(items),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not items,
        "contents": items,
    }


def _paging(args: Mapping[str, str]) -> tuple[int, int]:
    page = parse_int(args, "page", low=1, high=PAGE_MAXIMUM) or 1
    per_page = parse_int(args, "per_page", low=1, high=PER_PAGE_MAXIMUM) or PER_PAGE_DEFAULT
    return page, per_page


def _ok(content: Any, media_type: str = JSON) -> ApiAnswer:
    return ApiAnswer(200, content, {"Content-Type": media_type})


def not_found(what: str) -> ApiAnswer:
    return ApiAnswer(404, {"error": "not found", "message": what}, {"Content-Type": JSON})


def _in_memory_page(items: list[dict[str, Any]], args: Mapping[str, str]) -> dict[str, Any]:
    page, per_page = _paging(args)
    start = (page - 1) * per_page
    return page_of(items[start : start + per_page], len(items), page, per_page)


class HsdsApi:
    """HSDS resources for one request's database session."""

    def __init__(
        self, session: Session, region: mapping.Region, offer_url: Callable[[int], str]
    ) -> None:
        self.session = session
        self.region = region
        self.offer_url = offer_url

    def root(self, args: Mapping[str, str]) -> ApiAnswer:
        check_known(args, ())
        return _ok({"version": HSDS_VERSION, "profile": PROFILE, "openapi_url": OPENAPI_URL})

    # --- services ------------------------------------------------------------------------

    def _conditions(self, args: Mapping[str, str]) -> list[Any]:
        conditions: list[Any] = []
        if search := parse_search(args):
            pattern = _like(search)
            conditions.append(or_(Offer.title.ilike(pattern), Offer.description.ilike(pattern)))
        if (after := parse_moment(args, "modified_after")) is not None:
            conditions.append(
                or_(Offer.updated_at >= after, Offer.site.has(Site.updated_at >= after))
            )
        if (term_id := parse_uuid(args, "taxonomy_term_id")) is not None:
            conditions.append(self._term_condition(term_id))
        if (org_id := parse_uuid(args, "organization_id")) is not None:
            providers = self.session.scalars(select(Provider))
            ids = [p.id for p in providers if mapping.organization_id(p) == org_id]
            conditions.append(Offer.provider_id.in_(ids) if ids else false())
        return conditions

    def _term_condition(self, term_id: str) -> Any:
        term = mapping.terms_by_id().get(term_id)
        if term is None:
            return false()
        code = term["code"]
        if term["taxonomy"] == mapping.ATTRIBUTES:
            return Offer.is_example.is_(True) if code == "is_example" else Offer.id.is_not(None)
        if code.startswith("phase:"):
            phase = phases()[code.removeprefix("phase:")]
            return (Offer.age_min_months < phase.max_months) & (
                Offer.age_max_months > phase.min_months
            )
        return Offer.category == code

    def _offers(self, conditions: list[Any]) -> Any:
        return (
            select(Offer)
            .where(*conditions)
            .options(
                joinedload(Offer.site), joinedload(Offer.provider), selectinload(Offer.schedule)
            )
            .order_by(Offer.id)
        )

    def services(self, args: Mapping[str, str]) -> ApiAnswer:
        check_known(args, SERVICE_PARAMETERS)
        fmt = parse_choice(args, "format", ("json", "ndjson"), "json")
        conditions = self._conditions(args)
        if fmt == "ndjson":
            if any(name in args for name in PAGING):
                raise ParameterError("format", "ndjson exports all services; leave out page")
            found = self.session.scalars(self._offers(conditions)).unique()
            rows = [mapping.service(o, self.offer_url(o.id), self.region) for o in found]
            return _ok(rows, NDJSON)
        page, per_page = _paging(args)
        total = self.session.scalar(select(func.count(Offer.id)).where(*conditions)) or 0
        found = self.session.scalars(
            self._offers(conditions).offset((page - 1) * per_page).limit(per_page)
        ).unique()
        contents = [mapping.service_summary(o, self.offer_url(o.id)) for o in found]
        return _ok(page_of(contents, total, page, per_page))

    def _offer_by_uuid(self, wanted: str) -> Offer | None:
        keys = self.session.execute(select(Offer.id, Offer.source_dataset, Offer.source_id))
        for offer_id, dataset, source_id in keys:
            if mapping.make_id("service", dataset, source_id) == wanted:
                return self.session.get(Offer, offer_id)
        return None

    def service(self, args: Mapping[str, str], service_id: str) -> ApiAnswer:
        check_known(args, ())
        offer = self._offer_by_uuid(service_id.lower())
        if offer is None:
            return not_found(f"no service {service_id[:40]!r}")
        return _ok(mapping.service(offer, self.offer_url(offer.id), self.region))

    # --- organizations -------------------------------------------------------------------

    def _providers(self, args: Mapping[str, str]) -> list[Provider]:
        query = select(Provider).order_by(Provider.name, Provider.id)
        if search := parse_search(args):
            query = query.where(Provider.name.ilike(_like(search)))
        return list(self.session.scalars(query))

    def organizations(self, args: Mapping[str, str]) -> ApiAnswer:
        check_known(args, (*PAGING, "search"))
        items = [mapping.organization(p) for p in self._providers(args)]
        return _ok(_in_memory_page(items, args))

    def organization(self, args: Mapping[str, str], organization_id: str) -> ApiAnswer:
        check_known(args, ())
        for provider in self._providers({}):
            if mapping.organization_id(provider) == organization_id.lower():
                body = mapping.organization(provider)
                offers = self.session.scalars(
                    self._offers([Offer.provider_id == provider.id])
                ).unique()
                body["services"] = [
                    mapping.service_summary(o, self.offer_url(o.id)) for o in offers
                ]
                for item in body["services"]:
                    item.pop("organization", None)
                return _ok(body)
        return not_found(f"no organization {organization_id[:40]!r}")

    # --- taxonomies ----------------------------------------------------------------------

    def taxonomies(self, args: Mapping[str, str]) -> ApiAnswer:
        check_known(args, (*PAGING, "search"))
        search = (parse_search(args) or "").lower()
        items = [t for t in mapping.taxonomies() if search in t["name"].lower()]
        return _ok(_in_memory_page(items, args))

    def taxonomy(self, args: Mapping[str, str], taxonomy_id: str) -> ApiAnswer:
        check_known(args, ())
        for item in mapping.taxonomies():
            if item["id"] == taxonomy_id.lower():
                return _ok(item)
        return not_found(f"no taxonomy {taxonomy_id[:40]!r}")

    def taxonomy_terms(self, args: Mapping[str, str]) -> ApiAnswer:
        check_known(args, (*PAGING, "search", "taxonomy_id"))
        search = (parse_search(args) or "").lower()
        taxonomy_id = parse_uuid(args, "taxonomy_id")
        items = [
            term
            for term in mapping.taxonomy_terms()
            if (taxonomy_id is None or term["taxonomy_id"] == taxonomy_id)
            and (search in term["name"].lower() or search in term["code"].lower())
        ]
        return _ok(_in_memory_page(items, args))

    def taxonomy_term(self, args: Mapping[str, str], term_id: str) -> ApiAnswer:
        check_known(args, ())
        term = mapping.terms_by_id().get(term_id.lower())
        return _ok(term) if term is not None else not_found(f"no taxonomy term {term_id[:40]!r}")
