"""The City of Dortmund's open data: what is imported, twice, and what a bad file does."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from import_support import nothing_written, site_stamps
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.importers.opendata import import_opendata, source_ids
from mapservice.importers.records import ImportFailed
from mapservice.models import Area, Offer, Site
from mapservice.taxonomy import categories

# Innenstadt-Nord as PROVENANCE.md defines it (sub-district numbers, "ubznr").
INNENSTADT_NORD = {"041", "042", "043", "051", "052", "053", "054", "061", "062"}
SCHOOL_CATEGORIES = {"Grundschule": "primary_school_ogs", "Foerderschule": "further_help"}


def features(data_dir: Path, name: str) -> list[dict[str, Any]]:
    path = data_dir / "dortmund-opendata" / name
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def expected_counts(data_dir: Path, *, all_city: bool) -> Counter[str]:
    """Offers per category the open data should give, counted from the files."""
    wanted: Counter[str] = Counter()
    for name, category in (
        ("kindergarten.geojson", "day_care"),
        ("schools.geojson", None),
        ("youth_centers.geojson", "youth_centre"),
        ("playgrounds.geojson", "playground"),
    ):
        for feature in features(data_dir, name):
            props = feature["properties"]
            if not all_city and props["ubznr"] not in INNENSTADT_NORD:
                continue
            kind = category or SCHOOL_CATEGORIES.get(props["objektart"])
            if kind:
                wanted[kind] += 1
    return wanted


def opendata_counts(db_session: Session) -> Counter[str]:
    rows = db_session.execute(
        select(Offer.category, func.count())
        .where(Offer.source_dataset.startswith("dortmund-opendata/"))
        .group_by(Offer.category)
    )
    return Counter(dict(rows.tuples().all()))


def count(db_session: Session, model: Any, *conditions: Any) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def test_default_data_holds_innenstadt_nord(db_session: Session, data_dir: Path) -> None:
    assert opendata_counts(db_session) == expected_counts(data_dir, all_city=False)
    # One site per record, each with its one offer, all inside Innenstadt-Nord.
    sites = db_session.scalars(
        select(Site).where(Site.source_dataset.startswith("dortmund-opendata/"))
    ).all()
    assert len(sites) == sum(expected_counts(data_dir, all_city=False).values())
    assert {site.subdistrict_code for site in sites} <= INNENSTADT_NORD
    assert {site.source_licence for site in sites} == {"dl-de/zero-2.0, Stadt Dortmund"}


def test_offers_get_the_categorys_default_age_range(db_session: Session) -> None:
    offers = db_session.scalars(
        select(Offer).where(Offer.source_dataset.startswith("dortmund-opendata/"))
    ).all()
    taxonomy = categories()
    for offer in offers:
        default = taxonomy[offer.category]
        assert (offer.age_min_months, offer.age_max_months) == (
            default.min_months,
            default.max_months,
        )


def test_anchor_school_is_the_open_data_record(db_session: Session) -> None:
    school = db_session.scalars(
        select(Site).where(
            Site.source_dataset == "dortmund-opendata/schools.geojson",
            Site.name == "Grundschule Kleine Kielstraße",
        )
    ).one()
    assert school.source_id == "Grundschule|Grundschule Kleine Kielstraße|Kleine Kielstraße|20"
    assert school.address == "Kleine Kielstraße 20, Dortmund"
    assert school.is_anchor  # set by the catalogue, kept by the open-data import
    assert school.subdistrict_code == "052"
    datasets = {offer.source_dataset for offer in school.offers}
    assert datasets == {"dortmund-opendata/schools.geojson", "infamilie-catalogue"}


def test_subdistricts_and_quarter(db_session: Session, data_dir: Path) -> None:
    areas = features(data_dir, "do_data2024.geojson")
    assert count(db_session, Area, Area.kind == "subdistrict") == len(areas)
    borsigplatz = db_session.scalars(
        select(Area).where(Area.kind == "subdistrict", Area.code == "061")
    ).one()
    source = next(f["properties"] for f in areas if f["properties"]["unbeznr"] == "061")
    assert borsigplatz.name == source["Namen"]
    assert borsigplatz.share_children_0_6_pct == source["share_0_6_pct"]
    assert borsigplatz.share_children_6_18_pct == source["share_6_18_pct"]
    assert (
        borsigplatz.attributes["children_under_15_SGB_II_pct"]
        == (source["children_under_15_SGB_II_pct"])
    )
    assert borsigplatz.attributes["year"] == 2024

    quarter = db_session.scalars(
        select(Area).where(Area.kind == "quarter", Area.code == "brunnenstrasse-hannibal")
    ).one()
    assert "052" in quarter.attributes["approximation"]
    parts_area = db_session.scalar(
        select(func.sum(func.ST_Area(Area.geom))).where(
            Area.kind == "subdistrict", Area.code.in_(["052", "061"])
        )
    )
    quarter_area = db_session.scalar(select(func.ST_Area(quarter.geom)))
    assert quarter_area == pytest.approx(parts_area, rel=1e-3)
    # Both anchor sites lie in the quarter.
    inside = db_session.scalars(
        select(Site.name).where(Site.is_anchor, func.ST_Within(Site.geom, quarter.geom))
    ).all()
    assert len(inside) == 2


def test_import_twice_changes_nothing_and_never_duplicates(
    db_session: Session, data_dir: Path
) -> None:
    before = (count(db_session, Site), count(db_session, Offer), count(db_session, Area))
    with nothing_written(db_session):
        counts = import_opendata(db_session, data_dir)
    after = (count(db_session, Site), count(db_session, Offer), count(db_session, Area))
    assert after == before
    assert counts.created == counts.updated == counts.removed == {}
    expected = sum(expected_counts(data_dir, all_city=False).values())
    assert counts.unchanged["sites"] == counts.unchanged["offers"] == expected
    assert counts.unchanged["areas"] == count(db_session, Area)
    assert counts.summary().startswith("nothing changed (unchanged ")


def test_a_moved_record_updates_its_site_only(
    db_session: Session, data_dir: Path, tmp_path: Path
) -> None:
    records = features(data_dir, "kindergarten.geojson")
    moved = next(f for f in records if f["properties"]["ubznr"] in INNENSTADT_NORD)
    lon, lat = moved["geometry"]["coordinates"]
    moved["geometry"]["coordinates"] = [lon + 0.0005, lat]
    write_collection(tmp_path / "dortmund-opendata", "kindergarten.geojson", records)
    stamps = site_stamps(db_session)

    counts = import_opendata(db_session, tmp_path, files=["kindergarten.geojson"])
    assert counts.updated == {"sites": 1}
    assert counts.unchanged["offers"] == counts.unchanged["sites"] + 1
    (site_id,) = [key for key, stamp in site_stamps(db_session).items() if stamp != stamps[key]]
    site = db_session.get(Site, site_id)
    assert site is not None and site.name == moved["properties"]["objektname"]


def test_all_city(db_session: Session, data_dir: Path) -> None:
    counts = import_opendata(db_session, data_dir, all_city=True)
    assert opendata_counts(db_session) == expected_counts(data_dir, all_city=True)
    inner = sum(expected_counts(data_dir, all_city=False).values())
    assert counts.unchanged["sites"] == inner
    assert "sites" not in counts.updated
    assert counts.created["sites"] == sum(expected_counts(data_dir, all_city=True).values()) - inner


def test_ids_are_unique_even_for_twin_records(data_dir: Path) -> None:
    playgrounds = features(data_dir, "playgrounds.geojson")
    names = Counter(
        (f["properties"]["objektname"], f["properties"]["hausnummer"]) for f in playgrounds
    )
    assert max(names.values()) > 1  # the file has twins, e.g. two playgrounds "Kieferstraße"
    ids = source_ids(playgrounds)
    assert len(set(ids)) == len(playgrounds)
    assert ids == source_ids(playgrounds)  # stable


def write_collection(folder: Path, name: str, items: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection", "features": items}
    (folder / name).write_text(json.dumps(collection), encoding="utf-8")


def kita(name: str, lon: Any, lat: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "objektart": "Kindergarten",
            "objektname": name,
            "strasse": "Teststraße",
            "hausnummer": "1",
            "ort": "Dortmund",
            "ubznr": "052",
        }
        | props,
    }


def test_a_bad_file_is_refused_whole(db_session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "dortmund-opendata"
    write_collection(
        folder,
        "kindergarten.geojson",
        [
            kita("Kita Gut", 7.47, 51.52),
            kita("Kita Nordpol", 7.47, 200),
            kita(None, 7.47, 51.52, hausnummer="3"),
            {"type": "Feature", "geometry": None, "properties": {"objektname": "Ohne Ort"}},
            kita("Kita Zahl", "sieben", 51.52, hausnummer="5"),
        ],
    )
    sites_before = count(db_session, Site)
    with pytest.raises(ImportFailed) as excinfo:
        import_opendata(db_session, tmp_path, files=["kindergarten.geojson"])
    errors = [(error.row_number, error.reason) for error in excinfo.value.errors]
    assert errors == [
        (2, "lat 200 is outside -90..90"),
        (3, "objektname is missing"),
        (4, "geometry must be a Point, got None"),
        (5, "lon must be a number, got 'sieben'"),
    ]
    assert str(excinfo.value.errors[0]) == (
        "kindergarten.geojson feature 2: lat 200 is outside -90..90"
    )
    assert count(db_session, Site) == sites_before
    assert count(db_session, Site, Site.name == "Kita Gut") == 0


def test_malformed_json_names_the_line(db_session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "dortmund-opendata"
    folder.mkdir()
    (folder / "kindergarten.geojson").write_text('{"type": "FeatureCollection",\n "features": [\n')
    with pytest.raises(ImportFailed) as excinfo:
        import_opendata(db_session, tmp_path, files=["kindergarten.geojson"])
    (error,) = excinfo.value.errors
    assert error.unit == "line"
    assert error.row_number == 3
    assert error.reason.startswith("not valid JSON")


def test_a_record_gone_from_the_source_is_removed(
    db_session: Session, data_dir: Path, tmp_path: Path
) -> None:
    records = features(data_dir, "kindergarten.geojson")
    gone = next(f for f in records if f["properties"]["ubznr"] in INNENSTADT_NORD)
    write_collection(
        tmp_path / "dortmund-opendata",
        "kindergarten.geojson",
        [f for f in records if f is not gone],
    )
    counts = import_opendata(db_session, tmp_path, files=["kindergarten.geojson"])
    assert counts.removed == {"sites": 1}
    assert count(db_session, Site, Site.name == gone["properties"]["objektname"]) == (
        sum(
            1
            for f in records
            if f is not gone
            and f["properties"]["ubznr"] in INNENSTADT_NORD
            and f["properties"]["objektname"] == gone["properties"]["objektname"]
        )
    )
    assert opendata_counts(db_session)["day_care"] == (
        expected_counts(data_dir, all_city=False)["day_care"] - 1
    )
