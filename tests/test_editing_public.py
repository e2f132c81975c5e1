"""What families see of freshness: "last checked: month year" and, when overdue, a calm hint."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.models import Offer

HINT = {
    "de": "Länger nicht geprüft: bitte vor dem Besuch beim Träger nachfragen.",
    "en": "Not checked for a while: please ask the provider before you go.",
    "ar": "لم يتم التحقق منذ فترة",
    "uk": "Давно не перевірялося",
}


def real_offer(session: Session) -> Offer:
    offer = session.scalar(
        select(Offer)
        .where(Offer.status == "active", Offer.is_example.is_(False), Offer.site_id.is_not(None))
        .order_by(Offer.id)
        .limit(1)
    )
    assert offer is not None
    return offer


@pytest.mark.parametrize(
    ("lang", "month"),
    [
        ("de", "November 2026"),
        ("en", "November 2026"),
        ("tr", "Kasım 2026"),
        ("uk", "листопад 2026"),
    ],
)
def test_last_checked_month_in_every_language(
    client: FlaskClient, db_session: Session, lang: str, month: str
) -> None:
    offer = real_offer(db_session)
    offer.last_verified = dt.date(2026, 11, 3)
    db_session.commit()
    html = client.get(f"/offer/{offer.id}?lang={lang}").get_data(as_text=True)
    assert month in html


def test_overdue_hint_only_when_overdue(client: FlaskClient, db_session: Session) -> None:
    offer = real_offer(db_session)
    offer.last_verified = dt.date.today()
    db_session.commit()
    assert HINT["de"] not in client.get(f"/offer/{offer.id}?lang=de").get_data(as_text=True)
    offer.last_verified = dt.date.today() - dt.timedelta(days=200)
    db_session.commit()
    for lang, hint in HINT.items():
        assert hint in client.get(f"/offer/{offer.id}?lang={lang}").get_data(as_text=True)


def test_school_holiday_flag_is_shown(client: FlaskClient, db_session: Session) -> None:
    offer = real_offer(db_session)
    offer.no_school_holidays = True
    db_session.commit()
    html = client.get(f"/offer/{offer.id}?lang=en").get_data(as_text=True)
    assert "pauses during NRW school holidays" in html


def test_examples_stay_marked(client: FlaskClient, db_session: Session) -> None:
    example = db_session.scalar(select(Offer).where(Offer.is_example.is_(True)).limit(1))
    if example is None:
        pytest.skip("the bundled data has no example records")
    html = client.get(f"/offer/{example.id}?lang=de").get_data(as_text=True)
    assert "Beispieleintrag" in html
