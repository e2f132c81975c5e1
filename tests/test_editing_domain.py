"""The editing rules in the domain: roles × actions, proposals, revisions, restore,
freshness, tokens. Every rule is checked without the web layer."""

from __future__ import annotations

import datetime as dt

import pytest
from editing_support import any_site, make_accounts, new_offer_data
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.editing import freshness, proposals, revisions
from mapservice.editing.permissions import ACTIONS, Actor, EditingError, Forbidden, can
from mapservice.editing.restore import restore_offer
from mapservice.editing.service import (
    InvalidInput,
    Stale,
    duplicate_offer,
    end_offer,
    save_offer,
)
from mapservice.editing.states import offer_etag
from mapservice.editing.tokens import create_token, revoke_tokens, user_for_token
from mapservice.models import Offer, Proposal, Revision, User
from mapservice.queries import OfferFilter, find_offers


@pytest.fixture
def users(db_session: Session) -> dict[str, User]:
    return make_accounts(db_session)


@pytest.fixture
def actors(users: dict[str, User]) -> dict[str, Actor]:
    return {name: Actor.of(user) for name, user in users.items()}


def own_offer(session: Session, actor: Actor) -> Offer:
    offer = session.scalar(
        select(Offer)
        .where(Offer.provider_id == actor.provider_id, Offer.status == "active")
        .order_by(Offer.id)
        .limit(1)
    )
    assert offer is not None
    return offer


def public_ids(session: Session) -> set[int]:
    return {offer.id for offer in find_offers(session, OfferFilter())}


# --- roles × actions ----------------------------------------------------------------------


def test_roles_times_actions(actors: dict[str, Actor]) -> None:
    own = actors["provider"].provider_id
    other = actors["other"].provider_id
    for action in ACTIONS:
        assert can(actors["admin"], action, own)
        assert can(actors["editor"], action, own) == (action != "accounts.manage")
        assert not can(actors["planner"], action, own)
        assert not can(actors["outreach"], action, own)
        assert not can(actors["provider"], action, other)
    allowed = {a for a in ACTIONS if can(actors["provider"], a, own)}
    assert allowed == {
        "offer.create",
        "offer.edit",
        "offer.end",
        "offer.confirm",
        "site.edit",
        "provider.details",
        "proposal.view",
        "history.view",
    }


def test_planner_and_outreach_cannot_save(db_session: Session, actors: dict[str, Actor]) -> None:
    offer = own_offer(db_session, actors["provider"])
    for role in ("planner", "outreach"):
        with pytest.raises(Forbidden):
            save_offer(db_session, actors[role], {"title": "X"}, offer)
        with pytest.raises(Forbidden):
            save_offer(db_session, actors[role], new_offer_data(any_site(db_session).id))


