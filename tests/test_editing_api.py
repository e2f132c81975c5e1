"""The write API: tokens, 201/202/400/401/403/412, the GET → PATCH round trip, history."""

from __future__ import annotations

from typing import Any

import pytest
from editing_support import any_site, make_accounts, new_offer_data
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.editing.tokens import create_token, revoke_tokens
from mapservice.models import Offer, Proposal, Revision, User


@pytest.fixture
def users(db_session: Session) -> dict[str, User]:
    made = make_accounts(db_session)
    db_session.commit()
    return made


@pytest.fixture
def tokens(db_session: Session, users: dict[str, User]) -> dict[str, str]:
    made = {name: create_token(db_session, user) for name, user in users.items()}
    db_session.commit()
    return made


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} | headers


def own_offer(session: Session, user: User) -> Offer:
    offer = session.scalar(
        select(Offer)
        .where(Offer.provider_id == user.provider_id, Offer.status == "active")
        .order_by(Offer.id)
        .limit(1)
    )
    assert offer is not None
    return offer


def test_no_token_answers_401(client: FlaskClient, db_session: Session, users: Any) -> None:
    answer = client.post("/api/offers", json=new_offer_data(any_site(db_session).id))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.patch("/api/offers/1", json={}, headers=auth("ms_wrong")).status_code == 401


def test_revoked_token_answers_401(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    revoke_tokens(db_session, users["editor"])
    db_session.commit()
    answer = client.post(
        "/api/offers", json=new_offer_data(any_site(db_session).id), headers=auth(tokens["editor"])
    )
    assert answer.status_code == 401


def test_editor_creates_offer_201(
    client: FlaskClient, db_session: Session, tokens: dict[str, str]
) -> None:
    answer = client.post(
        "/api/offers", json=new_offer_data(any_site(db_session).id), headers=auth(tokens["editor"])
    )
    assert answer.status_code == 201, answer.get_json()
    location = answer.headers["Location"]
    feature = client.get(location).get_json()
    assert feature["properties"]["title"] == "Elterncafé Brunnenstraße"
    assert [s["weekday"] for s in feature["properties"]["schedule"]] == ["tue", "thu"]
    assert answer.headers["ETag"]


def test_planner_and_outreach_answer_403(
    client: FlaskClient, db_session: Session, tokens: dict[str, str]
) -> None:
    for role in ("planner", "outreach"):
        answer = client.post(
            "/api/offers", json=new_offer_data(any_site(db_session).id), headers=auth(tokens[role])
        )
        assert answer.status_code == 403
        assert answer.get_json()["error"] == "forbidden"


def test_provider_cannot_patch_foreign_offer(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    foreign = own_offer(db_session, users["other"])
    answer = client.patch(
        f"/api/offers/{foreign.id}", json={"title": "X"}, headers=auth(tokens["provider"])
    )
    assert answer.status_code == 403
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_bad_field_answers_400_naming_it_and_writes_nothing(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    offer = own_offer(db_session, users["provider"])
    before = db_session.scalar(select(func.count()).select_from(Revision))
    answer = client.patch(
        f"/api/offers/{offer.id}",
        json={"title": "Gut", "age_min_months": "zwei"},
        headers=auth(tokens["editor"]),
    )
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["parameter"] == "age_min_months"
    assert "age_min_months" in body["message"]
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).title != "Gut"  # type: ignore[union-attr]
    assert db_session.scalar(select(func.count()).select_from(Revision)) == before
    bad_body = client.patch(
        f"/api/offers/{offer.id}", data="not json", headers=auth(tokens["editor"])
    )
    assert bad_body.status_code == 400 and bad_body.get_json()["parameter"] == "body"


def test_round_trip_get_patch_unchanged(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    offer = own_offer(db_session, users["provider"])
    got = client.get(f"/api/offers/{offer.id}")
    etag = got.headers["ETag"]
    before = db_session.scalar(select(func.count()).select_from(Revision))
    for who in ("editor", "provider"):
        answer = client.patch(
            f"/api/offers/{offer.id}",
            json=got.get_json(),
            headers=auth(tokens[who], **{"If-Match": etag}),
        )
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json() == got.get_json()
        assert answer.headers["ETag"] == etag
    assert db_session.scalar(select(func.count()).select_from(Revision)) == before
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_stale_if_match_answers_412(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    offer = own_offer(db_session, users["provider"])
    etag = client.get(f"/api/offers/{offer.id}").headers["ETag"]
    first = client.patch(
        f"/api/offers/{offer.id}",
        json={"title": "Erste"},
        headers=auth(tokens["editor"], **{"If-Match": etag}),
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/offers/{offer.id}",
        json={"title": "Zweite"},
        headers=auth(tokens["editor"], **{"If-Match": etag}),
    )
    assert second.status_code == 412
    assert client.get(f"/api/offers/{offer.id}").get_json()["properties"]["title"] == "Erste"


def test_provider_write_answers_202_with_pending_proposal(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    offer = own_offer(db_session, users["provider"])
    answer = client.patch(
        f"/api/offers/{offer.id}", json={"title": "Vorschlag"}, headers=auth(tokens["provider"])
    )
    assert answer.status_code == 202
    proposal = answer.get_json()["proposal"]
    assert proposal["status"] == "pending" and proposal["data"] == {"title": "Vorschlag"}
    assert client.get(f"/api/offers/{offer.id}").get_json()["properties"]["title"] != "Vorschlag"
    seen = client.get(answer.headers["Location"], headers=auth(tokens["provider"]))
    assert seen.status_code == 200
    other = client.get(answer.headers["Location"], headers=auth(tokens["other"]))
    assert other.status_code == 403
    created = client.post(
        "/api/offers",
        json=new_offer_data(any_site(db_session).id),
        headers=auth(tokens["provider"]),
    )
    assert created.status_code == 202 and created.get_json()["proposal"]["offer_id"] is None


def test_end_and_history(
    client: FlaskClient, db_session: Session, users: dict[str, User], tokens: dict[str, str]
) -> None:
    offer = own_offer(db_session, users["provider"])
    ended = client.post(f"/api/offers/{offer.id}/end", headers=auth(tokens["editor"]))
    assert ended.status_code == 200
    assert ended.get_json()["properties"]["status"] == "ended"
    history = client.get(f"/api/offers/{offer.id}/history", headers=auth(tokens["editor"]))
    latest = history.get_json()["revisions"][0]
    assert latest["author"] == "editor@example.org"
    assert latest["changes"]["status"] == ["active", "ended"]
    assert history.get_json()["revisions"][-1]["author"].startswith("import:")
    assert (
        client.get(f"/api/offers/{offer.id}/history", headers=auth(tokens["other"])).status_code
        == 403
    )
