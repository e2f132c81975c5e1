"""Generated hostile values sent to every public GET endpoint and parameter: never a 5xx,
API errors are JSON naming the parameter, HTML echoes nothing unescaped.

The endpoints come from the app's URL map, so routes added later are covered by themselves;
their parameters from :data:`mapservice.web.parameters.PUBLIC_PARAMETERS` (an endpoint not
listed there gets every known parameter name). Routes behind a login must refuse anonymous
requests instead (checked here too). Few examples per endpoint keep the run short (< 60 s).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from mapservice import create_app
from mapservice.web.parameters import PARAMETER_LIMITS, PUBLIC_PARAMETERS

ALL_NAMES = sorted({*PARAMETER_LIMITS, *(n for names in PUBLIC_PARAMETERS.values() for n in names)})

FRAGMENTS = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "-0",
    "0x1F",
    "1_000",
    "٣٠",  # Arabic-Indic digits
    "１２",  # full-width digits
    "\u202e51.5226",  # right-to-left override
    "\u200f7.47\u200e",  # right-to-left / left-to-right marks
    "\x00",
    "\x1b[31m",
    "\r\nSet-Cookie: x=1",
    "' OR 1=1 --",
    "1; DROP TABLE offer; --",
    "%' UNION SELECT email FROM app_user --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(1)</script>",
    "javascript:alert(1)",
    "{{7*7}}",
    "../../../../etc/passwd",
    "%00",
    "tr,ar,<b>x</b>",
    "7.1,51.3,7.2,51.4,9",
    "180,-90,-180,90",
    "2024-13",
    "9999-99",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
HOSTILE = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda x: repr(x) if math.isfinite(x) else str(x)
    ),
    TEXT,
    st.builds(lambda a, b: a + b, st.sampled_from(FRAGMENTS), TEXT),
    st.integers(min_value=100, max_value=6000).map(lambda n: ("ü<" * n)[:n]),  # over-long
)
PATH_VALUE = st.one_of(
    st.sampled_from(["99999999999999999999", "2147483648", "-1", "0", "1", "nan", "%00"]),
    st.integers(min_value=0, max_value=10**30).map(str),
    st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="/?#"), min_size=1, max_size=30
    ),
)


def _collection_app() -> Flask:
    """An app only for its URL map (no database is touched)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "collection",
            "DATABASE_URL": "postgresql+psycopg:///unused",
        }
    )


GET_RULES = sorted(
    (rule for rule in _collection_app().url_map.iter_rules() if "GET" in (rule.methods or ())),
    key=lambda rule: rule.rule,
)


def _url(rule: Rule, values: dict[str, str]) -> str:
    url = rule.rule
    for name in rule.arguments:
        start = url.index("<")
        url = url[:start] + values[name] + url[url.index(">", start) + 1 :]
    return url


def _plain_values(rule: Rule) -> dict[str, str]:
    return dict.fromkeys(rule.arguments, "1" if "int:" in rule.rule else "x")


def _needs_login(client: FlaskClient, rule: Rule) -> bool:
    answer = client.get(_url(rule, _plain_values(rule)))
    location = answer.headers.get("Location", "")
    return answer.status_code == 401 or (answer.status_code == 302 and "/auth/login" in location)


@pytest.fixture
def quiet_app(app: Flask) -> Flask:
    app.config["RATE_LIMIT_ISOCHRONE"] = ""  # many requests from one test client
    return app


@pytest.mark.parametrize("rule", GET_RULES, ids=[rule.endpoint for rule in GET_RULES])
def test_hostile_values_on_every_public_endpoint(
    quiet_app: Flask, client: FlaskClient, rule: Rule
) -> None:
    if _needs_login(client, rule):
        # Staff routes: a hostile anonymous request is refused before anything runs.
        answer = client.get(_url(rule, _plain_values(rule)), query_string={"area": "'; --"})
        assert answer.status_code in (302, 401)
        return
    names = list(PUBLIC_PARAMETERS.get(rule.endpoint, ALL_NAMES)) or ALL_NAMES
    path_values = st.fixed_dictionaries(dict.fromkeys(rule.arguments, PATH_VALUE))
    query = st.dictionaries(st.sampled_from(names), HOSTILE, min_size=1, max_size=3)

    @settings(
        max_examples=6,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=path_values, args=query)
    def check(path: dict[str, str], args: dict[str, str]) -> None:
        url = _url(rule, {k: _quote(v) for k, v in path.items()})
        answer = client.get(url, query_string=args)
        assert answer.status_code < 500, (url, args, answer.status_code)
        _check_answer(rule, answer, args, names)
        answer.close()

    check()


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _check_answer(rule: Rule, answer: Any, args: dict[str, str], names: list[str]) -> None:
    known = {*args, *names}  # a missing required parameter is named too
    is_api = rule.rule.startswith("/api/")
    if is_api and answer.status_code >= 400:
        assert answer.is_json, (rule.rule, answer.status_code, answer.data[:200])
        body = answer.get_json()
        assert body["error"]
        if answer.status_code == 400:
            assert body["parameter"] in known, (body, args)
    if answer.mimetype == "text/html":
        _assert_escaped(answer.get_data(as_text=True), args)
    elif answer.is_json:
        body = answer.get_json()
        if isinstance(body, dict) and isinstance(body.get("html"), str):
            _assert_escaped(body["html"], args)  # /results: the list fragment
        if answer.status_code == 400 and isinstance(body, dict) and body.get("parameter"):
            assert body["parameter"] in known, (body, args)


def _assert_escaped(html: str, args: dict[str, str]) -> None:
    for value in args.values():
        for piece in ("<script", "<img", "<b>", '">'):
            if piece in value:
                assert value not in html, value
        assert "<script>alert(1)" not in html
