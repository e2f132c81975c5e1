"""Migration 0008 (three-valued facts) on a database holding rows written the old way.

The whole chain runs in a schema of its own inside one transaction that is rolled back, so
the test database is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from mapservice.db import alembic_config

SCHEMA = "migration_0008_test"

# (source_dataset, source_id, category, age_min, age_max, languages, cost_free, registration)
OLD_ROWS = [
    (
        "dortmund-opendata/kindergarten.geojson",
        "Kita|Kita A|A-Straße|1",
        "day_care",
        4,
        72,
        "{}",
        True,
        False,
    ),
    (
        "dortmund-opendata/playgrounds.geojson",
        "Spielplatz|Spielplatz B||",
        "playground",
        12,
        168,
        "{}",
        True,
        False,
    ),
    (
        "dortmund-opendata/playgrounds.geojson",
        "Wasserspielplatz|Wasserspielplatz - Park||",
        "playground",
        12,
        168,
        "{}",
        True,
        False,
    ),
    (
        "dortmund-opendata/youth_centers.geojson",
        "JFS|JFS C|C-Straße|3",
        "youth_centre",
        72,
        216,
        "{}",
        True,
        False,
    ),
    (
        "dortmund-opendata/schools.geojson",
        "Foerderschule|Schule D|D-Straße|4",
        "further_help",
        72,
        216,
        "{}",
        True,
        False,
    ),
    ("osm:witten-stockum", "n1", "day_care", 4, 72, "{de}", False, False),  # fee=yes
    ("osm:witten-stockum", "n2", "day_care", 36, 72, "{de}", True, False),  # min_age=3
    ("infamilie-catalogue", "elterncafe", "parents_cafe", 24, 72, "{de,tr}", True, False),
    ("partner-export", "kurs-1", "day_care", 4, 72, "{de}", False, True),
]


@pytest.fixture
def old_database(engine: Engine) -> Iterator[tuple[Connection, Any]]:
    """A connection whose search path holds a fresh schema migrated to 0007."""
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        conn.execute(text(f"SET LOCAL search_path TO {SCHEMA}, public"))
        # An empty version table of its own, else Alembic finds public's through the path.
        conn.execute(text(f"CREATE TABLE {SCHEMA}.alembic_version (version_num varchar(32))"))
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        site = conn.execute(
            text(
                "INSERT INTO site (name, geom, is_anchor, wheelchair, source_dataset, source_id, "
                "location_approximate) VALUES ('Ort', ST_SetSRID(ST_MakePoint(7.47, 51.52), 4326), "
                "false, 'unknown', 'test', 'site-1', false) RETURNING id"
            )
        ).scalar_one()
        for dataset, source_id, category, low, high, languages, free, registration in OLD_ROWS:
            conn.execute(
                text(
                    "INSERT INTO offer (title, category, age_min_months, age_max_months, "
                    "languages, cost_free, registration_required, status, translations, "
                    "site_id, is_example, source_dataset, source_id) VALUES (:title, :category, "
                    ":low, :high, CAST(:languages AS varchar[]), :free, :registration, 'active', "
                    "'{}', :site, false, :dataset, :source_id)"
                ),
                {
                    "title": source_id,
                    "category": category,
                    "low": low,
                    "high": high,
                    "languages": languages,
                    "free": free,
                    "registration": registration,
                    "site": site,
                    "dataset": dataset,
                    "source_id": source_id,
                },
            )
        yield conn, config
        transaction.rollback()


def _offers(conn: Connection, columns: str) -> dict[str, tuple[Any, ...]]:
    rows = conn.execute(text(f"SELECT source_id, {columns} FROM offer ORDER BY id"))
    return {row[0]: tuple(row[1:]) for row in rows}


def _version(conn: Connection) -> int:
    return int(conn.execute(text("SELECT n FROM data_version WHERE id = 1")).scalar_one())


def test_upgrade_turns_importer_defaults_into_not_known_and_keeps_what_sources_said(
    old_database,
):
    conn, config = old_database
    before = _version(conn)
    command.upgrade(config, "0008")
    after = _offers(
        conn,
        "cost_free, registration_required, taxonomy_facts, languages, age_min_months",
    )
    assert after == {
        # Open data said nothing: unknown, except the taxonomy's facts (recorded as such).
        "Kita|Kita A|A-Straße|1": (None, True, ["registration_required"], [], 0),
        "Spielplatz|Spielplatz B||": (True, False, ["cost_free", "registration_required"], [], 12),
        "Wasserspielplatz|Wasserspielplatz - Park||": (None, None, [], [], 12),
        "JFS|JFS C|C-Straße|3": (None, None, [], [], 72),
        "Foerderschule|Schule D|D-Straße|4": (None, True, ["registration_required"], [], 72),
        # OSM: fee=yes was a real statement; "de" for every place was invented.
        "n1": (False, True, ["registration_required"], [], 0),
        "n2": (None, True, ["registration_required"], [], 36),
        # The network's catalogue and an exchange import stated their values: kept.
        "elterncafe": (True, False, [], ["de", "tr"], 24),
        "kurs-1": (False, True, [], ["de"], 4),
    }
    assert _version(conn) > before, "the data-version trigger fired for the migration"

    bumped = _version(conn)
    conn.execute(text("UPDATE offer SET cost_free = NULL WHERE source_id = 'elterncafe'"))
    assert _version(conn) > bumped, "the trigger still fires on the new nullable column"
    nullable = dict(
        conn.execute(
            text(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_schema = :schema AND table_name = 'offer' "
                "AND column_name IN ('cost_free', 'registration_required')"
            ),
            {"schema": SCHEMA},
        ).all()
    )
    assert nullable == {"cost_free": "YES", "registration_required": "YES"}


def test_taxonomy_facts_hold_only_known_field_names(old_database):
    conn, config = old_database
    command.upgrade(config, "0008")
    with pytest.raises(IntegrityError, match="offer_taxonomy_facts"), conn.begin_nested():
        conn.execute(text("UPDATE offer SET taxonomy_facts = '{wheelchair}'"))


def test_downgrade_gives_the_old_schema_back(old_database):
    conn, config = old_database
    command.upgrade(config, "0008")
    command.downgrade(config, "0007")
    after = _offers(conn, "cost_free, registration_required, languages, age_min_months")
    # The old schema cannot say "not known", so it gets its old defaults; what sources and
    # the taxonomy stated is kept.
    assert after["Kita|Kita A|A-Straße|1"] == (True, True, [], 4)
    assert after["Wasserspielplatz|Wasserspielplatz - Park||"] == (True, False, [], 12)
    assert after["n1"] == (False, True, ["de"], 4)
    assert after["elterncafe"] == (True, False, ["de", "tr"], 24)
    assert after["kurs-1"] == (False, True, ["de"], 4)
    columns = conn.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = :schema AND table_name = 'offer' "
            "AND column_name = 'taxonomy_facts'"
        ),
        {"schema": SCHEMA},
    ).all()
    assert columns == []
