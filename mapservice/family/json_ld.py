"""The offer page's structured data: schema.org for an offer (an ``Event`` with its weekly
schedule, or a ``Service``), with its place or the area it serves."""

from __future__ import annotations

from typing import Any

from mapservice.family.dates import next_dates
from mapservice.family.place import lat_lon
from mapservice.models import Offer, ScheduleSlot

SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def offer_json_ld(
    offer: Offer, *, title: str, description: str | None, url: str, language: str
) -> dict[str, Any]:
    """schema.org for an offer: an ``Event`` with its weekly schedule where it has one,
    else a ``Service``; with the place (address, coordinates) or the area it serves."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event" if offer.schedule else "Service",
        "name": title,
        "url": url,
        "inLanguage": language,
        "audience": {
            "@type": "PeopleAudience",
            "suggestedMinAge": round(offer.age_min_months / 12, 1),
            "suggestedMaxAge": round(offer.age_max_months / 12, 1),
        },
    }
    if offer.cost_free is not None:  # said only when known
        data["isAccessibleForFree"] = offer.cost_free
    if description:
        data["description"] = description
    if offer.languages:
        data["availableLanguage"] = list(offer.languages)
    if offer.provider is not None:
        key = "organizer" if offer.schedule else "provider"
        data[key] = {"@type": "Organization", "name": offer.provider.name}
    if offer.site is not None:
        site = offer.site
        lat, lon = lat_lon(site.geom)
        place: dict[str, Any] = {
            "@type": "Place",
            "name": site.name,
            "geo": {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon},
        }
        if site.street:
            place["address"] = {
                "@type": "PostalAddress",
                "streetAddress": " ".join(p for p in (site.street, site.house_number) if p),
                "postalCode": site.postcode,
                "addressLocality": site.city or "Dortmund",
                "addressCountry": "DE",
            }
        data["location" if offer.schedule else "areaServed"] = place
    else:
        data["areaServed"] = {"@type": "Place", "name": "Dortmund"}
    if offer.schedule:
        data["eventSchedule"] = [_schema_schedule(slot) for slot in offer.schedule]
        data["eventAttendanceMode"] = "https://schema.org/OfflineEventAttendanceMode"
        data["eventStatus"] = "https://schema.org/EventScheduled"
        first = next_dates(offer.schedule, count=1)
        if first:
            data["startDate"] = first[0][0].isoformat()
            data["endDate"] = first[0][1].isoformat()
    return data


def _schema_schedule(slot: ScheduleSlot) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "@type": "Schedule",
        "repeatFrequency": "P1W",
        "byDay": f"https://schema.org/{SCHEMA_DAYS[slot.weekday]}",
        "startTime": slot.start_time.strftime("%H:%M"),
        "endTime": slot.end_time.strftime("%H:%M"),
        "scheduleTimezone": "Europe/Berlin",
    }
    if slot.valid_from:
        schedule["startDate"] = slot.valid_from.isoformat()
    if slot.valid_to:
        schedule["endDate"] = slot.valid_to.isoformat()
    return schedule
