"""Offers as HSDS 3.0 (Open Referral) objects. Free of Flask.

* Ids are UUIDs derived (uuid5) from our own keys: an offer's or site's source dataset and
  record id, a provider's unique name, a taxonomy key. They survive re-imports and reloads.
* Only what the data holds: a cost option only where ``cost_free`` is known, an application
  process only where ``registration_required`` is known (None means "not known"), an address
  only where street, postcode and city are all known, accessibility only where the wheelchair
  access is known.
* Ages: ``minimum_age`` in years (a fraction below whole years: 4 months = 0.33);
  ``maximum_age`` the oldest eligible age in completed years (our upper bound in months is
  exclusive: below 72 months = at most 5 years old). The exact months are ``attribute``
  entries of the taxonomy ``mapservice-attributes``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from geoalchemy2.shape import to_shape

from mapservice.models import Offer, Provider, ScheduleSlot, Site
from mapservice.taxonomy import categories, phases

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mapservice:hsds")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
STATUS = {"active": "active", "paused": "temporarily closed", "ended": "inactive"}
PROVIDER_KINDS_DE = {
    "welfare": "Wohlfahrtsverband",
    "church": "Kirchengemeinde",
    "housing": "Wohnungsunternehmen",
    "authority": "Behörde",
    "club": "Verein",
    "school": "Schule",
    "city": "Stadt",
    "private": "privater Träger",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+|0)[\d /()-]{6,}\d")


def make_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def service_id(offer: Offer) -> str:
    return make_id("service", offer.source_dataset, offer.source_id)


def location_id(site: Site) -> str:
    return make_id("location", site.source_dataset, site.source_id)


def organization_id(provider: Provider) -> str:
    return make_id("organization", provider.name)


@dataclass(frozen=True)
class Region:
    """Where the network works: completes addresses (HSDS requires state and country)."""

    state_province: str
    country: str


# --- taxonomies ----------------------------------------------------------------------------

LIFE_PHASES = "infamilie-life-phases"
ATTRIBUTES = "mapservice-attributes"


def taxonomies() -> list[dict[str, Any]]:
    return [
        {
            "id": make_id("taxonomy", LIFE_PHASES),
            "name": "Lebensphasen und Angebotsarten (Netzwerk INFamilie)",
            "description": (
                "The life-phase model of Netzwerk INFamilie, Dortmund-Nordstadt: life phases "
                "of the child (codes phase:…) and the kinds of offer along them."
            ),
            "version": "1",
        },
        {
            "id": make_id("taxonomy", ATTRIBUTES),
            "name": "mapservice attributes",
            "description": "Facts about a service that HSDS has no field for.",
            "version": "1",
        },
    ]


def _term(taxonomy: str, code: str, name: str, description: str) -> dict[str, Any]:
    return {
        "id": make_id("taxonomy_term", taxonomy, code),
        "code": code,
        "name": name,
        "description": description,
        "taxonomy": taxonomy,
        "taxonomy_id": make_id("taxonomy", taxonomy),
        "language": "de",
    }


def taxonomy_terms() -> list[dict[str, Any]]:
    terms = [
        _term(
            LIFE_PHASES,
            f"phase:{key}",
            phase.label_de,
            f"{phase.label_en}: children from {phase.min_months} to under "
            f"{phase.max_months} months",
        )
        for key, phase in phases().items()
    ]
    terms += [
        _term(
            LIFE_PHASES,
            key,
            category.label_de,
            f"{category.label_en}; usually for children from {category.min_months} to under "
            f"{category.max_months} months",
        )
        for key, category in categories().items()
    ]
    terms += [
        _term(ATTRIBUTES, "age_min_months", "Mindestalter in Monaten", "Youngest age, inclusive"),
        _term(ATTRIBUTES, "age_max_months", "Höchstalter in Monaten", "Upper bound, exclusive"),
        _term(
            ATTRIBUTES,
            "is_example",
            "Beispieleintrag",
            "true: details of this entry are examples, not yet confirmed by the provider",
        ),
    ]
    return terms


def terms_by_id() -> dict[str, dict[str, Any]]:
    return {term["id"]: term for term in taxonomy_terms()}


def _attribute(service: str, taxonomy: str, code: str, value: str) -> dict[str, Any]:
    term = next(t for t in taxonomy_terms() if t["taxonomy"] == taxonomy and t["code"] == code)
    return {
        "id": make_id("attribute", service, taxonomy, code),
        "link_id": service,
        "link_type": "service",
        "link_entity": "service",
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
        "value": value,
    }


def phase_keys(offer: Offer) -> list[str]:
    """The life phases an offer's age range reaches into."""
    return [
        key
        for key, phase in phases().items()
        if offer.age_min_months < phase.max_months and phase.min_months < offer.age_max_months
    ]


