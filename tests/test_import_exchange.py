"""GeoJSON and CSV exchange: export, import back, nothing lost; bad files refused whole."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from import_support import data_version, nothing_written, site_stamps
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mapservice.importers.exchange.export import export_file
from mapservice.importers.exchange.format import COLUMNS
from mapservice.importers.exchange.read import import_file
from mapservice.importers.records import (
    ImportCounts,
    ImportFailed,
    SlotRecord,
    format_schedule_text,
    parse_schedule_text,
)
from mapservice.models import Offer, Provider, Site
from mapservice.taxonomy import CATEGORY_KEYS
from mapservice.walking.precompute import refresh_stale_reach


def count(db_session: Session, model: type) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def wipe(db_session: Session) -> None:
    """Remove every site, offer and provider (inside the test's transaction)."""
    db_session.execute(delete(Offer))
    db_session.execute(delete(Site))
    db_session.execute(delete(Provider))
    db_session.expunge_all()


@pytest.mark.parametrize("suffix", [".geojson", ".csv"])
def test_round_trip_loses_nothing(db_session: Session, tmp_path: Path, suffix: str) -> None:
    first = tmp_path / f"first{suffix}"
    second = tmp_path / f"second{suffix}"
    written = export_file(db_session, first)
    offers, sites, providers = (
        count(db_session, Offer),
        count(db_session, Site),
        count(db_session, Provider),
    )
    assert written >= offers > 0

    wipe(db_session)
    assert count(db_session, Offer) == 0
    counts = import_file(db_session, first)
    assert counts.created["offers"] == offers
    assert counts.created["sites"] == sites
    assert (count(db_session, Offer), count(db_session, Site)) == (offers, sites)
    assert count(db_session, Provider) == providers

    export_file(db_session, second)
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")


def test_geojson_export_carries_all_offer_fields(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "all.geojson"
    export_file(db_session, path)
    collection = json.loads(path.read_text(encoding="utf-8"))
    by_id = {f["properties"]["offer_id"]: f for f in collection["features"]}
    visit = by_id["willkommensbesuch"]
    assert visit["geometry"]["type"] == "MultiPolygon"  # comes home: the service area
    assert visit["properties"]["site_id"] is None
    assert visit["properties"]["translations"]["tr"]["title"]
    assert visit["properties"]["provider_kind"] == "city"
    kinderstube = by_id["kinderstube"]
    assert kinderstube["geometry"]["type"] == "Point"
    assert [slot["weekday"] for slot in kinderstube["properties"]["schedule"]] == [
        "mon",
        "tue",
        "wed",
        "thu",
    ]
    assert kinderstube["properties"]["is_anchor"] is True
    assert kinderstube["properties"]["location_approximate"] is True


def test_csv_export_encodes_schedule_as_text(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "all.csv"
    export_file(db_session, path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    language = next(row for row in rows if row["offer_id"] == "sprachfoerderung")
    assert language["schedule"] == (
        "tue 14:30-15:30 (2025-08-18..2026-07-03); thu 14:30-15:30 (2025-08-18..2026-07-03)"
    )
    assert language["languages"] == "de"
    assert language["cost_free"] == "true"
    assert float(language["lat"]) == pytest.approx(51.5246)


def test_import_twice_never_duplicates(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "all.csv"
    export_file(db_session, path)
    before = count(db_session, Offer), count(db_session, Site)
    first = import_file(db_session, path)
    second = import_file(db_session, path)
    assert (count(db_session, Offer), count(db_session, Site)) == before
    assert first.created == second.created == {}
    assert first.updated == second.updated == {}
    assert first.unchanged == second.unchanged
    assert first.unchanged["offers"] == before[0]


@pytest.mark.parametrize("suffix", [".geojson", ".csv"])
def test_reimporting_an_export_writes_nothing(
    db_session: Session, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"all{suffix}"
    export_file(db_session, path)
    with nothing_written(db_session):
        counts = import_file(db_session, path)
    assert counts.summary().startswith("nothing changed (unchanged ")
    assert counts.unchanged["offers"] == count(db_session, Offer)
    assert counts.unchanged["sites"] == count(db_session, Site)


def exported_rows(db_session: Session, path: Path) -> list[dict[str, str]]:
    export_file(db_session, path)
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.mark.parametrize(
    ("offer_id", "column", "value"),
    [
        pytest.param("kinderstube", "title", "Kinderstube am Vormittag", id="title"),
        pytest.param("kinderstube", "capacity", "12", id="capacity"),
        pytest.param(
            "sprachfoerderung",
            "schedule",
            "tue 14:30-15:30 (2025-08-18..2026-07-03)",
            id="schedule",
        ),
        pytest.param("willkommensbesuch", "languages", "de;tr", id="languages"),
        pytest.param(
            "willkommensbesuch",
            "translations",
            '{"en": {"title": "Welcome visit"}}',
            id="translations",
        ),
        pytest.param(
            "willkommensbesuch",
            "service_area",
            "MULTIPOLYGON (((7.46 51.52, 7.48 51.52, 7.48 51.53, 7.46 51.53, 7.46 51.52)))",
            id="service-area",
        ),
    ],
)
def test_an_edited_row_updates_that_offer_only(
    db_session: Session, tmp_path: Path, offer_id: str, column: str, value: str
) -> None:
    path = tmp_path / "edited.csv"
    rows = exported_rows(db_session, path)
    (row,) = [row for row in rows if row["offer_id"] == offer_id]
    assert row[column] != value
    row[column] = value
    write_rows(path, rows)
    version, stamps = data_version(db_session), site_stamps(db_session)

    counts = import_file(db_session, path)
    assert counts.created == counts.removed == {}
    assert counts.updated == {"offers": 1}
    assert counts.unchanged["offers"] == sum(1 for row in rows if row["offer_id"]) - 1
    assert counts.summary().startswith("updated 1 offers; unchanged ")
    assert data_version(db_session) != version  # the offer snapshot will be rebuilt
    # No site changed, so no walking times need recomputing.
    assert site_stamps(db_session) == stamps
    assert refresh_stale_reach(db_session) is None


def test_a_moved_site_is_updated_and_its_walking_times_refreshed(
    db_session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "moved.csv"
    rows = exported_rows(db_session, path)
    key = next(
        (row["site_dataset"], row["site_id"]) for row in rows if row["offer_id"] == "kinderstube"
    )
    for row in rows:
        if (row["site_dataset"], row["site_id"]) == key:  # every row of the site must agree
            row["lat"] = repr(float(row["lat"]) + 0.0005)
    write_rows(path, rows)
    stamps = site_stamps(db_session)

    counts = import_file(db_session, path)
    assert counts.created == {}
    assert counts.updated == {"sites": 1}
    site = db_session.scalars(
        select(Site).where(Site.source_dataset == key[0], Site.source_id == key[1])
    ).one()
    assert [id_ for id_, stamp in site_stamps(db_session).items() if stamp != stamps[id_]] == [
        site.id
    ]
    refreshed = refresh_stale_reach(db_session)
    assert refreshed is not None and refreshed.sites == 1


def test_counts_summary_reads_naturally() -> None:
    counts = ImportCounts()
    assert counts.summary() == "nothing changed"
    counts.add("unchanged", "sites", 96)
    counts.add("unchanged", "offers", 94)
    assert counts.summary() == "nothing changed (unchanged 94 offers, 96 sites)"
    counts.add("updated", "offers", 2)
    assert counts.summary() == "updated 2 offers; unchanged 94 offers, 96 sites"


HEADER = ",".join(COLUMNS)


def csv_row(**values: str) -> str:
    base = {
        "offer_dataset": "test-exchange",
        "title": "Testangebot",
        "category": "parents_cafe",
        "age_min_months": "24",
        "age_max_months": "72",
        "site_dataset": "test-exchange",
        "site_name": "Testort",
        "lon": "7.47",
        "lat": "51.52",
    }
    cells = base | values
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([cells.get(name, "") for name in COLUMNS])
    return buffer.getvalue()


def test_a_bad_csv_is_refused_whole(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "\n"
        + csv_row(offer_id="good", site_id="s1")
        + csv_row(offer_id="north-pole", site_id="s2", lat="200")
        + csv_row(offer_id="disco", site_id="s1", category="disco")
        + csv_row(offer_id="backwards", site_id="s1", age_min_months="30", age_max_months="20")
        + csv_row(offer_id="too-old", site_id="s1", age_max_months="217")
        + csv_row(offer_id="day", site_id="s1", schedule="mon 09:00-11:00; xyz 10:00-11:00")
        + csv_row(offer_id="time", site_id="s1", schedule="tue 10:00-09:00")
        + csv_row(offer_id="lang", site_id="s1", languages="deutsch"),
        encoding="utf-8",
    )
    offers_before = count(db_session, Offer)
    with pytest.raises(ImportFailed) as excinfo:
        import_file(db_session, path)
    errors = [(error.row_number, error.reason) for error in excinfo.value.errors]
    assert errors == [
        (2, "lat 200 is outside -90..90"),
        (3, "unknown category 'disco'; known: " + ", ".join(CATEGORY_KEYS)),
        (4, "age_min_months 30 must be less than age_max_months 20"),
        (5, "age range 24–217 months is outside 0–216"),
        (6, "weekday 'xyz' is not one of mon, tue, wed, thu, fri, sat, sun"),
        (7, "slot tue 10:00-09:00 ends before it starts"),
        (8, "language 'deutsch' is not a two-letter ISO 639-1 code"),
    ]
    assert str(excinfo.value.errors[0]) == "bad.csv row 2: lat 200 is outside -90..90"
    assert count(db_session, Offer) == offers_before
    assert not db_session.scalars(select(Site).where(Site.source_dataset == "test-exchange")).all()


def test_a_good_csv_is_imported(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text(
        HEADER
        + "\n"
        + csv_row(
            offer_id="cafe",
            site_id="s1",
            schedule="mon 09:00-11:00; wed 14:00-16:00 (2025-01-01..)",
            languages="de;tr",
            provider_name="Testverein Exchange",
            provider_kind="club",
            translations='{"en": {"title": "Test café"}}',
        ),
        encoding="utf-8",
    )
    counts = import_file(db_session, path)
    assert counts.created == {"offers": 1, "sites": 1, "providers": 1}
    offer = db_session.scalars(select(Offer).where(Offer.source_dataset == "test-exchange")).one()
    assert offer.languages == ["de", "tr"]
    assert offer.provider is not None and offer.provider.kind == "club"
    assert offer.translations == {"en": {"title": "Test café"}}
    assert [(s.weekday, s.start_time, s.valid_from) for s in offer.schedule] == [
        (0, dt.time(9), None),
        (2, dt.time(14), dt.date(2025, 1, 1)),
    ]


def test_malformed_csv_quoting(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + '\ntest,"unterminated\n', encoding="utf-8")
    with pytest.raises(ImportFailed) as excinfo:
        import_file(db_session, path)
    (error,) = excinfo.value.errors
    assert error.unit == "line"
    assert "malformed CSV" in error.reason


def test_unknown_csv_column(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "columns.csv"
    path.write_text(HEADER + ",colour\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as excinfo:
        import_file(db_session, path)
    assert excinfo.value.errors[0].reason == "unknown column(s) colour"


def test_a_bad_geojson_is_refused_whole(db_session: Session, tmp_path: Path) -> None:
    def feature(lon: float, lat: float, **properties: object) -> dict[str, object]:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "offer_dataset": "test-exchange",
                "title": "Test",
                "category": "playground",
                "age_min_months": 12,
                "age_max_months": 168,
                "site_dataset": "test-exchange",
                "site_name": "Spielplatz",
            }
            | properties,
        }

    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature(7.47, 51.52, offer_id="ok", site_id="a"),
                    feature(7.47, 51.52, offer_id="no-title", site_id="b", title=""),
                    feature(7.47, 51.52, offer_id="slot", site_id="c", schedule=[{"weekday": 8}]),
                    feature(500, 51.52, offer_id="far", site_id="d"),
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as excinfo:
        import_file(db_session, path)
    errors = [(error.unit, error.row_number, error.reason) for error in excinfo.value.errors]
    assert errors == [
        ("feature", 2, "title is missing"),
        ("feature", 3, "weekday 8 is not one of mon, tue, wed, thu, fri, sat, sun"),
        ("feature", 4, "lon 500 is outside -180..180"),
    ]
    assert not db_session.scalars(select(Site).where(Site.source_dataset == "test-exchange")).all()


def test_malformed_json_names_the_line(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{\n "type": "FeatureCollection",\n "features": [,]\n}', encoding="utf-8")
    with pytest.raises(ImportFailed) as excinfo:
        import_file(db_session, path)
    (error,) = excinfo.value.errors
    assert (error.unit, error.row_number) == ("line", 3)


slots = st.builds(
    lambda day, start, length, valid_from, days: SlotRecord(
        weekday=day,
        start=dt.time(start // 60, start % 60),
        end=dt.time((start + length) // 60, (start + length) % 60),
        valid_from=valid_from,
        valid_to=valid_from + dt.timedelta(days=days) if valid_from and days is not None else None,
    ),
    st.integers(0, 6),
    st.integers(0, 22 * 60),
    st.integers(1, 60),
    st.none() | st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    st.none() | st.integers(0, 400),
)


@given(st.lists(slots, max_size=6))
def test_schedule_text_round_trip(items: list[SlotRecord]) -> None:
    assert parse_schedule_text(format_schedule_text(items)) == tuple(items)
