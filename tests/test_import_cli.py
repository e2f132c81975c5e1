"""The importer commands as a user runs them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mapservice.importers.exchange.format import COLUMNS
from mapservice.models import Offer


def offer_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Offer)) or 0


def test_export_then_import_reports_nothing_changed(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = tmp_path / "offers.csv"
    result = runner.invoke(args=["export", str(path)])
    assert result.exit_code == 0, result.output
    assert "Exported" in result.stdout
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))

    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    offers = sum(1 for row in rows if row["offer_id"])
    assert f"nothing changed (unchanged {offers} offers, " in result.stdout


def test_export_geojson_by_option(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "offers.txt"
    result = app.test_cli_runner().invoke(args=["export", str(path), "--format", "geojson"])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8").startswith('{\n "type": "FeatureCollection"')


def test_bad_rows_go_to_stderr_with_exit_status(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    cells = {
        "offer_dataset": "cli-test",
        "offer_id": "o1",
        "title": "Test",
        "category": "playground",
        "age_min_months": "12",
        "age_max_months": "168",
        "site_dataset": "cli-test",
        "site_id": "s1",
        "site_name": "Spielplatz",
        "lon": "7.47",
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow([(cells | {"lat": "51.52"}).get(name, "") for name in COLUMNS])
    writer.writerow([(cells | {"offer_id": "o2", "lat": "200"}).get(name, "") for name in COLUMNS])
    path = tmp_path / "bad.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    before = offer_count(db_session)

    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "bad.csv row 2: lat 200 is outside -90..90" in result.stderr
    assert "nothing was written" in result.stderr
    assert offer_count(db_session) == before


def test_unknown_extension_is_a_usage_error(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "offers.xlsx"
    path.write_text("x", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 2
    assert "use .geojson or .csv" in result.stderr


def test_import_catalogue_and_opendata(app: Flask, data_dir: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-catalogue"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Catalogue imported: nothing changed (unchanged ")
    result = runner.invoke(args=["import-opendata", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "Open data imported: nothing changed (unchanged " in result.stdout


def test_import_opendata_with_a_broken_file(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "dortmund-opendata"
    folder.mkdir()
    (folder / "kindergarten.geojson").write_text("not json", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-opendata", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "kindergarten.geojson line 1: not valid JSON" in result.stderr
    assert "do_data2024.geojson: file" in result.stderr  # missing files are named too


def test_load_default_data(app: Flask, db_session: Session) -> None:
    before = offer_count(db_session)
    result = app.test_cli_runner().invoke(args=["load-default-data"])
    assert result.exit_code == 0, result.output
    assert "Open data (Innenstadt-Nord): nothing changed" in result.stdout
    assert offer_count(db_session) == before