# --- objects -------------------------------------------------------------------------------


def organization(provider: Provider) -> dict[str, Any]:
    kind = PROVIDER_KINDS_DE.get(provider.kind, provider.kind)
    body: dict[str, Any] = {
        "id": organization_id(provider),
        "name": provider.name,
        "description": f"Träger von Angeboten für Familien (Art: {kind}).",
    }
    if provider.website:
        body["website"] = provider.website
    if provider.contact and (email := EMAIL.search(provider.contact)):
        body["email"] = email.group(0)
    return body


def _language(service: str, code: str) -> dict[str, Any]:
    try:
        name = Locale.parse(code).get_display_name("en")
    except (ValueError, UnknownLocaleError):
        name = None
    body: dict[str, Any] = {
        "id": make_id("language", service, code),
        "service_id": service,
        "code": code,
    }
    if name:
        body["name"] = name
    return body


def _schedule(service: str, slot: ScheduleSlot) -> dict[str, Any]:
    opens, closes = slot.start_time.strftime("%H:%M"), slot.end_time.strftime("%H:%M")
    body: dict[str, Any] = {
        "id": make_id("schedule", service, str(slot.weekday), opens, closes, str(slot.valid_from)),
        "service_id": service,
        "freq": "WEEKLY",
        "wkst": "MO",
        "byday": DAYS[slot.weekday],
        "opens_at": opens,
        "closes_at": closes,
        "description": f"{DAYS[slot.weekday]} {opens}–{closes}",
    }
    if slot.valid_from:
        body["valid_from"] = slot.valid_from.isoformat()
        body["dtstart"] = slot.valid_from.isoformat()
    if slot.valid_to:
        body["valid_to"] = slot.valid_to.isoformat()
        body["until"] = slot.valid_to.isoformat()
    return body


def location(site: Site, region: Region) -> dict[str, Any]:
    point = to_shape(site.geom)
    body: dict[str, Any] = {
        "id": location_id(site),
        "location_type": "physical",
        "name": site.name,
        "latitude": round(point.y, 7),  # type: ignore[attr-defined]
        "longitude": round(point.x, 7),  # type: ignore[attr-defined]
        "external_identifier": site.source_id,
        "external_identifier_type": site.source_dataset,
    }
    if site.street and site.postcode and site.city:
        body["addresses"] = [
            {
                "id": make_id("address", site.source_dataset, site.source_id),
                "location_id": body["id"],
                "address_1": " ".join(p for p in (site.street, site.house_number) if p),
                "city": site.city,
                "state_province": region.state_province,
                "postal_code": site.postcode,
                "country": region.country,
                "address_type": "physical",
            }
        ]
    if site.wheelchair != "unknown":
        body["accessibility"] = [
            {
                "id": make_id("accessibility", site.source_dataset, site.source_id),
                "location_id": body["id"],
                "description": f"wheelchair: {site.wheelchair}",
            }
        ]
    return body


