"""The traffic mix: what a family's phone asks while using the map."""

from __future__ import annotations

import json
import random
import urllib.request

# Places in the quarter a family would pick (Nordstadt, on streets).
PLACES = [
    (51.5226, 7.4722),
    (51.5246, 7.4740),
    (51.5268, 7.4712),
    (51.5210, 7.4700),
    (51.5255, 7.4760),
]


def traffic(base: str) -> list[str]:
    """One entry per request share: the family page with a place, ``/results`` filter
    changes, ``/api/reachable``, ``/api/isochrone``, ``/api/offers``, offer pages, static
    files (wrk draws from the list at random)."""
    with urllib.request.urlopen(f"{base}/api/offers?limit=60", timeout=30) as answer:
        offer_ids = [feature["id"] for feature in json.load(answer)["features"]]
    rng = random.Random(12)
    paths: list[str] = []
    for lat, lon in PLACES:
        place = f"lat={lat}&lon={lon}"
        for minutes in (5, 10, 15):
            paths += [f"/?age_months=18&{place}&minutes={minutes}"] * 2
            for age in (0, 2, 4):
                paths.append(f"/results?age_years={age}&{place}&minutes={minutes}")
            paths.append(f"/results?age_years=3&{place}&minutes={minutes}&category=day_care")
            paths.append(f"/api/reachable?{place}&minutes={minutes}&age_months=30")
        paths.append(f"/api/isochrone?{place}&minutes=5,10,15")
    paths += ["/api/offers?age_months=30"] * 4 + ["/api/offers"] * 2
    paths += [f"/offer/{rng.choice(offer_ids)}" for _ in range(12)]
    paths += ["/static/css/map.css", "/static/js/family.js", "/static/vendor/leaflet/leaflet.js"]
    paths += ["/static/vendor/leaflet/leaflet.css"] * 2
    return paths
