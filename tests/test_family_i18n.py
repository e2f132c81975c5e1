"""The interface in eight languages: choice, memory, right-to-left, catalogues, offer texts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from test_page import make_offers, make_places

from mapservice.i18n import LANGUAGES, TRANSLATIONS_DIR
from mapservice.taxonomy import categories

TRANSLATED = [code for code in LANGUAGES if code != "de"]


@pytest.fixture(name="places")
def places_fixture(db_session):
    return make_places(db_session)


@pytest.fixture(name="offers")
def offers_fixture(db_session, places):
    return make_offers(db_session, places)


def test_arabic_page_is_arabic_and_right_to_left(client, offers):
    html = client.get("/?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in html
    for text in ("عمر الطفل", "أين أنت؟", "عرض", "عروض للعائلات", "مجاني"):
        assert text in html, text
    assert "Alter des Kindes" not in html
    # Category headings and the language filter in Arabic too.
    assert "روضة / حضانة (Kita)" in html
    assert "التركية" in html  # Turkish, named in Arabic


def test_each_language_shows_its_own_words(client):
    for code, word in {
        "en": "Where are you?",
        "tr": "Neredesiniz?",
        "bg": "Къде сте?",
        "ro": "Unde sunteți?",
        "pl": "Gdzie jesteś?",
        "uk": "Де ви?",
        "de": "Wo sind Sie?",
    }.items():
        html = client.get(f"/?lang={code}").text
        assert f'<html lang="{code}" dir="ltr">' in html
        assert word in html, code


def test_choice_is_remembered_then_accept_language_then_german(app, offers):
    fresh = app.test_client()
    assert '<html lang="de"' in fresh.get("/").text
    assert '<html lang="tr"' in fresh.get("/", headers={"Accept-Language": "tr,en;q=0.5"}).text
    assert '<html lang="de"' in fresh.get("/", headers={"Accept-Language": "fr"}).text
    chooser = app.test_client()
    response = chooser.get("/?lang=uk")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=uk;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Later pages, also others, come in Ukrainian even though the browser asks for English.
    later = chooser.get("/print", headers={"Accept-Language": "en"}).text
    assert '<html lang="uk"' in later
    assert chooser.get("/?lang=xx").text.count('<html lang="uk"') == 1  # unknown: ignored


def test_language_links_keep_the_filters(client, offers):
    html = client.get("/?age_months=30&category=day_care&category=playground").text
    nav = html.split('class="languages"')[1].split("</nav>")[0]
    assert "lang=ar" in nav and "age_months=30" in nav
    assert "category=day_care,playground" in nav.replace("%2C", ",")


def test_offer_translation_with_german_fallback(client, db_session, offers):
    kita = offers["kita"]
    kita.description = "Betreuung für Kinder ab einem Jahr."
    kita.translations = {"en": {"title": "Day care Testecke", "description": "Care from age 1."}}
    db_session.flush()
    english = client.get(f"/offer/{kita.id}?lang=en").text
    assert "<h1>Day care Testecke</h1>" in english
    assert "Care from age 1." in english
    # Polish has no translation: the German text, marked as German for screen readers.
    polish = client.get(f"/offer/{kita.id}?lang=pl").text
    assert '<span lang="de" dir="ltr">Kita Testecke</span>' in polish
    assert "Betreuung für Kinder ab einem Jahr." in polish
    assert "Wiek" in polish  # the interface itself is Polish
    listing = client.get("/?lang=en").text
    assert "Day care Testecke" in listing


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_complete_and_compiled(code):
    folder = Path(TRANSLATIONS_DIR, code, "LC_MESSAGES")
    with open(folder / "messages.po", "rb") as f:
        po = read_po(f, locale=code)
    with open(Path(TRANSLATIONS_DIR, "messages.pot"), "rb") as f:
        pot = read_po(f)
    wanted = {m.id for m in pot if m.id}
    have = {m.id for m in po if m.id and not m.fuzzy}
    assert wanted <= have, sorted(str(i) for i in wanted - have)[:5]
    untranslated = [m.id for m in po if m.id and not all(_forms(m.string))]
    assert untranslated == []
    # The committed .mo is the compiled .po (nothing edited and left uncompiled).
    with open(folder / "messages.mo", "rb") as f:
        mo = read_mo(io.BytesIO(f.read()))
    compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
    for message in po:
        if message.id:
            assert compiled.get(_key(message.id)) == _key(message.string), message.id
    # Every category of the taxonomy is translated.
    for category in categories().values():
        assert po.get(category.label_de) is not None, category.label_de


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _forms(string):
    return string if isinstance(string, tuple) else (string,)
