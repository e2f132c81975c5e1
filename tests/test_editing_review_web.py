"""The pages and API of review against a changed record, providers' own details, restoring
sites and providers, and the German field messages of the staff forms."""

from __future__ import annotations

import re

import pytest
from accounts import sign_in, token_from
from editing_support import any_site, make_accounts
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_editing_web import form_data, offer_form

from mapservice.editing import revisions
from mapservice.editing.tokens import create_token
from mapservice.models import Offer, Proposal, Provider, User


@pytest.fixture
def users(db_session: Session) -> dict[str, User]:
    made = make_accounts(db_session)
    db_session.commit()
    return made


def own_offer(session: Session, user: User) -> Offer:
    offer = session.scalar(
        select(Offer)
        .where(Offer.provider_id == user.provider_id, Offer.status == "active")
        .order_by(Offer.id)
        .limit(1)
    )
    assert offer is not None
    return offer


ENGLISH = re.compile(r"is missing|must be|is not|longer than|unknown|ends before")


def errors_in(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<p class="field-error" id="error-([\w]+)" role="alert">([^<]*)</p>', html)
    )


# --- a provider's own details -----------------------------------------------------------------


def test_provider_edits_own_details_as_a_proposal(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    provider = users["provider"].provider
    assert provider is not None
    sign_in(client, "provider@example.org")
    listing = client.get("/editing/providers")
    assert listing.status_code == 302
    page = client.get(listing.headers["Location"]).get_data(as_text=True)
    assert "Vorschlag senden" in page and 'name="trusted"' not in page
    bad = client.post(
        f"/editing/providers/{provider.id}",
        data=form_data(
            page, name="", kind=provider.kind, contact="Frau K., 0231 55 66", website="kein link"
        ),
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    found = errors_in(html)
    assert found["name"] == "Bitte einen Namen eingeben."
    assert found["website"].startswith("Bitte eine Webadresse")
    assert "Frau K., 0231 55 66" in html and 'value="kein link"' in html  # kept as typed
    assert not ENGLISH.search(" ".join(found.values()))
    sent = client.post(
        f"/editing/providers/{provider.id}",
        data=form_data(
            page,
            name=provider.name,
            kind=provider.kind,
            contact="Frau K., 0231 55 66",
            website="www.example.org",
        ),
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/editing/proposals")
    db_session.expire_all()
    assert db_session.get(Provider, provider.id).contact != "Frau K., 0231 55 66"  # type: ignore[union-attr]
    proposal = db_session.scalar(select(Proposal).where(Proposal.entity == "provider"))
    assert proposal is not None and proposal.data["website"] == "https://www.example.org"
    mine = client.get("/editing/proposals").get_data(as_text=True)
    assert f"Anbieter-Angaben: {provider.name}" in mine
    # another provider's form is not theirs
    other = users["other"].provider
    assert other is not None
    assert client.get(f"/editing/providers/{other.id}").status_code == 403
    assert (
        client.post(
            f"/editing/providers/{other.id}", data=form_data(page, name="x", kind="club")
        ).status_code
        == 403
    )
    # the editor approves; the details are live with a revision naming both
    client.post("/auth/logout", data={"csrf_token": token_from(mine)})
    sign_in(client, "editor@example.org")
    review = client.get(f"/editing/proposals/{proposal.id}").get_data(as_text=True)
    answer = client.post(
        f"/editing/proposals/{proposal.id}",
        data={"csrf_token": token_from(review), "decision": "approve"},
    )
    assert answer.status_code == 302
    db_session.expire_all()
    live = db_session.get(Provider, provider.id)
    assert live is not None and live.contact == "Frau K., 0231 55 66"
    assert revisions.history(db_session, "provider", provider.id)[0].author.startswith(
        "provider@example.org (freigegeben"
    )


def test_editor_edits_provider_live_and_restores_it(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    provider = users["provider"].provider
    assert provider is not None
    old_contact = provider.contact
    sign_in(client, "editor@example.org")
    page = client.get(f"/editing/providers/{provider.id}").get_data(as_text=True)
    assert 'name="trusted"' in page
    answer = client.post(
        f"/editing/providers/{provider.id}",
        data=form_data(page, name=provider.name, kind="club", contact="neu", website=""),
    )
    assert answer.status_code == 302
    db_session.expire_all()
    assert db_session.get(Provider, provider.id).contact == "neu"  # type: ignore[union-attr]
    history = client.get(f"/editing/providers/{provider.id}/history").get_data(as_text=True)
    first = revisions.history(db_session, "provider", provider.id)[-1]
    assert f"/editing/providers/{provider.id}/restore/{first.id}" in history
    restored = client.post(
        f"/editing/providers/{provider.id}/restore/{first.id}",
        data={"csrf_token": token_from(history)},
    )
    assert restored.status_code == 302
    db_session.expire_all()
    assert db_session.get(Provider, provider.id).contact == old_contact  # type: ignore[union-attr]
    assert revisions.history(db_session, "provider", provider.id)[0].action == "restore"


def test_site_history_and_restore_for_editors_only(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    site = any_site(db_session)
    sign_in(client, "editor@example.org")
    page = client.get(f"/editing/sites/{site.id}").get_data(as_text=True)
    assert f"/editing/sites/{site.id}/history" in page
    lat = re.search(r'name="lat" id="site_lat" value="([^"]+)"', page)
    lon = re.search(r'name="lon" id="site_lon" value="([^"]+)"', page)
    assert lat and lon
    client.post(
        f"/editing/sites/{site.id}",
        data=form_data(page, name="Umbenannt", lat=lat.group(1), lon=lon.group(1), wheelchair="no"),
    )
    history = client.get(f"/editing/sites/{site.id}/history").get_data(as_text=True)
    assert "Umbenannt" in history
    first = revisions.history(db_session, "site", site.id)[-1]
    restored = client.post(
        f"/editing/sites/{site.id}/restore/{first.id}", data={"csrf_token": token_from(history)}
    )
    assert restored.status_code == 302
    db_session.expire_all()
    assert site.name != "Umbenannt"
    client.post("/auth/logout", data={"csrf_token": token_from(history)})
    sign_in(client, "provider@example.org")
    assert client.get(f"/editing/sites/{site.id}/history").status_code == 403
    assert client.post(
        f"/editing/sites/{site.id}/restore/{first.id}", data={"csrf_token": token_from(history)}
    ).status_code in (400, 403)


# --- approving over a changed record ------------------------------------------------------------


def test_editor_sees_the_conflict_and_decides(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    offer = own_offer(db_session, users["provider"])
    sign_in(client, "provider@example.org")
    page = client.get(f"/editing/offers/{offer.id}").get_data(as_text=True)
    form = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    client.post(
        f"/editing/offers/{offer.id}",
        data=offer_form(offer.site_id or 0, title="Vom Anbieter", capacity="12")
        | {"csrf_token": form["csrf_token"]},
    )
    proposal = db_session.scalar(select(Proposal).where(Proposal.offer_id == offer.id))
    assert proposal is not None
    client.post("/auth/logout", data={"csrf_token": form["csrf_token"]})
    sign_in(client, "editor@example.org")
    # the editor changes the title live meanwhile (through the API, as a script would)
    token = create_token(db_session, users["editor"])
    db_session.commit()
    changed = client.patch(
        f"/api/offers/{offer.id}",
        json={"title": "Vom Büro"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    review = client.get(f"/editing/proposals/{proposal.id}").get_data(as_text=True)
    assert "Seit dem Vorschlag geändert" in review and "Vom Büro" in review
    assert "inzwischen geändert" in review
    # without the confirmation nothing is overwritten
    refused = client.post(
        f"/editing/proposals/{proposal.id}",
        data={
            "csrf_token": token_from(review),
            "decision": "approve",
            "choose": "1",
            "field": list(proposal.data),
        },
        follow_redirects=True,
    )
    assert "Nicht freigegeben: der Eintrag wurde seit dem Vorschlag geändert" in refused.get_data(
        as_text=True
    )
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).title == "Vom Büro"  # type: ignore[union-attr]
    # the page's own form: the changed title is not ticked, the confirmation is carried
    etag = re.search(r'name="confirm_etag" value="([^"]+)"', review)
    ticked = re.findall(r'name="field" value="([^"]+)"[^>]*checked', review)
    assert etag and "title" not in ticked and "capacity" in ticked
    approved = client.post(
        f"/editing/proposals/{proposal.id}",
        data={
            "csrf_token": token_from(review),
            "decision": "approve",
            "choose": "1",
            "field": ticked,
            "confirm_etag": etag.group(1),
        },
    )
    assert approved.status_code == 302
    db_session.expire_all()
    live = db_session.get(Offer, offer.id)
    assert live is not None and live.title == "Vom Büro" and live.capacity == 12


def test_api_approval_over_a_changed_offer(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    tokens = {name: create_token(db_session, users[name]) for name in ("editor", "provider")}
    db_session.commit()
    offer = own_offer(db_session, users["provider"])
    proposed = client.patch(
        f"/api/offers/{offer.id}",
        json={"capacity": 4},
        headers={"Authorization": f"Bearer {tokens['provider']}"},
    )
    proposal_id = proposed.get_json()["proposal"]["id"]
    editor = {"Authorization": f"Bearer {tokens['editor']}"}
    assert (
        client.patch(f"/api/offers/{offer.id}", json={"capacity": 20}, headers=editor).status_code
        == 200
    )
    url = f"/api/proposals/{proposal_id}/approve"
    assert (
        client.post(url, headers={"Authorization": f"Bearer {tokens['provider']}"}).status_code
        == 403
    )
    conflict = client.post(url, headers=editor)
    assert conflict.status_code == 409
    body = conflict.get_json()
    assert body["changes_since"][0]["changes"]["capacity"][1] == 20
    assert body["changes_since"][0]["overlapping"] == ["capacity"]
    stale = client.post(url, headers=editor | {"If-Match": '"0123"'})
    assert stale.status_code == 412
    assert client.get(f"/api/offers/{offer.id}").get_json()["properties"]["capacity"] == 20
    done = client.post(url, headers=editor | {"If-Match": f'"{body["etag"]}"'})
    assert done.status_code == 200 and done.get_json()["proposal"]["status"] == "approved"
    assert client.get(f"/api/offers/{offer.id}").get_json()["properties"]["capacity"] == 4
    again = client.post(url, headers=editor)
    assert again.status_code == 409  # decided already
    declined = client.post(f"/api/proposals/{proposal_id}/decline", json={}, headers=editor)
    assert declined.status_code == 400 and declined.get_json()["parameter"] == "reason"


# --- German messages next to each field --------------------------------------------------------


def test_offer_form_messages_are_german_per_field_and_row(
    client: FlaskClient, users: dict[str, User], db_session: Session
) -> None:
    sign_in(client, "editor@example.org")
    page = client.get("/editing/offers/new").get_data(as_text=True)
    before = db_session.scalar(select(func.count()).select_from(Offer))
    bad = offer_form(
        any_site(db_session).id,
        title="",
        category="",
        languages="deutsch",
        capacity="-3",
        age_min_years="7",
        age_max_years="3",
        slot_0_weekday="",
        slot_1_start="16:00",
        slot_1_end="15:00",
        slot_1_valid_from="2026-05-01",
        slot_1_valid_to="2026-04-01",
    )
    answer = client.post("/editing/offers/new", data=form_data(page, **bad))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    found = errors_in(html)
    assert found["title"] == "Bitte einen Titel eingeben."
    assert found["category"] == "Bitte einen Bereich aus der Liste wählen."
    assert "Kürzel aus zwei Buchstaben" in found["languages"]
    assert "größer als 0" in found["capacity"]
    assert found["age_max_months"] == "„bis unter“ muss ein höheres Alter sein als „von“."
    assert found["slot_0"].startswith("Zeile 1: Bitte einen Tag wählen")
    assert "„bis“ muss nach „von“ liegen" in found["slot_1"]
    assert "„gültig ab“ muss vor „gültig bis“ liegen" in found["slot_1"]
    assert not ENGLISH.search(" ".join(found.values())), found
    assert 'value="deutsch"' in html and 'value="16:00"' in html  # kept as typed
    assert db_session.scalar(select(func.count()).select_from(Offer)) == before
    # the API keeps its English, naming the field
    token = create_token(db_session, users["editor"])
    db_session.commit()
    api = client.post(
        "/api/offers",
        json={"title": "", "category": "parents_cafe"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 400 and api.get_json()["errors"]["title"] == "title is missing"
