"""The editing pages as editors and providers use them (forms, CSRF, review)."""

from __future__ import annotations

import re

import pytest
from accounts import sign_in, token_from
from editing_support import any_site, make_accounts
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.models import Offer, Proposal, Site, User, WalkSiteSnap


@pytest.fixture
def users(db_session: Session) -> dict[str, User]:
    made = make_accounts(db_session)
    db_session.commit()
    return made


def form_data(page: str, **values: str) -> dict[str, str]:
    return {"csrf_token": token_from(page)} | values


def offer_form(site_id: int, **extra: str) -> dict[str, str]:
    return {
        "title": "Elterncafé im Haus der Generationen",
        "description": "Kaffee und Austausch",
        "category": "parents_cafe",
        "status": "active",
        "age_min_years": "0",
        "age_min_rest": "0",
        "age_max_years": "6",
        "age_max_rest": "0",
        "languages": "tr de",
        "cost_free": "yes",
        "registration_required": "no",
        "slot_0_weekday": "tue",
        "slot_0_start": "09:00",
        "slot_0_end": "11:00",
        "slot_1_weekday": "thu",
        "slot_1_start": "15:00",
        "slot_1_end": "16:00",
        "site_mode": "existing",
        "site_id": str(site_id),
        "wheelchair": "unknown",
        "title_tr": "Veli kafesi",
        "action": "save",
    } | extra


def test_staff_only(client: FlaskClient, users: dict[str, User]) -> None:
    assert client.get("/editing/").status_code == 302  # to the login page
    sign_in(client, "planner@example.org")
    assert client.get("/editing/").status_code == 403
    assert client.get("/editing/offers/new").status_code == 403


