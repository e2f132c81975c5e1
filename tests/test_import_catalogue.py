"""The network's own catalogue (data/infamilie-offers.toml)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest
from import_support import data_version, nothing_written
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from mapservice.importers.catalogue import DEFAULT_CATALOGUE, import_catalogue
from mapservice.importers.records import ImportFailed
from mapservice.models import Area, Offer, Provider, Site
from mapservice.queries import schedule_rows
from mapservice.taxonomy import CATEGORY_KEYS

DATASET = "infamilie-catalogue"


def catalogue() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


def catalogue_offers(db_session: Session) -> dict[str, Offer]:
    offers = db_session.scalars(select(Offer).where(Offer.source_dataset == DATASET))
    return {offer.source_id: offer for offer in offers}


def test_every_offer_of_the_file_is_loaded(db_session: Session) -> None:
    document = catalogue()
    offers = catalogue_offers(db_session)
    assert set(offers) == {entry["id"] for entry in document["offers"]}
    # The seed text's life phases are all there.
    assert {offer.category for offer in offers.values()} >= {
        "welcome_visit",
        "baby_parent_meetup",
        "language_support",
        "individual_support",
        "kinderstube",
        "parents_cafe",
        "parent_seminar",
        "primary_school_ogs",
        "further_help",
    }
    # Invented details are marked as examples.
    assert all(offer.is_example for offer in offers.values())
    for entry in document["offers"]:
        offer = offers[entry["id"]]
        assert offer.title == entry["title"]
        assert offer.languages == entry.get("languages", [])
        want = [
            {
                "weekday": slot["weekday"],
                "start": slot["start"],
                "end": slot["end"],
                "valid_from": slot["valid_from"].isoformat() if "valid_from" in slot else None,
                "valid_to": slot["valid_to"].isoformat() if "valid_to" in slot else None,
            }
            for slot in entry.get("schedule", [])
        ]
        assert sorted(schedule_rows(offer.schedule), key=str) == sorted(want, key=str)


def test_welcome_visit_comes_home_in_the_quarter(db_session: Session) -> None:
    visit = catalogue_offers(db_session)["willkommensbesuch"]
    assert visit.site is None
    assert (visit.age_min_months, visit.age_max_months) == (0, 12)
    quarter = db_session.scalars(select(Area).where(Area.kind == "quarter")).one()
    assert db_session.scalar(select(func.ST_Equals(visit.service_area, quarter.geom)))
    assert set(visit.translations) == {"en", "tr", "ar"}
    assert visit.translations["en"]["title"].startswith("Welcome visit")


def test_family_centre_is_an_approximate_anchor(db_session: Session) -> None:
    centre = db_session.scalars(
        select(Site).where(
            Site.source_dataset == DATASET, Site.source_id == "haus-der-generationen"
        )
    ).one()
    assert centre.is_anchor
    assert centre.location_approximate
    assert centre.street == "Missundestraße"
    # Within 50 m of the day-care centre at Missundestraße 78 whose position it borrows.
    kita = db_session.scalars(
        select(Site).where(Site.street == "Missundestraße", Site.house_number == "78")
    ).one()
    other = aliased(Site)
    distance = db_session.scalar(
        select(func.ST_Distance(func.Geography(Site.geom), func.Geography(other.geom)))
        .join(other, other.id == kita.id)
        .where(Site.id == centre.id)
    )
    assert distance < 50
    offers = {offer.category for offer in centre.offers}
    assert {"baby_parent_meetup", "kinderstube", "parents_cafe"} <= offers


def test_import_twice_changes_nothing_and_never_duplicates(db_session: Session) -> None:
    before = (
        len(catalogue_offers(db_session)),
        db_session.scalar(select(func.count()).select_from(Provider)),
    )
    with nothing_written(db_session):
        counts = import_catalogue(db_session)
    after = (
        len(catalogue_offers(db_session)),
        db_session.scalar(select(func.count()).select_from(Provider)),
    )
    assert after == before
    assert counts.created == counts.updated == {}
    assert counts.unchanged["offers"] == len(catalogue()["offers"])
    # Its own site and the open-data school it marks as an anchor.
    assert counts.unchanged["sites"] == 2


@pytest.mark.parametrize(
    ("old", "new", "updated"),
    [
        pytest.param(
            'title = "Welcome visit for families with a newborn"',
            'title = "Welcome visit"',
            {"offers": 1},
            id="translation",
        ),
        pytest.param(
            'languages = ["de", "tr", "ar", "bg", "ro"]',
            'languages = ["de", "tr", "ar", "bg"]',
            {"offers": 1},
            id="languages",
        ),
        pytest.param(
            '20" }\nis_anchor = true',
            '20" }\nis_anchor = false',
            {"sites": 1},
            id="flag-on-open-data-site",
        ),
        pytest.param(
            'website = "https://www.grundschule-kleinekielstrasse.de/"',
            'website = "https://example.org/schule"',
            {"providers": 1},
            id="provider-website",
        ),
    ],
)
def test_an_edit_updates_that_record_only(
    db_session: Session, tmp_path: Path, old: str, new: str, updated: dict[str, int]
) -> None:
    source = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    assert source.count(old) == 1
    path = tmp_path / "edited.toml"
    path.write_text(source.replace(old, new), encoding="utf-8")
    version = data_version(db_session)
    counts = import_catalogue(db_session, path)
    assert counts.created == {}
    assert counts.updated == updated
    assert data_version(db_session) != version  # the offer snapshot will be rebuilt


BAD_CATALOGUE = """
[catalogue]
dataset = "test-bad-catalogue"

