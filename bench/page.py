"""Family map page: weight and speed, printed as figures.

Run from the project root (the private cluster, or MAPSERVICE_DATABASE_URL):

    .venv/bin/python bench/page.py [--requests 40] [--no-browser] [--no-city] [--keep]
                                   [--hot-only]

1. Page weight: the main page's HTML and every script and style it loads (no tiles), as
   sent without and with compression (what a browser on plain HTTP accepts: gzip, deflate).
2. Server time of the hot pages (the family page with a place, without one and its next
   page, ``/api/offers``, ``/api/sites``) from the data-version caches, and without them as
   the peer: CPU and wall p50, ok/MISSED against the budgets of issue 12 (CPU time), on the
   quarter and with the whole city loaded (``--no-city`` skips that; ``--keep`` reuses the
   loaded databases from an earlier run).
3. Server time to answer a filter change (``/results``, what the page fetches) on the
   quarter, p50/p95 over N requests for several filter combinations.
4. In a headless Chromium on a phone-sized screen, if available: time from a filter change
   to the updated list (``window.familyLastUpdateMs`` set by ``static/js/family.js``).
4. In the same browser: the base map's bytes for the first view (the quarter without a
   place; a place in the quarter; a place in Witten): every range read from the PMTiles
   archive until the map is drawn, in a fresh browser context (empty cache).

Uses its own databases ``mapservice_bench_page`` (bundled data) and
``mapservice_bench_page_city`` (the whole city) in the private cluster, recreated and loaded
unless ``--keep`` (or MAPSERVICE_DATABASE_URL as it is, for both).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import threading
import time
from typing import Any

from flask import Flask
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from mapservice import create_app
from mapservice.config import Defaults
from mapservice.db import make_engine, migrate
from mapservice.importers.default_data import load_default_data_if_empty
from mapservice.pgcluster import local_cluster

# The quarter: the anchor in Missundestraße (a place a family would enter).
HOME = {"lat": "51.524600", "lon": "7.474000", "where": "Missundestraße"}
COMBOS: dict[str, dict[str, str]] = {
    "no place, all offers": {},
    "age 1 year": {"age_years": "1"},
    "place, 15 min": HOME | {"minutes": "15"},
    "place, age 3, 10 min, free": HOME | {"age_years": "3", "minutes": "10", "free": "1"},
    "place, pram, 20 min, Wed morning": HOME
    | {"profile": "pram", "minutes": "20", "day": "wed", "time": "morning"},
    "place, day care, language tr": HOME | {"category": "day_care", "language": "tr"},
}
ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"]+)"')


def database_url(name: str, keep: bool) -> str:
    url = os.environ.get("MAPSERVICE_DATABASE_URL")
    if url:
        return url
    cluster = local_cluster()
    cluster.start()
    return cluster.ensure_database(name, recreate=not keep)


def prepared_app(*, all_city: bool = False, keep: bool = False) -> Flask:
    """An app on its own database with the bundled data (``all_city``: the whole city's
    offers and walking network, ~3 minutes to load); ``keep``: reuse a loaded database."""
    name = "mapservice_bench_page_city" if all_city else "mapservice_bench_page"
    url = database_url(name, keep)
    engine = make_engine(url)
    migrate(engine)
    data_dir = os.environ.get("MAPSERVICE_DATA_DIR", Defaults.DATA_DIR)
    with Session(engine) as session, session.begin():
        load_default_data_if_empty(session, data_dir, all_city=all_city)
    engine.dispose()
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "DATA_DIR": data_dir})


def page_weight(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    paths = ["/", *dict.fromkeys(ASSET.findall(html))]
    rows = []
    for path in paths:
        plain = client.get(path)
        raw = len(plain.get_data())
        plain.close()
        packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
        sent = len(packed.get_data())
        encoding = packed.headers.get("Content-Encoding", "-")
        packed.close()
        rows.append((path, raw, sent, encoding))
    print("Page weight (main page, no tiles):")
    for path, raw, sent, encoding in rows:
        print(f"  {path:<45} {raw / 1024:8.1f} KB  {sent / 1024:7.1f} KB ({encoding})")
    total_raw = sum(r[1] for r in rows)
    total_sent = sum(r[2] for r in rows)
    print(f"  {'total':<45} {total_raw / 1024:8.1f} KB  {total_sent / 1024:7.1f} KB transferred")
    print(f"  budget 400 KB transferred: {'OK' if total_sent <= 400 * 1024 else 'OVER'}")


def server_times(app: Flask, requests: int) -> None:
    client = app.test_client()
    print(f"\nServer time for a filter change (/results), {requests} requests each:")
    for name, args in COMBOS.items():
        client.get("/results", query_string=args)  # warm caches (graph, taxonomy)
        times = []
        count = 0
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get("/results", query_string=args)
            times.append((time.perf_counter() - start) * 1000)
            count = response.get_json()["count"]
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
        print(f"  {name:<36} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({count} offers)")


# The hot pages and their budgets (p50 server time, ms; issue 12), on the quarter (the bundled
# data) and with the whole city loaded (MAPSERVICE_ALL_CITY: ~900 offers).
HOT_PAGES: dict[str, tuple[str, float | None]] = {
    "family page with a place": ("/?age_months=18&lat=51.5226&lon=7.4722&minutes=10", 25.0),
    "family page, no place": ("/", 25.0),
    "family page, next page": ("/?start=25", 25.0),
    "/api/offers": ("/api/offers", 5.0),
    "/api/offers?age_months=30": ("/api/offers?age_months=30", 5.0),
    "/api/sites": ("/api/sites", 5.0),
}


def _clear_caches(app: Flask) -> None:
    from mapservice import offer_snapshot
    from mapservice.web import cached, family_list, family_map, family_view

    for cache in (
        cached.answers,
        family_map.outlines,
        family_map.maps,
        family_map.languages,
        family_map.facts,
        family_list.parts,
        family_view.display_areas,
    ):
        cache.clear()
    family_list.clear_walks()
    offer_snapshot.clear()
    app.extensions.pop("mapservice_labels", None)


def hot_pages(app: Flask, requests: int, where: str) -> list[tuple[str, float, float, bool]]:
    """Server time of the hot pages (browser's Accept-Encoding), from the data-version caches
    and, as the peer in the same run, with every cache emptied before each request. The
    verdict takes the CPU time: on a shared machine the wall time includes waiting for a
    core (both are printed)."""
    client = app.test_client()
    headers = {"Accept-Encoding": "gzip, deflate"}
    print(f"\nHot pages, {where}, {requests} requests each (p50: CPU time, wall time in brackets):")
    verdicts = []
    for name, (url, budget) in HOT_PAGES.items():
        figures = []
        for cached in (True, False):
            client.get(url, headers=headers)
            wall, cpu = [], []
            for _ in range(requests if cached else max(5, requests // 4)):
                if not cached:
                    _clear_caches(app)
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url, headers=headers)
                wall.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                assert response.status_code == 200, url
            figures.append((statistics.median(cpu), statistics.median(wall), len(response.data)))
        (hot_cpu, hot_wall, size), (cold_cpu, cold_wall, _) = figures
        verdict = ""
        if budget:
            met = hot_cpu <= budget
            verdicts.append((name, hot_cpu, budget, met))
            verdict = f"  budget {budget:g} ms: {'ok' if met else 'MISSED'}"
        print(
            f"  {name:<27} {hot_cpu:6.1f} ms ({hot_wall:6.1f})"
            f"  without caches {cold_cpu:6.1f} ms ({cold_wall:6.1f}) {cold_cpu / hot_cpu:5.1f}x"
            f"  {size / 1024:5.1f} KB sent{verdict}"
        )
    return verdicts


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def browser_times(app: Flask, rounds: int) -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        print("\nBrowser: chromium missing (apt-get install chromium), skipped")
        return
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=args)
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            page.goto(f"{base}/?lat={HOME['lat']}&lon={HOME['lon']}&where=Missundestra%C3%9Fe")
            times = []
            for i in range(rounds):
                age = str(i % 6)
                page.select_option("select[name=age_years]", age)
                page.wait_for_function(
                    f"Number(document.documentElement.dataset.updated) >= {i + 1}"
                )
                times.append(float(page.evaluate("window.familyLastUpdateMs")))
            browser.close()
    finally:
        server.shutdown()
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    print(
        f"\nBrowser, filter change to updated list (place set, phone screen), {rounds} changes:"
        f"\n  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
        f"  (budget 300 ms: {'OK' if p95 <= 300 else 'OVER'})"
    )


TILE_VIEWS: dict[str, str] = {
    "the quarter, no place": "/",
    "place in the quarter, 15 min": f"/?lat={HOME['lat']}&lon={HOME['lon']}&minutes=15",
    "place in Witten, 15 min": "/?lat=51.4700&lon=7.3670&minutes=15",
}
ARCHIVE_PATH = "/tiles/basemap.pmtiles"


def tile_weight(app: Flask) -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        print("\nBase map: chromium missing (apt-get install chromium), skipped")
        return
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=args)
            for name, path in TILE_VIEWS.items():
                context = browser.new_context(
                    viewport={"width": 390, "height": 844},
                    device_scale_factor=2,
                    is_mobile=True,
                    has_touch=True,
                )
                page = context.new_page()
                ranges: list[int] = []
                elsewhere: list[str] = []

                def seen(response: Any, ranges: list[int] = ranges) -> None:
                    if ARCHIVE_PATH in response.url:
                        ranges.append(int(response.headers.get("content-length") or 0))

                def asked(request: Any, elsewhere: list[str] = elsewhere) -> None:
                    if not request.url.startswith((base, "data:", "blob:", "about:")):
                        elsewhere.append(request.url)

                page.on("response", seen)
                page.on("request", asked)
                started = time.perf_counter()
                page.goto(base + path)
                if "lat=" in path:
                    page.wait_for_function("document.documentElement.dataset.reach !== undefined")
                page.wait_for_function(
                    "['drawn', 'failed'].includes(document.documentElement.dataset.basemap)",
                    timeout=60_000,
                )
                drawn_ms = (time.perf_counter() - started) * 1000
                state = page.evaluate("document.documentElement.dataset.basemap")
                zoom = page.evaluate("window.mapserviceMap.getZoom()")
                rows.append((name, zoom, len(ranges), sum(ranges), drawn_ms, state, elsewhere))
                context.close()
            browser.close()
    finally:
        server.shutdown()
    print("\nBase map, first view on a phone (390x844 CSS px), bytes read from the archive:")
    for name, zoom, count, total, drawn_ms, state, elsewhere in rows:
        verdict = "OK" if total <= 600 * 1024 and state == "drawn" else "OVER"
        print(
            f"  {name:<32} zoom {zoom:>2}  {count:2d} ranges  {total / 1024:7.1f} KB"
            f"  drawn after {drawn_ms:6.0f} ms ({state}; budget 600 KB: {verdict})"
            f"  other hosts: {len(elsewhere)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--no-city", action="store_true", help="skip the hot pages with the whole city loaded"
    )
    parser.add_argument(
        "--keep", action="store_true", help="reuse the benchmark databases if already loaded"
    )
    parser.add_argument(
        "--hot-only", action="store_true", help="only the hot pages (no weight, browser)"
    )
    options = parser.parse_args()
    app = prepared_app(keep=options.keep)
    if not options.hot_only:
        page_weight(app)
    verdicts = hot_pages(app, options.requests, "the quarter (bundled data)")
    if not options.no_city:
        city = prepared_app(all_city=True, keep=options.keep)
        verdicts += [
            (f"{name} (city)", cpu, budget, met)
            for name, cpu, budget, met in hot_pages(city, options.requests, "the whole city")
        ]
    missed = [name for name, _, _, met in verdicts if not met]
    print(f"\nBudgets (CPU p50): {len(verdicts) - len(missed)} ok, {len(missed)} MISSED")
    for name in missed:
        print(f"  MISSED: {name}")
    if options.hot_only:
        return 0
    server_times(app, options.requests)
    if not options.no_browser:
        browser_times(app, max(20, options.requests // 2))
        tile_weight(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
