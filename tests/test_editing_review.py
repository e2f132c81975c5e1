"""Review against a changed record, providers' own details, restoring sites and providers
(the domain rules, without the web layer)."""

from __future__ import annotations

import pytest
from editing_support import make_accounts
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.editing import proposals, revisions
from mapservice.editing.freshness import confirm
from mapservice.editing.permissions import Actor, EditingError, Forbidden, NotFound
from mapservice.editing.proposals import ProposalConflict
from mapservice.editing.provider_details import save_provider_details
from mapservice.editing.restore import restore_provider, restore_site
from mapservice.editing.service import InvalidInput, save_offer, save_site
from mapservice.editing.states import offer_etag, provider_etag
from mapservice.models import Offer, Provider, Site, User, WalkSiteSnap


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


# --- approving over a record that changed since ------------------------------------------


def test_approval_over_a_changed_offer_needs_an_explicit_decision(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    provider, editor = actors["provider"], actors["editor"]
    offer = own_offer(db_session, provider)
    proposal = save_offer(db_session, provider, {"title": "Vorschlag", "capacity": 9}, offer)
    assert proposal.proposal is not None
    # Meanwhile an editor changes the title live.
    save_offer(db_session, editor, {"title": "Vom Büro geändert"}, offer)
    with pytest.raises(ProposalConflict) as conflict:
        proposals.approve(db_session, editor, proposal.proposal)
    assert offer.title == "Vom Büro geändert"  # nothing overwritten
    assert proposal.proposal.status == "pending"
    (since,) = conflict.value.since
    assert since.changes["title"][1] == "Vom Büro geändert"
    assert since.overlapping == {"title"}
    assert conflict.value.etag == offer_etag(offer)
    # A confirmation of an older version is no decision about this one.
    with pytest.raises(ProposalConflict):
        proposals.approve(db_session, editor, proposal.proposal, confirm_etag="0" * 32)
    # The editor keeps the office's title and takes the capacity only.
    proposals.approve(
        db_session,
        editor,
        proposal.proposal,
        confirm_etag=f'"{conflict.value.etag}"',
        fields=["capacity"],
    )
    assert offer.title == "Vom Büro geändert" and offer.capacity == 9
    assert proposal.proposal.status == "approved"
    latest = revisions.history(db_session, "offer", offer.id)[0]
    assert set(latest.changes) >= {"capacity"} and "title" not in latest.changes


def test_still_correct_since_the_proposal_is_no_conflict(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    provider, editor = actors["provider"], actors["editor"]
    offer = own_offer(db_session, provider)
    proposal = save_offer(db_session, provider, {"capacity": 7}, offer).proposal
    assert proposal is not None
    offer.last_verified = None
    confirm(db_session, provider, [offer])
    assert proposals.changes_since(db_session, proposal) == []
    proposals.approve(db_session, editor, proposal)
    assert offer.capacity == 7


def test_approved_fields_must_fit_what_changed_since(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    provider, editor = actors["provider"], actors["editor"]
    offer = own_offer(db_session, provider)
    save_offer(db_session, editor, {"age_min_months": 0, "age_max_months": 72}, offer)
    proposal = save_offer(db_session, provider, {"age_max_months": 24}, offer).proposal
    assert proposal is not None
    save_offer(db_session, editor, {"age_min_months": 36}, offer)
    with pytest.raises(EditingError, match="age range"):
        proposals.approve(db_session, editor, proposal, confirm_etag=offer_etag(offer))
    assert proposal.status == "pending" and offer.age_max_months == 72


def test_fields_not_proposed_cannot_be_approved(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    offer = own_offer(db_session, actors["provider"])
    proposal = save_offer(db_session, actors["provider"], {"capacity": 5}, offer).proposal
    assert proposal is not None
    with pytest.raises(EditingError, match="not proposed"):
        proposals.approve(db_session, actors["editor"], proposal, fields=["title"])
    with pytest.raises(EditingError, match="no field chosen"):
        proposals.approve(db_session, actors["editor"], proposal, fields=[])
    assert proposal.status == "pending"


# --- a provider's own details ---------------------------------------------------------------


def test_provider_details_are_a_proposal_until_approved(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    me = actors["provider"]
    provider = db_session.get(Provider, me.provider_id)
    assert provider is not None
    old_contact = provider.contact
    outcome = save_provider_details(
        db_session,
        me,
        provider,
        {"name": provider.name, "contact": "Tel. 0231 123456", "website": "example.org/familie"},
    )
    assert not outcome.live and outcome.proposal is not None
    assert outcome.proposal.entity == "provider"
    assert outcome.proposal.data == {
        "contact": "Tel. 0231 123456",
        "website": "https://example.org/familie",
    }
    assert provider.contact == old_contact  # nothing live yet
    assert proposals.visible_proposals(db_session, actors["other"]) == []
    assert proposals.visible_proposals(db_session, me) == [outcome.proposal]
    proposals.approve(db_session, actors["editor"], outcome.proposal)
    assert provider.contact == "Tel. 0231 123456"
    latest = revisions.history(db_session, "provider", provider.id)[0]
    assert latest.author == "provider@example.org (freigegeben von editor@example.org)"
    assert latest.changes["website"] == [None, "https://example.org/familie"] or (
        latest.changes["website"][1] == "https://example.org/familie"
    )


def test_provider_details_rules(db_session: Session, actors: dict[str, Actor]) -> None:
    me = actors["provider"]
    provider = db_session.get(Provider, me.provider_id)
    other = db_session.get(Provider, actors["other"].provider_id)
    assert provider is not None and other is not None
    with pytest.raises(Forbidden):
        save_provider_details(db_session, me, other, {"contact": "gekapert"})
    with pytest.raises(Forbidden):
        save_provider_details(db_session, me, provider, {"trusted": True})
    with pytest.raises(Forbidden):
        save_provider_details(db_session, actors["planner"], provider, {"contact": "x"})
    with pytest.raises(InvalidInput) as invalid:
        save_provider_details(
            db_session,
            me,
            provider,
            {"name": f" {other.name} ", "kind": "castle", "website": "nicht eine adresse"},
        )
    assert set(invalid.value.errors) == {"name", "kind", "website"}


def test_trusted_provider_and_editor_change_details_live(
    db_session: Session, users: dict[str, User], actors: dict[str, Actor]
) -> None:
    provider = users["provider"].provider
    assert provider is not None
    provider.trusted = True
    trusted = Actor.of(users["provider"])
    outcome = save_provider_details(db_session, trusted, provider, {"contact": "Büro: Mo–Fr"})
    assert outcome.live and provider.contact == "Büro: Mo–Fr"
    outcome = save_provider_details(db_session, actors["editor"], provider, {"kind": "club"})
    assert outcome.live and provider.kind == "club"
    assert [r.author for r in revisions.history(db_session, "provider", provider.id)][:2] == [
        "editor@example.org",
        "provider@example.org",
    ]


def test_provider_proposal_over_changed_details_conflicts(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    provider = db_session.get(Provider, actors["provider"].provider_id)
    assert provider is not None
    proposal = save_provider_details(
        db_session, actors["provider"], provider, {"contact": "alt"}
    ).proposal
    assert proposal is not None
    save_provider_details(db_session, actors["editor"], provider, {"contact": "neu vom Büro"})
    with pytest.raises(ProposalConflict):
        proposals.approve(db_session, actors["editor"], proposal)
    proposals.approve(db_session, actors["editor"], proposal, confirm_etag=provider_etag(provider))
    assert provider.contact == "alt"


# --- restoring sites and providers ---------------------------------------------------------


def _snap(session: Session, site_id: int) -> list[tuple[str, int | None, float | None]]:
    rows = session.scalars(
        select(WalkSiteSnap).where(WalkSiteSnap.site_id == site_id).order_by(WalkSiteSnap.profile)
    )
    return [(row.profile, row.edge_id, round(row.fraction or 0, 3)) for row in rows]


def test_restoring_a_site_moves_it_back_with_its_walking_times(
    db_session: Session, actors: dict[str, Actor]
) -> None:
    editor = actors["editor"]
    site = db_session.scalar(
        select(Site).join(WalkSiteSnap, WalkSiteSnap.site_id == Site.id).limit(1)
    )
    assert site is not None
    before = _snap(db_session, site.id)
    mark = revisions.latest_id(db_session)
    from mapservice.editing.states import site_state

    lon, lat = site_state(site)["location"]
    save_site(db_session, editor, site, {"location": [lon, lat + 0.002], "name": "Verschoben"})
    db_session.expire_all()
    assert _snap(db_session, site.id) != before
    moved = revisions.history(db_session, "site", site.id)[0]
    assert moved.id > (mark or 0)
    earlier = revisions.history(db_session, "site", site.id)[1:]
    assert earlier, "the bundled import writes each site's first revision"
    target = earlier[0].id
    with pytest.raises(Forbidden):
        restore_site(db_session, actors["provider"], site, target)
    restore_site(db_session, editor, site, target)
    db_session.expire_all()
    assert site_state(site)["location"] == [lon, lat]
    assert site.name != "Verschoben"
    assert _snap(db_session, site.id) == before
    latest = revisions.history(db_session, "site", site.id)[0]
    assert latest.action == "restore" and "location" in latest.changes
    with pytest.raises(NotFound):
        restore_site(db_session, editor, site, 0)


def test_restoring_a_provider(db_session: Session, actors: dict[str, Actor]) -> None:
    editor = actors["editor"]
    provider = db_session.get(Provider, actors["provider"].provider_id)
    assert provider is not None
    save_provider_details(db_session, editor, provider, {"contact": "erste Fassung"})
    first = revisions.history(db_session, "provider", provider.id)[0]
    save_provider_details(db_session, editor, provider, {"contact": "zweite", "kind": "club"})
    with pytest.raises(Forbidden):
        restore_provider(db_session, actors["provider"], provider, first.id)
    restore_provider(db_session, editor, provider, first.id)
    assert provider.contact == "erste Fassung"
    history = revisions.history(db_session, "provider", provider.id)
    assert [r.action for r in history[:3]] == ["restore", "update", "update"]
