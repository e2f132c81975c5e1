"""Facts that are true: cost and registration are yes / no / not known everywhere.

A source that says nothing leaves a fact unknown; the taxonomy's general rules (each with
its source) fill in only where they hold, and say so. Followed through import → API →
pages → export → import.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from accounts import sign_in, token_from
from sqlalchemy import select
from sqlalchemy.orm import Session

from mapservice.i18n import LANGUAGES
from mapservice.importers.exchange.export import export_file
from mapservice.importers.exchange.format import COLUMNS
from mapservice.importers.exchange.read import import_file
from mapservice.importers.records import ImportFailed
from mapservice.models import Offer
from mapservice.offer_snapshot import offer_snapshot
from mapservice.outreach.form import visit_field
from mapservice.queries import OfferFilter
from mapservice.taxonomy import FACT_FIELDS, _fact, categories

# Far from Dortmund and every walking network: a box around it holds only this test's rows.
LON, LAT = 7.2101, 51.3102
DATASET = "facts-test"
UNKNOWN = {
    "de": "nicht bekannt – bitte beim Träger nachfragen",
    "en": "not known – please ask the provider",
    "tr": "bilinmiyor – lütfen kuruma sorun",
    "ar": "غير معروف – يرجى السؤال لدى الجهة المقدمة",
    "bg": "не е известно – моля, попитайте организатора",
    "ro": "necunoscut – vă rugăm să întrebați furnizorul",
    "pl": "nieznane – prosimy zapytać organizatora",
    "uk": "невідомо – будь ласка, запитайте в організатора",
}
# What the importers used to invent; none of it may stand for "not known".
INVENTED = ("kostenlos", "nicht nötig", "nach Absprache")


def _row(offer_id: str, title: str, category: str, **fields: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        offer_dataset=DATASET,
        offer_id=offer_id,
        title=title,
        category=category,
        age_min_months="24",
        age_max_months="72",
        status="active",
        site_dataset=DATASET,
        site_id="treff",
        site_name="Treffpunkt Faktenprüfung",
        street="Prüfweg",
        house_number="1",
        city="Dortmund",
        lon=repr(LON),
        lat=repr(LAT),
    )
    row.update(fields)
    return row


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def imported(db_session: Session, tmp_path: Path) -> dict[str, Offer]:
    """Four offers at one site, imported from a CSV file as a provider would send it:
    ``silent`` says nothing (empty cells), ``paid`` and ``free`` say it, and ``kita`` is a
    day-care offer whose registration the file leaves empty."""
    rows = [
        _row("silent", "Elterncafé ohne Angaben", "parents_cafe"),
        _row(
            "paid",
            "Elterncafé mit Beitrag",
            "parents_cafe",
            cost_free="false",
            cost_text="2 € pro Termin",
            registration_required="true",
            languages="de;tr",
            schedule="fri 09:00-11:00",
        ),
        _row(
            "free",
            "Elterncafé frei",
            "parents_cafe",
            cost_free="true",
            registration_required="false",
            languages="de",
        ),
        _row("kita", "Kita Faktenprüfung", "day_care", age_min_months="0"),
    ]
    import_file(db_session, _write_csv(tmp_path / "provider.csv", rows))
    found = db_session.scalars(select(Offer).where(Offer.source_dataset == DATASET))
    return {offer.source_id: offer for offer in found}


# --- the taxonomy's facts and their sources -------------------------------------------------


def test_every_taxonomy_fact_names_its_source_and_every_age_range_its_reason():
    for category in categories().values():
        assert category.ages_source.strip(), f"{category.key}: age range without a reason"
        for name, fact in category.facts.items():
            assert name in FACT_FIELDS and fact.field == name
            assert isinstance(fact.value, bool)
            assert len(fact.source) > 40, f"{category.key}.{name}: no real source"


def test_the_taxonomy_states_only_rules_that_hold_for_every_offer():
    day_care = categories()["day_care"]
    registration = day_care.fact("registration_required")
    assert registration is not None and registration.value is True
    assert "Kita-Portal" in registration.source and "KiBiz" in registration.source
    # Day-care and OGS fees depend on the family: no fee, and no "free", is invented.
    assert day_care.fact("cost_free") is None
    assert categories()["primary_school_ogs"].fact("cost_free") is None
    # Public playgrounds are free and open to all, water playgrounds in parks are not.
    playground = categories()["playground"]
    assert playground.fact("cost_free", "Spielplatz").value is True  # type: ignore[union-attr]
    assert playground.fact("registration_required", "Spielplatz").value is False  # type: ignore[union-attr]
    assert playground.fact("cost_free", "Wasserspielplatz") is None
    assert playground.fact("cost_free") is None  # a playground from another source
    # The network's life-phase model puts TEK from 0; no law sets a lower bound.
    assert (day_care.min_months, day_care.max_months) == (0, 72)


def test_a_fact_without_a_source_is_refused():
    with pytest.raises(ValueError, match="needs its source"):
        _fact("day_care", "cost_free", {"value": True, "source": " "})
    with pytest.raises(ValueError, match="unknown fact"):
        _fact("day_care", "wheelchair", {"value": True, "source": "somewhere"})


# --- the bundled data: what the sources said, nothing more -----------------------------------


def _bundled(db_session: Session, dataset: str) -> list[Offer]:
    return list(db_session.scalars(select(Offer).where(Offer.source_dataset == dataset)))


def test_open_data_offers_are_not_called_free(db_session):
    kitas = _bundled(db_session, "dortmund-opendata/kindergarten.geojson")
    assert kitas
    for offer in kitas:
        assert offer.cost_free is None
        assert offer.registration_required is True
        assert offer.taxonomy_facts == ["registration_required"]
        assert offer.languages == []
        assert (offer.age_min_months, offer.age_max_months) == (0, 72)
    youth = _bundled(db_session, "dortmund-opendata/youth_centers.geojson")
    assert youth and all(
        (o.cost_free, o.registration_required, o.taxonomy_facts) == (None, None, []) for o in youth
    )
    playgrounds = {
        o.source_id: o for o in _bundled(db_session, "dortmund-opendata/playgrounds.geojson")
    }
    public = [o for key, o in playgrounds.items() if key.startswith("Spielplatz|")]
    assert public and all((o.cost_free, o.registration_required) == (True, False) for o in public)
    assert all(o.taxonomy_facts == ["cost_free", "registration_required"] for o in public)
    adventure = next(o for key, o in playgrounds.items() if key.startswith("Abenteuerspielplatz|"))
    assert (adventure.cost_free, adventure.registration_required) == (None, None)


def test_osm_places_get_no_invented_language(db_session):
    places = _bundled(db_session, "osm:witten-stockum")
    assert places
    assert all(offer.languages == [] for offer in places)
    # Cost only where the extract tags it: fee=yes (a private Kindergarten), fee=no (the
    # public primary school); the other places have no fee tag, so not known.
    assert {offer.title: offer.cost_free for offer in places} == {
        "Freier Kindergarten Sonnenau": False,
        "Harkortschule": True,
        "Städtische Kita Helfkamp": None,
        "AWO-Kita Stockum": None,
        "Ev. Markus Kindergarten Stockum": None,
    }


def test_the_catalogue_keeps_what_it_states(db_session):
    stated = {o.source_id: o for o in _bundled(db_session, "infamilie-catalogue")}
    cafe = stated["elterncafe"]
    assert (cafe.cost_free, cafe.registration_required, cafe.taxonomy_facts) == (True, False, [])
    # The OGS taster afternoon says "no registration": the taxonomy's rule does not override.
    taster = stated["uebergang-grundschule-ogs"]
    assert (taster.registration_required, taster.taxonomy_facts) == (False, [])


# --- import → API → pages → export → import --------------------------------------------------


def test_import_keeps_unknown_unknown_and_applies_the_rule_where_the_file_is_silent(imported):
    silent, paid, free, kita = (imported[k] for k in ("silent", "paid", "free", "kita"))
    assert (silent.cost_free, silent.registration_required, silent.languages) == (None, None, [])
    assert silent.schedule == [] and silent.taxonomy_facts == []
    assert (paid.cost_free, paid.cost_text, paid.registration_required) == (
        False,
        "2 € pro Termin",
        True,
    )
    assert (free.cost_free, free.registration_required, free.taxonomy_facts) == (True, False, [])
    assert (kita.cost_free, kita.registration_required) == (None, True)
    assert kita.taxonomy_facts == ["registration_required"]


def test_api_says_null_for_not_known(client, imported):
    silent = client.get(f"/api/offers/{imported['silent'].id}").get_json()["properties"]
    assert silent["cost_free"] is None and silent["registration_required"] is None
    assert silent["languages"] == [] and silent["taxonomy_facts"] == []
    paid = client.get(f"/api/offers/{imported['paid'].id}").get_json()["properties"]
    assert (paid["cost_free"], paid["registration_required"]) == (False, True)
    kita = client.get(f"/api/offers/{imported['kita'].id}").get_json()["properties"]
    assert kita["registration_required"] is True
    assert kita["taxonomy_facts"] == ["registration_required"]


def test_free_only_shows_only_offers_known_to_be_free(client, db_session, imported):
    box = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    listed = client.get(f"/api/offers?bbox={box}&free=1").get_json()["features"]
    assert {feature["id"] for feature in listed} == {imported["free"].id}
    everything = client.get("/api/offers?free=1").get_json()["features"]
    assert everything and all(f["properties"]["cost_free"] is True for f in everything)
    # The in-memory snapshot behind the reach answers filters the same way.
    db_session.flush()
    snapshot = offer_snapshot(db_session)
    site_id = imported["free"].site_id
    assert {o.id for o in snapshot.at_sites([site_id], OfferFilter())} == {
        o.id for o in imported.values()
    }
    assert [o.id for o in snapshot.at_sites([site_id], OfferFilter(free_only=True))] == [
        imported["free"].id
    ]
    near = {"lat": LAT + 0.001, "lon": LON, "minutes": 15}
    # And the family page's checkbox.
    page = client.get("/", query_string=near | {"free": "1"}).text
    assert f'id="offer-{imported["free"].id}"' in page
    assert f'id="offer-{imported["silent"].id}"' not in page


def _entry(html: str, offer_id: int) -> str:
    """One offer's entry in the family list."""
    return html.split(f'id="offer-{offer_id}"')[1].split("</li>")[0]