def service_summary(offer: Offer, offer_url: str) -> dict[str, Any]:
    """The one-to-one fields of a service (``/services`` pages, compiled/service_list)."""
    sid = service_id(offer)
    body: dict[str, Any] = {
        "id": sid,
        "name": offer.title,
        "status": STATUS[offer.status],
        "url": offer_url,
        "minimum_age": round(offer.age_min_months / 12, 2),
        "maximum_age": (offer.age_max_months - 1) // 12,
        "eligibility_description": (
            f"Für Kinder von {offer.age_min_months} bis unter {offer.age_max_months} Monaten"
        ),
        "last_modified": _last_modified(offer),
    }
    if offer.description:
        body["description"] = offer.description
    if offer.provider is not None:
        body["organization_id"] = organization_id(offer.provider)
        body["organization"] = organization(offer.provider)
    if offer.cost_text:
        body["fees_description"] = offer.cost_text
    if offer.registration_required is True:
        body["application_process"] = "Anmeldung erforderlich"
    elif offer.registration_required is False:
        body["application_process"] = "Ohne Anmeldung"
    if offer.contact and (email := EMAIL.search(offer.contact)):
        body["email"] = email.group(0)
    if offer.last_verified:
        body["assured_date"] = offer.last_verified.isoformat()
    return body


def _last_modified(offer: Offer) -> str:
    moments = [offer.updated_at] + ([offer.site.updated_at] if offer.site else [])
    return max(m for m in moments if m is not None).isoformat()


def service(offer: Offer, offer_url: str, region: Region) -> dict[str, Any]:
    """A fully nested service (``/services/{id}``, compiled/service)."""
    body = service_summary(offer, offer_url)
    sid = body["id"]
    body["languages"] = [_language(sid, code) for code in offer.languages or []]
    body["schedules"] = [_schedule(sid, slot) for slot in offer.schedule]
    if offer.cost_free is True:
        body["cost_options"] = [
            {
                "id": make_id("cost_option", sid),
                "service_id": sid,
                "option": "kostenlos",
                "amount": 0,
                "currency": "EUR",
            }
        ]
    elif offer.cost_free is False:
        option: dict[str, Any] = {"id": make_id("cost_option", sid), "service_id": sid}
        option["option"] = offer.cost_text or "kostenpflichtig"
        body["cost_options"] = [option]
    else:
        body["cost_options"] = []
    phones = PHONE.findall(offer.contact or "")
    body["phones"] = [
        {"id": make_id("phone", sid, number), "service_id": sid, "number": number.strip()}
        for number in phones
    ]
    if offer.site is not None:
        place = location(offer.site, region)
        body["service_at_locations"] = [
            {
                "id": make_id("service_at_location", sid, place["id"]),
                "service_id": sid,
                "location_id": place["id"],
                "location": place,
            }
        ]
        body["service_areas"] = []
    else:
        body["service_at_locations"] = []
        # Without a site an offer has a service area (a database constraint says so).
        assert offer.service_area is not None
        area = to_shape(offer.service_area)
        body["service_areas"] = [
            {
                "id": make_id("service_area", sid),
                "service_id": sid,
                "name": "Hausbesuch im Einzugsgebiet",
                "description": "Das Angebot kommt zu den Familien nach Hause.",
                "extent": json.dumps(area.__geo_interface__),
                "extent_type": "geojson",
            }
        ]
    attributes = [_attribute(sid, LIFE_PHASES, offer.category, offer.category)]
    attributes += [_attribute(sid, LIFE_PHASES, f"phase:{k}", k) for k in phase_keys(offer)]
    attributes += [
        _attribute(sid, ATTRIBUTES, "age_min_months", str(offer.age_min_months)),
        _attribute(sid, ATTRIBUTES, "age_max_months", str(offer.age_max_months)),
    ]
    if offer.is_example:
        attributes.append(_attribute(sid, ATTRIBUTES, "is_example", "true"))
    body["attributes"] = attributes
    return body