def test_provider_cannot_touch_another_providers_offer(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    foreign = own_offer(db_session, actors["other"])
    with pytest.raises(Forbidden):
        save_offer(db_session, actors["provider"], {"title": "Übernommen"}, foreign)
    with pytest.raises(Forbidden):
        end_offer(db_session, actors["provider"], foreign)
    with pytest.raises(Forbidden):
        freshness.confirm(db_session, actors["provider"], [foreign])
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_provider_cannot_move_offer_to_another_provider(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    offer = own_offer(db_session, actors["provider"])
    with pytest.raises(InvalidInput) as raised:
        save_offer(
            db_session, actors["provider"], {"provider_id": actors["other"].provider_id}, offer
        )
    assert "provider_id" in raised.value.errors


# --- editors: live changes with revisions ---------------------------------------------------


def test_editor_creates_offer_live_with_revision(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    site = any_site(db_session)
    outcome = save_offer(db_session, actors["editor"], new_offer_data(site.id))
    assert outcome.live and outcome.offer is not None
    offer = outcome.offer
    assert offer.id in public_ids(db_session)
    assert [(s.weekday, s.start_time) for s in offer.schedule] == [
        (1, dt.time(9)),
        (3, dt.time(15)),
    ]
    assert offer.last_verified == dt.date.today()
    (revision,) = revisions.history(db_session, "offer", offer.id)
    assert revision.action == "create"
    assert revision.author == "editor@example.org"
    assert revision.changes["title"] == [None, "Elterncafé Brunnenstraße"]
    assert revision.changes["languages"] == [None, ["de", "tr"]]


def test_invalid_input_names_each_field_and_writes_nothing(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    before = db_session.scalar(select(func.count()).select_from(Offer))
    data = new_offer_data(
        any_site(db_session).id,
        title="",
        age_min_months=48,
        age_max_months=12,
        languages=["deutsch"],
        schedule=[{"weekday": "tue", "start": "11:00", "end": "09:00"}],
        colour="blue",
    )
    with pytest.raises(InvalidInput) as raised:
        save_offer(db_session, actors["editor"], data)
    assert set(raised.value.errors) == {
        "title",
        "age_max_months",
        "languages",
        "schedule",
        "colour",
    }
    assert db_session.scalar(select(func.count()).select_from(Offer)) == before
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(Revision)
            .where(Revision.author == "editor@example.org")
        )
        == 0
    )


def test_edit_records_only_changed_fields(db_session: Session, actors: dict[str, Actor]) -> None:
    offer = own_offer(db_session, actors["provider"])
    old_title = offer.title
    save_offer(
        db_session, actors["editor"], {"title": "Neuer Titel", "category": offer.category}, offer
    )
    latest = revisions.history(db_session, "offer", offer.id)[0]
    assert latest.changes["title"] == [old_title, "Neuer Titel"]
    assert "category" not in latest.changes


def test_stale_write_is_refused(db_session: Session, actors: dict[str, Actor]) -> None:
    offer = own_offer(db_session, actors["provider"])
    etag = offer_etag(offer)
    save_offer(db_session, actors["editor"], {"title": "Erste Änderung"}, offer, if_match=etag)
    with pytest.raises(Stale):
        save_offer(db_session, actors["editor"], {"title": "Zweite"}, offer, if_match=etag)
    assert offer.title == "Erste Änderung"


def test_end_hides_publicly_and_keeps_history(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    offer = own_offer(db_session, actors["provider"])
    end_offer(db_session, actors["editor"], offer)
    assert offer.status == "ended"
    assert offer.id not in public_ids(db_session)
    assert db_session.get(Offer, offer.id) is not None
    assert revisions.history(db_session, "offer", offer.id)[0].changes["status"] == [
        "active",
        "ended",
    ]


def test_duplicate_is_a_new_offer_with_same_schedule(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    offer = own_offer(db_session, actors["provider"])
    copy = duplicate_offer(db_session, actors["editor"], offer).offer
    assert copy is not None and copy.id != offer.id
    assert copy.title == f"{offer.title} (Kopie)"
    assert [(s.weekday, s.start_time) for s in copy.schedule] == [
        (s.weekday, s.start_time) for s in offer.schedule
    ]
    assert copy.is_example == offer.is_example


def test_restore_earlier_revision_is_a_new_revision(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    editor = actors["editor"]
    offer = save_offer(db_session, editor, new_offer_data(any_site(db_session).id)).offer
    assert offer is not None
    first = revisions.history(db_session, "offer", offer.id)[0]
    save_offer(db_session, editor, {"title": "Zweiter Titel", "languages": ["ar"]}, offer)
    save_offer(db_session, editor, {"schedule": []}, offer)
    restore_offer(db_session, editor, offer, first.id)
    assert offer.title == "Elterncafé Brunnenstraße"
    assert offer.languages == ["de", "tr"]
    assert len(offer.schedule) == 2
    history = revisions.history(db_session, "offer", offer.id)
    assert [r.action for r in history] == ["restore", "update", "update", "create"]
    with pytest.raises(Forbidden):
        restore_offer(db_session, actors["provider"], offer, first.id)


# --- proposals ------------------------------------------------------------------------------


def test_provider_change_is_a_proposal_until_approved(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    offer = own_offer(db_session, actors["provider"])
    old_title = offer.title
    outcome = save_offer(db_session, actors["provider"], {"title": "Vorschlag"}, offer)
    assert not outcome.live and outcome.proposal is not None
    db_session.refresh(offer)
    assert offer.title == old_title  # nothing public changed
    assert outcome.proposal.data == {"title": "Vorschlag"}
    # the other provider and planners see none of it
    assert proposals.visible_proposals(db_session, actors["other"]) == []
    with pytest.raises(Forbidden):
        proposals.visible_proposals(db_session, actors["planner"])
    assert proposals.visible_proposals(db_session, actors["provider"]) == [outcome.proposal]
    with pytest.raises(Forbidden):
        proposals.approve(db_session, actors["provider"], outcome.proposal)
    proposals.approve(db_session, actors["editor"], outcome.proposal)
    assert offer.title == "Vorschlag"
    assert outcome.proposal.status == "approved"
    latest = revisions.history(db_session, "offer", offer.id)[0]
    assert latest.author == "provider@example.org (freigegeben von editor@example.org)"


def test_new_offer_by_provider_is_invisible_until_approved(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    before = public_ids(db_session)
    outcome = save_offer(db_session, actors["provider"], new_offer_data(any_site(db_session).id))
    assert outcome.offer is None and outcome.proposal is not None
    assert public_ids(db_session) == before
    offer = proposals.approve(db_session, actors["editor"], outcome.proposal)
    assert offer.provider_id == actors["provider"].provider_id
    assert public_ids(db_session) == before | {offer.id}


def test_decline_needs_a_reason_the_provider_sees(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    offer = own_offer(db_session, actors["provider"])
    proposal = save_offer(db_session, actors["provider"], {"title": "Falsch"}, offer).proposal
    assert proposal is not None
    with pytest.raises(EditingError):
        proposals.decline(db_session, actors["editor"], proposal, "  ")
    proposals.decline(db_session, actors["editor"], proposal, "Der Kurs heißt anders.")
    (seen,) = proposals.visible_proposals(db_session, actors["provider"], status="declined")
    assert seen.reason == "Der Kurs heißt anders."
    assert offer.title != "Falsch"
    with pytest.raises(EditingError):
        proposals.approve(db_session, actors["editor"], proposal)


def test_trusted_provider_goes_live_at_once(db_session: Session, users: dict[str, User]) -> None:
    assert users["provider"].provider is not None
    users["provider"].provider.trusted = True
    actor = Actor.of(users["provider"])
    offer = own_offer(db_session, actor)
    outcome = save_offer(db_session, actor, {"title": "Sofort live"}, offer)
    assert outcome.live and offer.title == "Sofort live"


# --- freshness ------------------------------------------------------------------------------


def test_overdue_lists_and_still_correct(db_session: Session, actors: dict[str, Actor]) -> None:
    offer = own_offer(db_session, actors["provider"])
    today = dt.date(2026, 11, 29)
    offer.last_verified = dt.date(2026, 5, 28)
    assert freshness.is_overdue(offer, 6, today)
    offer.last_verified = dt.date(2026, 5, 29)
    assert not freshness.is_overdue(offer, 6, today)
    offer.last_verified = dt.date(2025, 1, 1)
    db_session.flush()
    groups = freshness.overdue_by_provider(db_session, actors["editor"], 6, today)
    assert any(offer in group.offers for group in groups)
    own_groups = freshness.overdue_by_provider(db_session, actors["provider"], 6, today)
    assert {g.provider.id for g in own_groups if g.provider} <= {actors["provider"].provider_id}
    with pytest.raises(Forbidden):
        freshness.overdue_by_provider(db_session, actors["planner"], 6, today)
    title = offer.title
    assert freshness.confirm(db_session, actors["provider"], [offer], today) == 1
    assert offer.last_verified == today and offer.title == title
    latest = revisions.history(db_session, "offer", offer.id)[0]
    assert latest.changes == {"last_verified": ["2025-01-01", "2026-11-29"]}
    groups = freshness.overdue_by_provider(db_session, actors["editor"], 6, today)
    assert all(offer not in group.offers for group in groups)


def test_months_before_keeps_month_ends() -> None:
    assert freshness.months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert freshness.months_before(dt.date(2026, 3, 15), 6) == dt.date(2025, 9, 15)


# --- imports --------------------------------------------------------------------------------


def test_default_import_wrote_revisions(db_session: Session) -> None:
    authors = set(db_session.scalars(select(Revision.author).distinct()))
    assert "import:catalogue" in authors
    offers = db_session.scalar(select(func.count()).select_from(Offer))
    created = db_session.scalar(
        select(func.count(func.distinct(Revision.entity_id))).where(
            Revision.entity == "offer", Revision.action == "create"
        )
    )
    assert created == offers


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_are_hashed_and_revocable(db_session: Session, users: dict[str, User]) -> None:
    token = create_token(db_session, users["editor"])
    assert user_for_token(db_session, token) == users["editor"]
    stored = db_session.scalar(select(func.count()).select_from(User))
    assert stored
    from mapservice.models import ApiToken

    digests = list(db_session.scalars(select(ApiToken.digest)))
    assert token not in digests
    assert revoke_tokens(db_session, users["editor"]) == 1
    assert user_for_token(db_session, token) is None
    assert user_for_token(db_session, "ms_guess") is None