def test_offer_page_says_not_known_and_never_invents(client, imported):
    html = client.get(f"/offer/{imported['silent'].id}").text
    facts = html.split('<dl class="facts detail">')[1].split("</dl>")[0]
    # Schedule, languages, cost, registration and wheelchair access: all not known.
    assert facts.count(UNKNOWN["de"]) == 5
    for invented in INVENTED:
        assert invented not in facts
    ld = json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert "isAccessibleForFree" not in ld  # said only when known
    paid = client.get(f"/offer/{imported['paid'].id}").text
    assert "2 € pro Termin" in paid and "nötig" in paid
    ld = json.loads(paid.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert ld["isAccessibleForFree"] is False
    free = client.get(f"/offer/{imported['free'].id}").text
    assert "kostenlos" in free and "nicht nötig" in free


@pytest.mark.parametrize("code", LANGUAGES)
def test_not_known_in_every_language_on_list_and_offer_page(client, imported, code):
    offer_id = imported["silent"].id
    page = client.get(f"/offer/{offer_id}", query_string={"lang": code}).text
    assert page.count(UNKNOWN[code]) == 5
    listing = client.get("/", query_string={"lang": code, "category": "parents_cafe"}).text
    entry = _entry(listing, offer_id)
    # Languages, times, cost and registration in the list.
    assert entry.count(UNKNOWN[code]) == 4
    if code != "de":
        assert UNKNOWN["de"] not in page


def test_the_taxonomy_rule_is_marked_as_such(client, imported):
    kita = client.get(f"/offer/{imported['kita'].id}", query_string={"lang": "en"}).text
    registration = kita.split("Registration")[1].split("</dd>")[0]
    assert "needed" in registration and "general rule in NRW" in registration
    german = client.get(f"/offer/{imported['kita'].id}", query_string={"lang": "de"}).text
    assert "allgemeine Regel in NRW" in german


def test_print_sheet_says_not_known(client, imported):
    html = client.get("/print", query_string={"category": "parents_cafe", "lang": "pl"}).text
    row = html.split(imported["silent"].title)[1].split("</tr>")[0]
    assert row.count(UNKNOWN["pl"]) == 3  # times, cost, registration
    paid_row = html.split(imported["paid"].title)[1].split("</tr>")[0]
    assert "2 € pro Termin" in paid_row


def test_outreach_sheet_says_not_known_in_the_family_language(client, app, accounts, imported):
    app.config["TILE_URL"] = ""
    sign_in(client, "outreach@example.org")
    token = token_from(client.get("/outreach/").text)
    form = {
        "csrf_token": token,
        "start": "other",
        "start_lat": f"{LAT:.6f}",
        "start_lon": f"{LON:.6f}",
        "profile": "adult",
        "minutes": "15",
        visit_field(1, "lat"): f"{LAT + 0.001:.6f}",
        visit_field(1, "lon"): f"{LON:.6f}",
        visit_field(1, "age_months"): "30",
        visit_field(1, "lang"): "uk",
    }
    html = client.post("/outreach/", data=form).text
    sheet = html.split('id="sheet-1"')[1].split("</section>")[0]
    entry = sheet.split(f'data-offer-id="{imported["silent"].id}"')[1].split("</li>")[0]
    assert entry.count(UNKNOWN["uk"]) == 4  # languages, times, cost, registration


def test_admin_list_tells_unknown_from_rule(client, accounts, imported):
    sign_in(client, "admin@example.org")
    page = client.get("/admin/", query_string={"source": DATASET}).text
    silent = page.split(f'id="offer-{imported["silent"].id}"')[1].split("</tr>")[0]
    assert silent.count("nicht bekannt") == 2
    kita = page.split(f'id="offer-{imported["kita"].id}"')[1].split("</tr>")[0]
    assert "Anmeldung nötig (Regel der Taxonomie)" in kita


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_export_writes_not_known_back_and_reimport_changes_nothing(
    db_session, imported, tmp_path, suffix
):
    exported = tmp_path / f"all{suffix}"
    export_file(db_session, exported)
    if suffix == ".csv":
        rows = {
            row["offer_id"]: row
            for row in csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8")))
            if row["offer_dataset"] == DATASET
        }
        assert (rows["silent"]["cost_free"], rows["silent"]["registration_required"]) == ("", "")
        assert rows["silent"]["languages"] == "" and rows["silent"]["schedule"] == ""
        assert (rows["paid"]["cost_free"], rows["paid"]["registration_required"]) == (
            "false",
            "true",
        )
        assert rows["kita"]["registration_required"] == "true"
        assert rows["kita"]["taxonomy_facts"] == "registration_required"
    else:
        features = json.loads(exported.read_text(encoding="utf-8"))["features"]
        props = {
            f["properties"]["offer_id"]: f["properties"]
            for f in features
            if f["properties"]["offer_dataset"] == DATASET
        }
        assert props["silent"]["cost_free"] is None
        assert props["silent"]["registration_required"] is None
        assert props["kita"]["taxonomy_facts"] == ["registration_required"]
    counts = import_file(db_session, exported)
    assert not counts.changed, counts.summary()
    db_session.expire_all()
    again = db_session.scalar(
        select(Offer).where(Offer.source_dataset == DATASET, Offer.source_id == "silent")
    )
    assert again is not None
    assert (again.cost_free, again.registration_required) == (None, None)


def test_a_file_may_not_pass_off_its_value_as_the_taxonomy_rule(db_session, tmp_path):
    rows = [
        _row(
            "wrong",
            "Kita falsch",
            "day_care",
            registration_required="false",
            taxonomy_facts="registration_required",
        ),
        _row("none", "Elterncafé", "parents_cafe", taxonomy_facts="cost_free"),
        _row("odd", "Elterncafé", "parents_cafe", cost_free="maybe"),
    ]
    with pytest.raises(ImportFailed) as failed:
        import_file(db_session, _write_csv(tmp_path / "bad.csv", rows))
    reasons = [(error.row_number, error.reason) for error in failed.value.errors]
    assert reasons[0][0] == 1 and "the taxonomy says true" in reasons[0][1]
    assert reasons[1][0] == 2 and "no rule for cost_free" in reasons[1][1]
    assert reasons[2][0] == 3 and "true, false or empty (not known)" in reasons[2][1]
    assert not db_session.scalars(select(Offer).where(Offer.source_dataset == DATASET)).all()


def test_unknown_words_in_a_cell_mean_not_known(db_session, tmp_path):
    rows = [
        _row(
            "words",
            "Elterncafé",
            "parents_cafe",
            cost_free="unbekannt",
            registration_required="not known",
        )
    ]
    import_file(db_session, _write_csv(tmp_path / "words.csv", rows))
    offer = db_session.scalar(select(Offer).where(Offer.source_dataset == DATASET))
    assert offer is not None and (offer.cost_free, offer.registration_required) == (None, None)
