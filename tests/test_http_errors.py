"""Every HTTP error answers in our words: a short page in the visitor's language (with the
right ``lang``/``dir``), JSON under the APIs, OGC API's exception document under /ogcapi/."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

WERKZEUG_DEFAULTS = ("Werkzeug", "The requested URL was not found", "<title>404 Not Found")


def heading(text: str) -> str:
    found = re.search(r"<h2>(.*?)</h2>", text)
    assert found, text
    return found.group(1)


@pytest.mark.parametrize(
    ("language", "direction", "not_found", "not_allowed"),
    [
        ("ar", "rtl", "الصفحة غير موجودة", "غير ممكن بهذه الطريقة"),
        ("tr", "ltr", "Sayfa bulunamadı", "Bu şekilde mümkün değil"),
        ("de", "ltr", "Seite nicht gefunden", "So nicht möglich"),
    ],
)
def test_unknown_address_and_wrong_method_give_our_page_in_the_visitors_language(
    client: FlaskClient, language: str, direction: str, not_found: str, not_allowed: str
) -> None:
    headers = {"Accept-Language": language}
    unknown = client.get("/nowhere/at-all", headers=headers)
    assert unknown.status_code == 404 and unknown.mimetype == "text/html"
    assert f'<html lang="{language}" dir="{direction}">' in unknown.text
    assert heading(unknown.text) == not_found
    wrong = client.delete("/", headers=headers)
    assert wrong.status_code == 405 and wrong.mimetype == "text/html"
    assert "GET" in wrong.headers["Allow"]
    assert f'<html lang="{language}" dir="{direction}">' in wrong.text
    assert heading(wrong.text) == not_allowed
    for answer in (unknown, wrong):
        assert not any(default in answer.text for default in WERKZEUG_DEFAULTS)
        assert answer.headers["Content-Security-Policy"]  # our headers as on every page


def test_the_language_choice_of_the_url_holds_for_error_pages(client: FlaskClient) -> None:
    answer = client.get("/nowhere?lang=uk")
    assert answer.status_code == 404
    assert 'lang="uk"' in answer.text and "Сторінку не знайдено" in answer.text


def test_a_missing_offer_is_our_404_page(client: FlaskClient) -> None:
    answer = client.get("/offer/2147483647", headers={"Accept-Language": "ar"})
    assert answer.status_code == 404
    assert 'dir="rtl"' in answer.text and heading(answer.text) == "الصفحة غير موجودة"


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/no-such-thing", 404),
        ("DELETE", "/api/offers", 405),
        ("GET", "/planners/api/no-such-thing", 404),
        ("GET", "/hsds/no-such-thing", 404),
    ],
)
def test_api_errors_are_json(client: FlaskClient, method: str, url: str, status: int) -> None:
    answer = client.open(url, method=method, headers={"Accept-Language": "ar"})
    assert answer.status_code == status
    body = answer.get_json()
    assert body["status"] == status and body["error"] and body["message"]
    if status == 405:
        assert "GET" in answer.headers["Allow"]


def test_ogc_api_errors_follow_the_ogc_exception_schema(client: FlaskClient) -> None:
    answer = client.get("/ogcapi/no-such-thing")
    assert answer.status_code == 404 and answer.mimetype == "application/json"
    assert answer.get_json()["code"] == "NotFound" and answer.get_json()["description"]
    wrong = client.post("/ogcapi/collections")
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "MethodNotAllowed"
    assert "GET" in wrong.headers["Allow"]
    # A browser (or f=html) gets the page.
    page = client.get("/ogcapi/no-such-thing?f=html", headers={"Accept-Language": "tr"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert heading(page.text) == "Sayfa bulunamadı"


def test_a_body_too_large_for_a_page_is_our_413_page(app, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    too_much = {"visit-1-address": "x" * 900, "note": "y" * 900}
    # In the language the browser asks for, where the page would have been a family's…
    answer = client.post("/", data=too_much, headers={"Accept-Language": "pl"})
    assert answer.status_code == 413 and answer.mimetype == "text/html"
    assert 'lang="pl"' in answer.text and heading(answer.text) == "Za dużo danych"
    # …and in German on the staff's pages, which are German throughout.
    answer = client.post("/outreach/", data=too_much, headers={"Accept-Language": "pl"})
    assert answer.status_code == 413 and answer.mimetype == "text/html"
    assert 'lang="de"' in answer.text and heading(answer.text) == "Zu viele Daten"


def test_a_rate_limit_page_keeps_retry_after(app, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_ISOCHRONE"] = "1 per minute"
    place = {"lat": "51.5226", "lon": "7.4722", "minutes": "5"}
    client.get("/api/isochrone", query_string=place)
    refused = client.get("/api/isochrone", query_string=place)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["status"] == 429
