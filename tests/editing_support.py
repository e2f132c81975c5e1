"""Accounts and a site for the editing tests (imported by their modules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.auth import create_user
from mapservice.models import Offer, Provider, Site, User

PASSWORD = "correct horse battery"


def provider_with_offers(session: Session) -> Provider:
    """A provider of the bundled data that has active offers at sites."""
    provider = session.scalar(
        select(Provider)
        .join(Offer, Offer.provider_id == Provider.id)
        .where(Offer.status == "active", Offer.site_id.is_not(None))
        .order_by(Provider.id)
        .limit(1)
    )
    assert provider is not None
    return provider


def other_provider(session: Session, than: Provider) -> Provider:
    provider = session.scalar(
        select(Provider)
        .join(Offer, Offer.provider_id == Provider.id)
        .where(Provider.id != than.id, Offer.site_id.is_not(None))
        .order_by(Provider.id)
        .limit(1)
    )
    assert provider is not None
    return provider


def make_accounts(session: Session) -> dict[str, User]:
    """editor, admin, planner, outreach and a provider account bound to a provider."""
    provider = provider_with_offers(session)
    made = {
        role: create_user(session, f"{role}@example.org", PASSWORD, role)
        for role in ("editor", "admin", "planner", "outreach")
    }
    made["provider"] = create_user(session, "provider@example.org", PASSWORD, "provider", provider)
    made["other"] = create_user(
        session, "other@example.org", PASSWORD, "provider", other_provider(session, provider)
    )
    session.flush()
    return made


def any_site(session: Session) -> Site:
    site = session.scalar(select(Site).order_by(Site.id).limit(1))
    assert site is not None
    return site


def new_offer_data(site_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Elterncafé Brunnenstraße",
        "description": "Jeden Dienstag: Kaffee, Austausch, Spielecke.",
        "category": "parents_cafe",
        "age_min_months": 0,
        "age_max_months": 72,
        "languages": ["de", "tr"],
        "cost_free": True,
        "registration_required": False,
        "schedule": [
            {"weekday": "tue", "start": "09:00", "end": "11:00"},
            {"weekday": "thu", "start": "15:00", "end": "16:30", "valid_from": "2026-01-01"},
        ],
        "site_id": site_id,
        "translations": {"tr": {"title": "Veli kafesi"}},
    } | extra