def test_editor_creates_offer_with_two_rows(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    sign_in(client, "editor@example.org")
    page = client.get("/editing/offers/new").get_data(as_text=True)
    site = any_site(db_session)
    answer = client.post("/editing/offers/new", data=form_data(page, **offer_form(site.id)))
    assert answer.status_code == 302
    offer = db_session.scalar(select(Offer).where(Offer.title.like("Elterncafé im Haus%")))
    assert offer is not None and offer.site_id == site.id
    assert [slot.weekday for slot in offer.schedule] == [1, 3]
    assert offer.languages == ["tr", "de"]
    assert offer.translations == {"tr": {"title": "Veli kafesi"}}
    edit = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Lebensphase: 0–2 Jahre, 2–4 Jahre, 4–6 Jahre" in edit
    history = client.get(f"/editing/offers/{offer.id}/history").get_data(as_text=True)
    assert "editor@example.org" in history and "angelegt" in history


def test_bad_form_keeps_input_and_saves_nothing(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    sign_in(client, "editor@example.org")
    page = client.get("/editing/offers/new").get_data(as_text=True)
    before = db_session.scalar(select(func.count()).select_from(Offer))
    bad = offer_form(
        any_site(db_session).id,
        title="",
        age_max_years="x",
        slot_1_end="14:00",
        description="<script>alert(1)</script> getippt",
    )
    answer = client.post("/editing/offers/new", data=form_data(page, **bad))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="error-age_max_months"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; getippt" in html
    assert "<script>alert(1)" not in html
    # the domain's errors come after the form's own: fix the age, see the rest
    bad["age_max_years"] = "6"
    answer = client.post("/editing/offers/new", data=form_data(page, **bad))
    html = answer.get_data(as_text=True)
    assert 'id="error-title"' in html and 'id="error-schedule"' in html
    assert 'value="15:00"' in html  # the typed row stays
    assert db_session.scalar(select(func.count()).select_from(Offer)) == before


def test_form_without_csrf_token_is_refused(client: FlaskClient, users: dict[str, User]) -> None:
    sign_in(client, "editor@example.org")
    answer = client.post("/editing/offers/new", data=offer_form(1))
    assert answer.status_code == 400


def test_new_site_by_address_search(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    sign_in(client, "editor@example.org")
    page = client.get("/editing/offers/new").get_data(as_text=True)
    site = db_session.scalar(
        select(Site).where(Site.street.is_not(None), Site.house_number.is_not(None)).limit(1)
    )
    assert site is not None
    query = f"{site.street} {site.house_number}"
    found = client.post(
        "/editing/offers/new",
        data=form_data(
            page, **offer_form(0, site_mode="address", address_query=query, action="find_address")
        ),
    ).get_data(as_text=True)
    pick = re.search(r'name="action" value="(pick:[^"]+)"', found)
    assert pick is not None
    picked = client.post(
        "/editing/offers/new",
        data=form_data(
            page, **offer_form(0, site_mode="address", action=pick.group(1).replace("&amp;", "&"))
        ),
    ).get_data(as_text=True)
    assert "Gewählter Punkt" in picked
    lat = re.search(r'name="site_lat" id="site_lat" inputmode="decimal" value="([^"]+)"', picked)
    lon = re.search(r'name="site_lon" id="site_lon" inputmode="decimal" value="([^"]+)"', picked)
    assert lat and lon
    saved = client.post(
        "/editing/offers/new",
        data=form_data(
            page,
            **offer_form(
                0,
                site_mode="address",
                site_name="Haus der Generationen",
                site_lat=lat.group(1),
                site_lon=lon.group(1),
                site_street=site.street or "",
                site_house_number=site.house_number or "",
            ),
        ),
    )
    assert saved.status_code == 302
    made = db_session.scalar(select(Site).where(Site.name == "Haus der Generationen"))
    assert made is not None and made.source_dataset == "editing"
    # its walking times were computed in the same transaction
    snaps = db_session.scalar(
        select(func.count()).select_from(WalkSiteSnap).where(WalkSiteSnap.site_id == made.id)
    )
    assert snaps


def test_provider_proposal_reviewed_by_editor(
    app: object, users: dict[str, User], db_session: Session
) -> None:
    from flask import Flask

    assert isinstance(app, Flask)
    provider, editor = app.test_client(), app.test_client()
    sign_in(provider, "provider@example.org")
    offer = db_session.scalar(
        select(Offer)
        .where(Offer.provider_id == users["provider"].provider_id, Offer.status == "active")
        .limit(1)
    )
    assert offer is not None
    old_title = offer.title
    page = provider.get(f"/editing/offers/{offer.id}").get_data(as_text=True)
    assert "Vorschlag senden" in page
    fields = dict(re.findall(r'<input[^>]*name="([a-z_0-9]+)"[^>]*value="([^"]*)"', page))
    fields.update({"title": "Neuer Titel vom Anbieter", "action": "save"})
    fields["category"] = offer.category
    fields["status"] = offer.status
    fields["site_mode"] = "existing"
    fields["site_id"] = str(offer.site_id)
    fields["wheelchair"] = offer.site.wheelchair if offer.site else "unknown"
    for key in ("cost_free", "registration_required"):
        fields[key] = {True: "yes", False: "no", None: "unknown"}[getattr(offer, key)]
    answer = provider.post(f"/editing/offers/{offer.id}", data=fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    public = provider.get(f"/offer/{offer.id}").get_data(as_text=True)
    assert "Neuer Titel vom Anbieter" not in public and old_title in public
    proposal = db_session.scalar(select(Proposal).where(Proposal.offer_id == offer.id))
    assert proposal is not None and proposal.data["title"] == "Neuer Titel vom Anbieter"
    # the other provider sees nothing of it
    other = app.test_client()
    sign_in(other, "other@example.org")
    assert other.get(f"/editing/proposals/{proposal.id}").status_code == 403
    assert other.get(f"/editing/offers/{offer.id}").status_code == 403
    assert "Neuer Titel vom Anbieter" not in other.get(
        "/editing/proposals?status=pending"
    ).get_data(as_text=True)
    # the editor approves
    sign_in(editor, "editor@example.org")
    review = editor.get(f"/editing/proposals/{proposal.id}").get_data(as_text=True)
    assert "Neuer Titel vom Anbieter" in review
    editor.post(
        f"/editing/proposals/{proposal.id}",
        data={"csrf_token": token_from(review), "decision": "approve"},
    )
    assert "Neuer Titel vom Anbieter" in editor.get(f"/offer/{offer.id}").get_data(as_text=True)


def test_decline_reason_reaches_the_provider(
    app: object, users: dict[str, User], db_session: Session
) -> None:
    from flask import Flask

    from mapservice.editing.permissions import Actor
    from mapservice.editing.service import save_offer

    assert isinstance(app, Flask)
    offer = db_session.scalar(
        select(Offer).where(Offer.provider_id == users["provider"].provider_id).limit(1)
    )
    assert offer is not None
    proposal = save_offer(
        db_session, Actor.of(users["provider"]), {"title": "Zu kurz"}, offer
    ).proposal
    assert proposal is not None
    db_session.commit()
    editor = app.test_client()
    sign_in(editor, "editor@example.org")
    review = editor.get(f"/editing/proposals/{proposal.id}").get_data(as_text=True)
    editor.post(
        f"/editing/proposals/{proposal.id}",
        data={
            "csrf_token": token_from(review),
            "decision": "decline",
            "reason": "Bitte den vollen Namen.",
        },
    )
    provider = app.test_client()
    sign_in(provider, "provider@example.org")
    mine = provider.get("/editing/proposals?status=declined").get_data(as_text=True)
    assert "Bitte den vollen Namen." in mine


def test_list_filters_and_pages(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    sign_in(client, "editor@example.org")
    total = db_session.scalar(select(func.count()).select_from(Offer))
    html = client.get("/editing/").get_data(as_text=True)
    assert f"{total} Angebote" in html
    some = db_session.scalar(select(Offer).order_by(Offer.id).limit(1))
    assert some is not None
    word = some.title.split()[0]
    found = client.get("/editing/", query_string={"q": word}).get_data(as_text=True)
    assert f'id="offer-{some.id}"' in found
    overdue = client.get("/editing/", query_string={"overdue": "1"}).get_data(as_text=True)
    assert "Angebote" in overdue
    if total > 50:
        second = client.get("/editing/", query_string={"page": "2"}).get_data(as_text=True)
        assert "Seite 2 von" in second


def test_provider_confirms_all(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    sign_in(client, "provider@example.org")
    page = client.get("/editing/overdue").get_data(as_text=True)
    client.post("/editing/confirm-all", data={"csrf_token": token_from(page)})
    import datetime as dt

    stale = db_session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(
            Offer.provider_id == users["provider"].provider_id,
            Offer.status != "ended",
            Offer.last_verified != dt.date.today(),
        )
    )
    assert stale == 0


def test_editor_moves_site_and_walking_times_follow(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    site = db_session.scalar(
        select(Site).join(WalkSiteSnap, WalkSiteSnap.site_id == Site.id).limit(1)
    )
    assert site is not None
    sign_in(client, "editor@example.org")
    page = client.get(f"/editing/sites/{site.id}").get_data(as_text=True)
    assert 'id="site-map"' in page
    lat = re.search(r'name="lat" id="site_lat" value="([^"]+)"', page)
    lon = re.search(r'name="lon" id="site_lon" value="([^"]+)"', page)
    assert lat and lon
    moved_lat = f"{float(lat.group(1)) + 0.0005:.6f}"
    bad = client.post(
        f"/editing/sites/{site.id}",
        data=form_data(page, name="", lat=moved_lat, lon=lon.group(1), wheelchair="yes"),
    )
    assert bad.status_code == 400 and "Bitte einen Namen eingeben." in bad.get_data(as_text=True)
    answer = client.post(
        f"/editing/sites/{site.id}",
        data=form_data(
            page, name=site.name, lat=moved_lat, lon=lon.group(1), wheelchair="yes", city="Dortmund"
        ),
    )
    assert answer.status_code == 302
    db_session.expire_all()
    moved = db_session.get(Site, site.id)
    assert moved is not None and moved.wheelchair == "yes"
    snaps = db_session.scalars(select(WalkSiteSnap).where(WalkSiteSnap.site_id == site.id)).all()
    assert snaps and all(snap.computed_at >= moved.updated_at for snap in snaps)
    from mapservice.editing import revisions

    latest = revisions.history(db_session, "site", site.id)[0]
    assert latest.author == "editor@example.org" and "location" in latest.changes


def test_provider_cannot_edit_shared_site_directly(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    site = any_site(db_session)
    sign_in(client, "provider@example.org")
    page = client.get("/editing/").get_data(as_text=True)
    answer = client.post(
        f"/editing/sites/{site.id}",
        data=form_data(page, name="Gekapert", lat="51.5", lon="7.4", wheelchair="yes"),
    )
    assert answer.status_code == 403


def test_long_description_and_translation_are_saved(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    # A real description runs past the 1,000 characters other form fields may have.
    sign_in(client, "editor@example.org")
    page = client.get("/editing/offers/new").get_data(as_text=True)
    long_de = "Wir treffen uns bei Kaffee und Tee. " * 80  # 2,880 characters
    long_tr = "Çay ve kahve eşliğinde buluşuyoruz. " * 80
    form = offer_form(any_site(db_session).id, description=long_de, description_tr=long_tr)
    answer = client.post("/editing/offers/new", data=form_data(page, **form))
    assert answer.status_code == 302
    offer = db_session.scalar(select(Offer).where(Offer.title.like("Elterncafé im Haus%")))
    assert offer is not None and offer.description == long_de.strip()
    assert offer.translations["tr"]["description"] == long_tr.strip()
    too_long = offer_form(any_site(db_session).id, description="x" * 6000)
    refused = client.post("/editing/offers/new", data=form_data(page, **too_long))
    assert refused.status_code == 400 and "description" in refused.get_data(as_text=True)
