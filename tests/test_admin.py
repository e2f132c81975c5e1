"""Admins' pages: offer status and verification, anchor flag, import/export, users, roles."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from accounts import PASSWORD, sign_in, token_from
from sqlalchemy import func, select

from mapservice.auth import authenticate
from mapservice.importers.exchange.format import COLUMNS
from mapservice.models import Offer, Site, User, WalkSiteSnap


@pytest.fixture
def token(client, accounts):
    sign_in(client, "admin@example.org")
    return token_from(client.get("/admin/").get_data(as_text=True))


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def public_offer_ids(client) -> set[int]:
    return {feature["id"] for feature in client.get("/api/offers").json["features"]}


# --- roles ------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    for path in ("/admin/", "/admin/users", "/admin/export.csv"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


@pytest.mark.parametrize("role", ["planner", "outreach"])
def test_other_roles_are_refused(client, accounts, role):
    sign_in(client, f"{role}@example.org")
    for path in ("/admin/", "/admin/users", "/admin/export.geojson"):
        assert client.get(path).status_code == 403


def test_admin_sees_offers_of_every_status_with_filters(client, token, db_session):
    page = client.get("/admin/").text
    total = count(db_session, Offer)
    assert f"{total} Angebote" in page
    assert "Familienzentrum Haus der Generationen" in page
    kitas = client.get("/admin/", query_string={"category": "day_care"}).text
    day_care = db_session.scalar(
        select(func.count()).select_from(Offer).where(Offer.category == "day_care")
    )
    assert f"{day_care} Angebote" in kitas and day_care < total
    source = client.get("/admin/", query_string={"source": "infamilie-catalogue"}).text
    assert "9 Angebote" in source
    assert client.get("/admin/", query_string={"status": "gone"}).status_code == 400


# --- status, verification, anchor -------------------------------------------------------------


def test_status_change_shows_on_the_public_api(client, token, db_session):
    offer_id = min(public_offer_ids(client))
    refused = client.post(f"/admin/offers/{offer_id}/status", data={"new_status": "paused"})
    assert refused.status_code == 400  # no CSRF token
    assert offer_id in public_offer_ids(client)

    answer = client.post(
        f"/admin/offers/{offer_id}/status",
        data={"new_status": "paused", "csrf_token": token, "category": "day_care"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/admin/?category=day_care"  # the filter is kept
    assert offer_id not in public_offer_ids(client)
    assert client.get(f"/api/offers/{offer_id}").json["properties"]["status"] == "paused"
    assert "Status paused" in client.get("/admin/").text

    bad = client.post(
        f"/admin/offers/{offer_id}/status", data={"new_status": "deleted", "csrf_token": token}
    )
    assert bad.status_code == 400
    client.post(
        f"/admin/offers/{offer_id}/status", data={"new_status": "active", "csrf_token": token}
    )
    assert offer_id in public_offer_ids(client)


def test_verified_today(client, token):
    offer_id = min(public_offer_ids(client))
    answer = client.post(f"/admin/offers/{offer_id}/verified", data={"csrf_token": token})
    assert answer.status_code == 302
    verified = client.get(f"/api/offers/{offer_id}").json["properties"]["last_verified"]
    assert verified == dt.date.today().isoformat()
    assert (
        client.post("/admin/offers/999999/verified", data={"csrf_token": token}).status_code == 404
    )


def test_anchor_flag_toggles(client, token, db_session):
    site = db_session.scalar(select(Site).where(~Site.is_anchor).order_by(Site.id).limit(1))
    url = f"/admin/sites/{site.id}/anchor"
    assert client.post(url).status_code == 400  # no CSRF token

    def anchored() -> bool:
        sites = client.get("/api/sites").json["features"]
        return next(f for f in sites if f["id"] == site.id)["properties"]["is_anchor"]

    assert not anchored()
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert anchored()
    assert site.name in client.get("/admin/").text.split("<h2>Anlaufstellen</h2>")[1]
    client.post(url, data={"csrf_token": token})
    assert not anchored()


# --- import and export ------------------------------------------------------------------------


def csv_file(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode()


NEW_SITE = {
    "offer_dataset": "admin-test",
    "offer_id": "krabbelgruppe",
    "title": "Krabbelgruppe Admintest",
    "category": "baby_parent_meetup",
    "age_min_months": "0",
    "age_max_months": "24",
    "languages": "de;ar",
    "cost_free": "true",
    "status": "active",
    "schedule": "tue 09:30-11:00",
    "provider_name": "Admintest e.V.",
    "provider_kind": "club",
    "site_dataset": "admin-test",
    "site_id": "treff",
    "site_name": "Admintest Treff",
    "street": "Mallinckrodtstraße",
    "house_number": "100",
    "postcode": "44145",
    "city": "Dortmund",
    "lon": "7.4685",
    "lat": "51.5262",
}


def upload(client, token, name: str, content: bytes):
    return client.post(
        "/admin/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_malformed_import_shows_every_row_error_and_writes_nothing(client, token, db_session):
    before = (count(db_session, Offer), count(db_session, Site))
    rows = [
        NEW_SITE,
        NEW_SITE | {"offer_id": "b", "lat": "200", "title": "Zweite"},
        NEW_SITE | {"offer_id": "c", "category": "circus", "title": "Dritte"},
    ]
    answer = upload(client, token, "angebote.csv", csv_file(rows))
    assert answer.status_code == 400
    html = answer.text
    assert "Es wurde nichts geschrieben" in html
    errors = re.findall(r'<tr class="row-error"><td>(.*?)</td><td>(.*?)</td>', html, re.S)
    assert [where for where, _ in errors] == ["row 2", "row 3"]
    assert "lat" in errors[0][1] and "circus" in errors[1][1]
    assert (count(db_session, Offer), count(db_session, Site)) == before
    assert "Krabbelgruppe Admintest" not in client.get("/api/offers").text

    garbage = upload(client, token, "angebote.geojson", b"{not json")
    assert garbage.status_code == 400 and "not valid JSON" in garbage.text
    unknown = upload(client, token, "angebote.xlsx", b"PK")
    assert unknown.status_code == 400 and "nichts geschrieben" in unknown.text


def test_import_writes_counts_and_refreshes_walking_times(client, token, db_session):
    answer = upload(client, token, "neu.csv", csv_file([NEW_SITE]))
    assert answer.status_code == 200, answer.text
    assert "Angebote neu: 1" in answer.text and "Orte neu: 1" in answer.text
    assert "Gehzeiten neu berechnet" in answer.text
    offers = client.get("/api/offers").json["features"]
    made = next(f for f in offers if f["properties"]["title"] == "Krabbelgruppe Admintest")
    site_id = made["properties"]["site_id"]
    snaps = db_session.scalar(
        select(func.count()).select_from(WalkSiteSnap).where(WalkSiteSnap.site_id == site_id)
    )
    assert snaps >= 1  # precomputed for each walking profile
    reach = client.get("/api/reachable", query_string={"lat": "51.5265", "lon": "7.4690"}).json
    assert made["id"] in {f["id"] for f in reach["features"]}


def test_export_downloads_both_formats(client, token, db_session):
    geojson = client.get("/admin/export.geojson")
    assert geojson.status_code == 200 and geojson.mimetype == "application/geo+json"
    assert "attachment" in geojson.headers["Content-Disposition"]
    features = json.loads(geojson.data)["features"]
    assert len(features) >= count(db_session, Offer)
    table = client.get("/admin/export.csv")
    rows = list(csv.DictReader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert len(rows) == len(features)
    assert client.get("/admin/export.xlsx").status_code == 404
    # What was exported imports back unchanged (the exchange format's round trip), and the
    # page says so: nothing written, walking times left as they were.
    offers = count(db_session, Offer)
    again = upload(client, token, "export.csv", table.data)
    assert again.status_code == 200 and "created" not in again.text
    assert "export.csv importiert: nichts geändert." in again.text
    assert " geändert:" not in again.text
    assert f"Angebote unverändert: {offers}" in again.text
    assert "Gehzeiten waren aktuell." in again.text
    assert count(db_session, Offer) == offers


# --- users ------------------------------------------------------------------------------------


def test_admin_adds_users_with_a_role(client, token, db_session, app):
    page = client.get("/admin/users").text
    assert "planner@example.org" in page and "outreach@example.org" in page
    made = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "Neu@Example.org",
            "password": PASSWORD,
            "role": "outreach",
        },
    )
    assert made.status_code == 200 and "neu@example.org" in made.text
    user = db_session.scalar(select(User).where(User.email == "neu@example.org"))
    assert user.role == "outreach" and PASSWORD not in user.password_hash
    assert authenticate(db_session, "neu@example.org", PASSWORD) is not None
    short = client.post(
        "/admin/users",
        data={"csrf_token": token, "email": "x@example.org", "password": "kurz", "role": "admin"},
    )
    assert short.status_code == 400 and "at least 10 characters" in short.text
    twice = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "neu@example.org",
            "password": PASSWORD,
            "role": "admin",
        },
    )
    assert twice.status_code == 400 and "exists" in twice.text
    refused = client.post(
        "/admin/users", data={"email": "y@example.org", "password": PASSWORD, "role": "admin"}
    )
    assert refused.status_code == 400
    assert db_session.scalar(select(User).where(User.email == "y@example.org")) is None


def test_hostile_offer_text_is_escaped_in_the_list(client, token, db_session):
    offer = db_session.scalar(select(Offer).order_by(Offer.id).limit(1))
    offer.title = "<script>alert(1)</script>"
    db_session.commit()
    html = client.get("/admin/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
