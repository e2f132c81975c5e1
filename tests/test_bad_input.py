"""Input is checked before it reaches the database or a library: ids beyond PostgreSQL's
integer are 404, over-long parameters are 400 naming the parameter, before anything runs."""

from __future__ import annotations

import pytest
from accounts import log_in
from flask import Flask
from flask.testing import FlaskClient

from mapservice.web.converters import PG_INTEGER_MAX
from mapservice.web.parameters import DEFAULT_LIMIT, PARAMETER_LIMITS

HUGE = "99999999999999999999"


def int_routes(app: Flask) -> list[str]:
    """Every rule with an ``<int:…>`` part, as a URL template."""
    found = []
    for rule in app.url_map.iter_rules():
        if any(type(c).__name__ == "DatabaseIdConverter" for c in rule._converters.values()):
            found.append(rule.rule)
    return found


def test_every_int_route_is_bounded_to_the_integer_range(app: Flask) -> None:
    routes = int_routes(app)
    assert "/offer/<int:offer_id>" in routes and "/api/offers/<int:offer_id>" in routes
    assert len(routes) >= 10  # public, API, admin and planners routes alike


@pytest.mark.parametrize("number", [HUGE, str(PG_INTEGER_MAX + 1), "9" * 5000, "0" * 30 + "7"])
def test_ids_beyond_the_integer_range_are_404(
    app: Flask, client: FlaskClient, accounts: dict, number: str
) -> None:
    log_in(client, "admin@example.org")
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = rule.rule
        while "<int:" in url:
            start = url.index("<int:")
            url = url[:start] + number + url[url.index(">", start) + 1 :]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = client.open(url, method=method)
            # 405 only where another method's rule has the same pattern (see converters.py)
            assert answer.status_code == (404 if method == "GET" else answer.status_code)
            assert answer.status_code in (404, 405), (method, url, answer.status_code)


def test_offer_routes_say_not_found_in_their_format(client: FlaskClient) -> None:
    assert client.get(f"/offer/{HUGE}").status_code == 404
    api = client.get(f"/api/offers/{HUGE}")
    assert api.status_code == 404 and api.get_json()["error"] == "not found"
    assert client.get(f"/offer/{PG_INTEGER_MAX}").status_code == 404  # in range, unknown


def test_over_long_parameters_are_400_naming_the_parameter(client: FlaskClient) -> None:
    long_value = "x" * 5000
    api = client.get("/api/offers", query_string={"category": long_value})
    assert api.status_code == 400
    assert api.get_json() == {
        "error": "invalid parameter",
        "parameter": "category",
        "message": f"must be at most {PARAMETER_LIMITS['category']} characters",
    }
    reach = client.get("/api/reachable", query_string={"lat": "5" * 40, "lon": "7.47"})
    assert reach.status_code == 400 and reach.get_json()["parameter"] == "lat"
    unknown = client.get("/api/offers", query_string={"whatever": "y" * (DEFAULT_LIMIT + 1)})
    assert unknown.status_code == 400 and unknown.get_json()["parameter"] == "whatever"


def test_print_with_a_5000_character_parameter_is_400_before_the_qr_code(
    client: FlaskClient,
) -> None:
    for name in ("where", "category", "bbox", "lang", "anything"):
        answer = client.get("/print", query_string={name: "ü" * 5000})
        assert answer.status_code == 400, name
        assert answer.mimetype == "text/html"
        assert f"„{name}“" in answer.text or f"“{name}”" in answer.text


def test_print_with_a_link_too_long_for_a_qr_code_prints_without_one(
    client: FlaskClient,
) -> None:
    # Every parameter within its limit, all together too long for any QR code.
    values = {name: "ü" * limit for name, limit in PARAMETER_LIMITS.items() if limit >= 100}
    answer = client.get("/print", query_string=values)
    assert answer.status_code == 400  # the values themselves are not understood
    assert "<svg" not in answer.text and "print-list" in answer.text


def test_the_length_check_runs_before_the_login_and_csrf_checks(client: FlaskClient) -> None:
    answer = client.post("/auth/login", data={"email": "a" * 2000, "password": "x"})
    assert answer.status_code == 400
    assert "email" in answer.text
    staff = client.get("/planners/", query_string={"area": "a" * 500})
    assert staff.status_code == 400  # not the login redirect: nothing else ran


def test_pages_name_the_parameter_in_the_visitors_language(client: FlaskClient) -> None:
    answer = client.get("/", query_string={"where": "w" * 300}, headers={"Accept-Language": "en"})
    assert answer.status_code == 400
    assert "The entry “where” is too long (at most 200 characters)." in answer.text


def test_an_over_long_parameter_name_is_refused_without_echoing_it(client: FlaskClient) -> None:
    name = "<script>" + "n" * 500
    answer = client.get("/api/offers", query_string={name: "1"})
    assert answer.status_code == 400
    assert answer.is_json and answer.get_json()["parameter"] == name[:20] + "…"
