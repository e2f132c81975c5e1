"""The interface's languages: Flask-Babel with compiled gettext catalogues.

German is the source language (the msgids are the German texts) and the default. The
language is chosen by ``?lang=`` (and then remembered in a cookie holding only that choice),
else by a cookie from an earlier choice, else by the browser's Accept-Language, else German.

Offers carry translated titles and descriptions in ``Offer.translations``
(``{"en": {"title": …, "description": …}}``); :func:`offer_text` picks the page's language
and falls back to the German columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, get_day_names
from flask import Flask, Response, current_app, g, request, url_for
from flask_babel import Babel, get_locale, gettext

from mapservice.models import Offer
from mapservice.taxonomy import categories

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DEFAULT_LANGUAGE = "de"
# The interface's languages, in the order the switcher shows them.
LANGUAGES = ("de", "en", "tr", "ar", "bg", "ro", "pl", "uk")
RTL_LANGUAGES = frozenset({"ar"})
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def N_(message: str) -> str:
    """Mark a text for extraction into the catalogues without translating it here."""
    return message


# The taxonomy's German labels (data/taxonomy.toml), so that extraction finds them;
# tests/test_family_i18n.py checks the two stay in step.
CATEGORY_MSGIDS = (
    N_("Willkommensbesuch"),
    N_("Baby-Eltern-Treff"),
    N_("Kindertageseinrichtung (TEK)"),
    N_("Kinderstube"),
    N_("Elterncafé"),
    N_("Elternseminar"),
    N_("Sprachförderung"),
    N_("Individuelle Förderangebote"),
    N_("Grundschule (OGS)"),
    N_("Jugendfreizeitstätte"),
    N_("Spielplatz"),
    N_("Weitere Hilfen ab 6"),
)


@dataclass(frozen=True)
class LanguageChoice:
    code: str
    name: str  # in its own language, so a reader finds it whatever the page's language


def language_choices() -> list[LanguageChoice]:
    return [LanguageChoice(code, _endonym(code)) for code in LANGUAGES]


def _endonym(code: str) -> str:
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


# The staff's pages (login, planning, outreach, editing, administration) are written in
# German only: a family's language choice (its cookie) must not turn them right-to-left or
# translate their frame around German forms. The outreach sheets choose their own language.
STAFF_BLUEPRINTS = frozenset({"auth", "planners", "outreach", "editing", "admin"})


def select_language() -> str:
    """German on the staff's pages; elsewhere ``?lang=`` → remembered choice (cookie) →
    Accept-Language → German."""
    if request.blueprint in STAFF_BLUEPRINTS:
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        g.remember_language = asked
        return asked
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LANGUAGE


def text_direction(code: str | None = None) -> str:
    return "rtl" if (code or current_language()) in RTL_LANGUAGES else "ltr"


def language_name(code: str, in_language: str | None = None) -> str:
    """A language code's name in the page's language (``tr`` → "Türkisch" on a German page)."""
    try:
        names = Locale.parse(in_language or current_language()).languages
    except (ValueError, TypeError):
        return code
    return str(names.get(code, code))


def day_name(weekday: int, width: Literal["abbreviated", "wide"] = "wide") -> str:
    """The name of a weekday (0 = Monday) in the page's language."""
    return str(get_day_names(width, locale=current_language())[weekday])


def month_year(day: dt.date) -> str:
    """``November 2026`` in the page's language (the month as named on its own)."""
    return format_date(day, "LLLL y", locale=current_language())


def category_label(key: str) -> str:
    """A category's label in the page's language (the taxonomy holds the German msgid)."""
    category = categories().get(key)
    return gettext(category.label_de) if category else key


@dataclass(frozen=True)
class LocalText:
    """A text and the language it is really in (the fallback may be German)."""

    text: str
    lang: str


def offer_text(offer: Offer, field: str, language: str | None = None) -> LocalText | None:
    """``title`` or ``description`` of an offer in ``language``, else in German."""
    language = language or current_language()
    translated = (offer.translations or {}).get(language)
    if isinstance(translated, dict):
        value = translated.get(field)
        if isinstance(value, str) and value.strip():
            return LocalText(value, language)
    original = getattr(offer, field)
    return LocalText(original, DEFAULT_LANGUAGE) if original else None


def _remember_choice(response: Response) -> Response:
    chosen = g.get("remember_language")
    if chosen and request.cookies.get(COOKIE) != chosen:
        # Only the language choice: no identifier, not readable by scripts.
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _template_context() -> dict[str, Any]:
    code = current_language()
    return {
        "lang": code,
        "text_dir": text_direction(code),
        "language_links": _language_links(),
    }


def _language_links() -> list[tuple[LanguageChoice, str]]:
    """Each language with a link to this same page (same parameters) in it."""
    if request.endpoint is None or request.endpoint == "static":
        return []
    keep = _current_args() | dict(request.view_args or {})
    return [
        (choice, url_for(request.endpoint, **keep, lang=choice.code))
        for choice in language_choices()
    ]


def _current_args() -> dict[str, str]:
    """The request's parameters (repeated ones comma-joined), to keep them when switching."""
    return {
        key: ",".join(v for v in request.args.getlist(key) if v)
        for key in request.args
        if key != "lang" and any(request.args.getlist(key))
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Berlin")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    Babel(app, locale_selector=select_language)
    app.after_request(_remember_choice)
    app.context_processor(_template_context)
    app.add_template_global(category_label, "category_label")
    app.add_template_global(language_name, "language_name")
    app.add_template_global(offer_text, "offer_text")
    app.add_template_global(day_name, "day_name")
    app.add_template_global(month_year, "month_year")
