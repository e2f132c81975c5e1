"""Keeping the data current in a real browser (phone-sized): an editor creates an offer
with two schedule rows at a new site found by address and sees it on the public map and in
its calendar file; a provider's change stays invisible until an editor approves it.

These tests write to the session's database (the live server cannot share a test's
transaction); a fixture removes every row they made and restores what they changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from geoalchemy2.shape import to_shape
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from mapservice.auth import create_user
from mapservice.models import Offer, Proposal, Provider, Revision, Site, User

PASSWORD = "correct horse battery"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TITLE = "Elterncafé Haus der Generationen (Browsertest)"


@pytest.fixture
def staff(engine: Engine) -> Iterator[dict[str, int]]:
    """An editor and a provider account (bound to a provider with an active offer); the
    offer the provider may change. Everything the test wrote is removed afterwards."""
    with Session(engine) as session:
        offer = session.scalar(
            select(Offer)
            .where(Offer.provider_id.is_not(None), Offer.status == "active")
            .where(Offer.site_id.is_not(None))
            .order_by(Offer.id)
            .limit(1)
        )
        assert offer is not None and offer.provider is not None
        original = (offer.id, offer.title, offer.last_verified)
        create_user(session, "browser-editor@example.org", PASSWORD, "editor")
        create_user(session, "browser-provider@example.org", PASSWORD, "provider", offer.provider)
        session.commit()
        first_revision = session.scalar(select(Revision.id).order_by(Revision.id.desc()).limit(1))
    yield {"offer_id": original[0]}
    with Session(engine) as session, session.begin():
        session.execute(delete(Proposal).where(Proposal.author.like("browser-%")))
        made = select(Offer.id).where(Offer.title == TITLE)
        session.execute(delete(Offer).where(Offer.id.in_(made)))
        session.execute(delete(Site).where(Site.name == "Haus der Generationen (Browsertest)"))
        session.execute(
            update(Offer)
            .where(Offer.id == original[0])
            .values(title=original[1], last_verified=original[2])
        )
        session.execute(delete(Revision).where(Revision.id > (first_revision or 0)))
        session.execute(
            delete(User).where(
                or_(User.email == "browser-editor@example.org", User.email.like("browser-prov%"))
            )
        )


def log_in(page: Page, base_url: str, email: str, next_path: str) -> None:
    page.goto(f"{base_url}/auth/login?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def test_editor_creates_offer_at_new_site_found_by_address(
    browser: Browser, base_url: str, staff: dict[str, int], engine: Engine
) -> None:
    with Session(engine) as session:
        known = session.scalar(
            select(Site).where(Site.street.is_not(None), Site.house_number.is_not(None)).limit(1)
        )
        assert known is not None
        address = f"{known.street} {known.house_number}"
    context = browser.new_context(locale="de-DE", **PHONE)
    page = context.new_page()
    log_in(page, base_url, "browser-editor@example.org", "/editing/offers/new")
    page.fill("#title", TITLE)
    page.select_option("#category", "parents_cafe")
    page.fill("input[name=age_min_years]", "0")
    page.fill("input[name=age_max_years]", "6")
    page.fill("#languages", "tr de")
    page.check("input[name=cost_free][value=yes]")
    page.check("input[name=registration_required][value=no]")
    page.select_option("select[name=slot_0_weekday]", "tue")
    page.fill("input[name=slot_0_start]", "09:00")
    page.fill("input[name=slot_0_end]", "11:00")
    page.click("button[value=add_row]")
    expect(page.locator("select[name=slot_1_weekday]")).to_be_visible()
    expect(page.locator("#title")).to_have_value(TITLE)  # what was typed stays
    page.select_option("select[name=slot_1_weekday]", "thu")
    page.fill("input[name=slot_1_start]", "15:00")
    page.fill("input[name=slot_1_end]", "16:30")
    page.check("input[name=site_mode][value=address]")
    page.fill("input[name=address_query]", address)
    page.click("button[value=find_address]")
    page.locator(".places button").first.click()
    expect(page.locator("#point-confirm")).to_contain_text("Gewählter Punkt")
    expect(page.locator("#site-map .leaflet-marker-icon")).to_be_visible()  # shown to confirm
    page.fill("input[name=site_name]", "Haus der Generationen (Browsertest)")
    page.click("button[value=save]")
    expect(page.locator(".flash.ok")).to_contain_text("gespeichert")
    offer_id = int(re.search(r"/editing/offers/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    with Session(engine) as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None and offer.site is not None
        assert [slot.weekday for slot in offer.schedule] == [1, 3]
        point = to_shape(offer.site.geom)
    # On the public map: the family page near the new site, for a two-year-old.
    page.goto(f"{base_url}/?age_years=2&lat={point.y:.6f}&lon={point.x:.6f}")  # type: ignore[attr-defined]
    expect(page.locator("#results")).to_contain_text(TITLE)
    # Its calendar file holds both weekly dates.
    answer = page.request.get(f"{base_url}/offer/{offer_id}.ics")
    assert answer.ok
    events = Calendar.from_ical(answer.body()).walk("VEVENT")
    days = sorted(str(event["RRULE"]["BYDAY"][0]) for event in events)
    assert days == ["TH", "TU"]
    context.close()


def test_provider_change_invisible_until_approved(
    browser: Browser, base_url: str, staff: dict[str, int]
) -> None:
    offer_id = staff["offer_id"]
    provider = browser.new_context(locale="de-DE", **PHONE).new_page()
    log_in(provider, base_url, "browser-provider@example.org", f"/editing/offers/{offer_id}")
    provider.fill("#title", "Neuer Titel vom Träger (Browsertest)")
    provider.click("button[value=save]")
    expect(provider.locator(".flash.ok")).to_contain_text("Vorschlag gespeichert")
    expect(provider.locator("ul.proposals")).to_contain_text("wartet")
    provider.goto(f"{base_url}/offer/{offer_id}")
    expect(provider.locator("h1")).not_to_contain_text("Neuer Titel vom Träger")
    editor = browser.new_context(locale="de-DE", **PHONE).new_page()
    log_in(editor, base_url, "browser-editor@example.org", "/editing/proposals")
    editor.locator("ul.proposals a").first.click()
    expect(editor.locator("table.diff")).to_contain_text("Neuer Titel vom Träger (Browsertest)")
    editor.click("button[value=approve]")
    expect(editor.locator(".flash.ok")).to_contain_text("Freigegeben")
    provider.goto(f"{base_url}/offer/{offer_id}")
    expect(provider.locator("h1")).to_contain_text("Neuer Titel vom Träger (Browsertest)")
    provider.context.close()
    editor.context.close()


def test_provider_proposes_own_details_on_a_phone(
    browser: Browser, base_url: str, staff: dict[str, int], engine: Engine
) -> None:
    with Session(engine) as session:
        offer = session.get(Offer, staff["offer_id"])
        assert offer is not None and offer.provider is not None
        provider_id = offer.provider.id
        original = (offer.provider.contact, offer.provider.website)
    try:
        provider = browser.new_context(locale="de-DE", **PHONE).new_page()
        log_in(provider, base_url, "browser-provider@example.org", "/editing/")
        provider.click("nav.editing-nav >> text=Unsere Angaben")
        provider.fill("#website", "kein link")
        provider.fill("#contact", "Familienbüro, Tel. 0231 000000 (Browsertest)")
        provider.click("button.primary")
        expect(provider.locator("#error-website")).to_contain_text("Bitte eine Webadresse")
        expect(provider.locator("#contact")).to_have_value(
            "Familienbüro, Tel. 0231 000000 (Browsertest)"
        )
        provider.fill("#website", "https://example.org/browsertest")
        provider.click("button.primary")
        expect(provider.locator(".flash.ok")).to_contain_text("Vorschlag gespeichert")
        expect(provider.locator("ul.proposals")).to_contain_text("Anbieter-Angaben")
        editor = browser.new_context(locale="de-DE", **PHONE).new_page()
        log_in(editor, base_url, "browser-editor@example.org", "/editing/proposals")
        editor.locator("ul.proposals a", has_text="Anbieter-Angaben").first.click()
        expect(editor.locator("table.diff")).to_contain_text("example.org/browsertest")
        editor.click("button[value=approve]")
        expect(editor.locator(".flash.ok")).to_contain_text("Freigegeben")
        editor.goto(f"{base_url}/editing/providers/{provider_id}")
        expect(editor.locator("#contact")).to_have_value(
            "Familienbüro, Tel. 0231 000000 (Browsertest)"
        )
        provider.context.close()
        editor.context.close()
    finally:
        with Session(engine) as session, session.begin():
            session.execute(
                update(Provider)
                .where(Provider.id == provider_id)
                .values(contact=original[0], website=original[1])
            )