[providers.p]
name = "Testträger, darf nicht bleiben"
kind = "welfare"

[sites.irgendwo]
name = "Nirgendwo"
lon = 7.47
lat = 200

[sites.hier]
name = "Hier"
lon = 7.47
lat = 51.52

[[offers]]
id = "gut"
title = "Gutes Angebot"
category = "parents_cafe"
site = "hier"

[[offers]]
id = "disco"
title = "Disco"
category = "disco"
site = "hier"

[[offers]]
id = "rueckwaerts"
title = "Rückwärts"
category = "parents_cafe"
age_min_months = 30
age_max_months = 20
site = "hier"

[[offers]]
id = "zu-alt"
title = "Zu alt"
category = "further_help"
age_max_months = 300
site = "hier"

[[offers]]
id = "tag"
title = "Falscher Tag"
category = "parents_cafe"
site = "hier"
schedule = [{ weekday = "someday", start = "09:00", end = "10:00" }]

[[offers]]
id = "zeit"
title = "Falsche Zeit"
category = "parents_cafe"
site = "hier"
schedule = [{ weekday = "mon", start = "25:00", end = "26:00" }]

[[offers]]
id = "nirgends"
title = "Ohne Ort"
category = "parents_cafe"
"""


def test_a_bad_catalogue_is_refused_whole(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_CATALOGUE, encoding="utf-8")
    with pytest.raises(ImportFailed) as excinfo:
        import_catalogue(db_session, path)
    errors = [(error.unit, error.row_number, error.reason) for error in excinfo.value.errors]
    assert errors == [
        ("site", 1, "'irgendwo': lat 200 is outside -90..90"),
        (
            "offer",
            2,
            "'disco': unknown category 'disco'; known: " + ", ".join(CATEGORY_KEYS),
        ),
        ("offer", 3, "'rueckwaerts': age_min_months 30 must be less than age_max_months 20"),
        ("offer", 4, "'zu-alt': age range 72–300 months is outside 0–216"),
        ("offer", 5, "'tag': weekday 'someday' is not one of mon, tue, wed, thu, fri, sat, sun"),
        ("offer", 6, "'zeit': start time '25:00' is not a time like 09:30"),
        ("offer", 7, "'nirgends': an offer needs a site or a service_area"),
    ]
    assert (
        db_session.scalar(
            select(func.count()).select_from(Provider).where(Provider.name.startswith("Testträger"))
        )
        == 0
    )
    assert not db_session.scalars(
        select(Offer).where(Offer.source_dataset == "test-bad-catalogue")
    ).all()


def test_broken_toml_is_reported(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[[offers]]\nid = "x\n', encoding="utf-8")
    with pytest.raises(ImportFailed) as excinfo:
        import_catalogue(db_session, path)
    (error,) = excinfo.value.errors
    assert "not valid TOML" in error.reason
    assert "line 2" in error.reason


def test_reference_to_a_missing_open_data_site(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "ref.toml"
    path.write_text(
        '[sites.schule]\nopen_data = { dataset = "dortmund-opendata/schools.geojson", '
        'id = "Grundschule|Gibt es nicht|Nirgendweg|0" }\nis_anchor = true\n',
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as excinfo:
        import_catalogue(db_session, path)
    (error,) = excinfo.value.errors
    assert (error.unit, error.row_number) == ("site", 1)
    assert "run import-opendata first" in error.reason


def test_slot_validity_is_kept(db_session: Session) -> None:
    seminar = catalogue_offers(db_session)["elternseminar-schulstart"]
    (slot,) = seminar.schedule
    assert (slot.valid_from, slot.valid_to) == (dt.date(2025, 10, 6), dt.date(2025, 10, 27))
