"""Importer for the City of Dortmund's open data (``<DATA_DIR>/dortmund-opendata/``).

What becomes what
-----------------
Every point record becomes a :class:`~mapservice.models.Site` with exactly one
:class:`~mapservice.models.Offer` whose category and age range follow the file:

================================  =====================  ===============================
file / ``objektart``              category               age range (months, max excl.)
================================  =====================  ===============================
kindergarten.geojson (all kinds)  ``day_care``           0–72 (from birth to school)
schools.geojson ``Grundschule``   ``primary_school_ogs`` 72–120 (6 to 10 years)
schools.geojson ``Foerderschule`` ``further_help``       72–216 (special-needs schools)
youth_centers.geojson             ``youth_centre``       72–216 (6 to 18 years)
playgrounds.geojson (all kinds)   ``playground``         12–168 (1 to 14 years)
================================  =====================  ===============================

The ranges are the taxonomy's defaults (``data/taxonomy.toml``, where each range's
reason is given; day care starts at 0: no law sets a lower bound). The files say nothing
about cost, registration or languages: cost and registration stay *not known* unless the
taxonomy states a rule for the category (a day-care place and a school place need
registration; a public ``Spielplatz`` is free and open to all), applied with the record's
``objektart`` and marked as the taxonomy's; languages stay empty (not known). Secondary schools
(Hauptschule, Realschule, Gymnasium, Gesamtschule), ``SchuleSonstiges`` and the
traffic school are *skipped*: the network's life-phase model ends with the primary
school and "further help from 6", and a secondary school is not an offer a family
looks for on this map. Special-needs schools (Förderschulen) are kept as
``further_help`` because they are support for children from six.

Record ids
----------
The files have no id field, so the ``source_id`` is built from the record:
``objektart|objektname|strasse|hausnummer`` (missing parts empty), e.g.
``Grundschule|Grundschule Kleine Kielstraße|Kleine Kielstraße|20``. Where two records
of one file share that key (two playgrounds "Kieferstraße" without house number),
each gets ``|E<ostwert>N<hochwert>`` appended (EPSG:25832 metres, rounded), which
is stable as long as the city does not move the point. Uniqueness is decided over
the whole file, so the id is the same for a district import and a city import.
``source_dataset`` is ``dortmund-opendata/<file name>``.

Scope
-----
By default only Innenstadt-Nord (sub-districts 041–043, 051–054, 061–062 by
``ubznr``) is imported; ``all_city=True`` imports all of Dortmund. The 170
statistical sub-districts of ``do_data2024.geojson`` are always imported as
``Area(kind="subdistrict")``: they are the frame of reference (city averages) for
the planners' views. The quarter Brunnenstraße/Hannibalviertel is stored as
``Area(kind="quarter", code="brunnenstrasse-hannibal")``, approximated by the union
of the sub-districts 052 (Nordmarkt-Südost) and 061 (Borsigplatz) in which it lies
(PROVENANCE.md); its real boundary is smaller.

Records that vanished from a file (their id is no longer in it) are deleted with
their offers on the next import of that file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.ops import unary_union
from sqlalchemy.orm import Session

from mapservice.importers import records as r
from mapservice.importers.records import (
    AreaRecord,
    Batch,
    ErrorCollector,
    ImportCounts,
    ImportFailed,
    OfferRecord,
    RowError,
    RowInvalid,
    SiteRecord,
)
from mapservice.importers.store import write_batch
from mapservice.taxonomy import categories

FOLDER = "dortmund-opendata"
DATASET_PREFIX = "dortmund-opendata/"
LICENCE = "dl-de/zero-2.0, Stadt Dortmund"
INNENSTADT_NORD = ("041", "042", "043", "051", "052", "053", "054", "061", "062")
QUARTER_CODE = "brunnenstrasse-hannibal"
QUARTER_NAME = "Brunnenstraße / Hannibalviertel"
QUARTER_SUBDISTRICTS = ("052", "061")
AREA_FILE = "do_data2024.geojson"
AREA_YEAR = 2024
# Properties of the area file that are bookkeeping or repeat the name/code.
_AREA_SKIP = {"bezeichnun", "unbeznr", "rowid", "upload_am", "Schlüssel", "Namen"}


@dataclass(frozen=True)
class PointFile:
    """How the records of one point file map to categories (None: skip the record)."""

    name: str
    default_category: str | None
    category_by_kind: Mapping[str, str | None]


POINT_FILES: tuple[PointFile, ...] = (
    PointFile("kindergarten.geojson", "day_care", {}),
    PointFile(
        "schools.geojson",
        None,
        {"Grundschule": "primary_school_ogs", "Foerderschule": "further_help"},
    ),
    PointFile("youth_centers.geojson", "youth_centre", {}),
    PointFile("playgrounds.geojson", "playground", {}),
)
ALL_FILES: tuple[str, ...] = (AREA_FILE, *(spec.name for spec in POINT_FILES))


def opendata_folder(data_dir: str | Path) -> Path:
    """``<data_dir>/dortmund-opendata``, or ``data_dir`` itself if it is that folder."""
    path = Path(data_dir)
    return path / FOLDER if (path / FOLDER).is_dir() else path


def base_source_id(props: Mapping[str, Any]) -> str:
    parts = (props.get(key) for key in ("objektart", "objektname", "strasse", "hausnummer"))
    return "|".join(str(part).strip() if part is not None else "" for part in parts)


def source_ids(features: Sequence[Mapping[str, Any]]) -> list[str]:
    """Stable ids for all features of a file (see the module docstring)."""
    bases = [base_source_id(feature.get("properties") or {}) for feature in features]
    seen = Counter(bases)
    ids = []
    for base, feature in zip(bases, features, strict=True):
        if seen[base] > 1:
            props = feature.get("properties") or {}
            try:
                east = round(float(props["ostwert"]))
                north = round(float(props["hochwert"]))
                base = f"{base}|E{east}N{north}"
            except (KeyError, TypeError, ValueError):
                coords = (feature.get("geometry") or {}).get("coordinates") or ["", ""]
                base = f"{base}|{coords[0]},{coords[1]}"
        ids.append(base)
    return ids


def read_features(path: Path, errors: ErrorCollector) -> list[dict[str, Any]] | None:
    """The features of a GeoJSON FeatureCollection, or None (with an error) if unreadable."""
    if not path.is_file():
        errors.add(None, f"file {path} is missing")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        errors.add(None, f"not UTF-8 text: {exc}")
        return None
    except json.JSONDecodeError as exc:
        errors.errors.append(
            RowError(exc.lineno, f"not valid JSON: {exc.msg}", "line", errors.source)
        )
        return None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        errors.add(None, "not a GeoJSON FeatureCollection")
        return None
    features = data.get("features")
    if not isinstance(features, list):
        errors.add(None, "a FeatureCollection needs a list of features")
        return None
    return features


def _point_records(
    spec: PointFile, features: list[dict[str, Any]], errors: ErrorCollector, all_city: bool
) -> tuple[list[SiteRecord], list[OfferRecord], set[str], int]:
    """Sites and offers of one point file; also all its ids and the count of skipped rows."""
    dataset = DATASET_PREFIX + spec.name
    ids = source_ids([f if isinstance(f, dict) else {} for f in features])
    sites: list[SiteRecord] = []
    offers: list[OfferRecord] = []
    skipped = 0
    taxonomy = categories()
    for number, (feature, source_id) in enumerate(zip(features, ids, strict=True), start=1):
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise RowInvalid("not a GeoJSON Feature")
            props = feature.get("properties") or {}
            geometry = feature.get("geometry") or {}
            if geometry.get("type") != "Point":
                raise RowInvalid(f"geometry must be a Point, got {geometry.get('type')!r}")
            point = geometry.get("coordinates") or []
            if not isinstance(point, list) or len(point) < 2:
                raise RowInvalid("a Point needs [lon, lat] coordinates")
            lon, lat = r.coordinates(point[0], point[1])
            name = r.required_text(props.get("objektname"), "objektname")
            kind = r.text(props.get("objektart"), "objektart", max_length=60)
            subdistrict = r.required_text(props.get("ubznr"), "ubznr", max_length=10)
            category = spec.category_by_kind.get(kind or "", spec.default_category)
            if category is not None:
                category = r.category(category)
            extra = r.text(props.get("objektzusa"), "objektzusa")
            site = SiteRecord(
                source_dataset=dataset,
                source_id=r.required_text(source_id, "source id", max_length=200),
                name=name,
                lon=lon,
                lat=lat,
                street=r.text(props.get("strasse"), "strasse", max_length=200),
                house_number=r.text(props.get("hausnummer"), "hausnummer", max_length=20),
                city=r.text(props.get("ort"), "ort", max_length=100),
                subdistrict_code=subdistrict,
                source_licence=LICENCE,
            )
            contact = "\n".join(
                part
                for part in (
                    r.text(props.get("p_email"), "p_email"),
                    r.text(props.get("link"), "link", max_length=500),
                )
                if part
            )
        except RowInvalid as exc:
            errors.add(number, str(exc))
            continue
        if category is None or (not all_city and subdistrict not in INNENSTADT_NORD):
            skipped += category is None
            continue
        default = taxonomy[category]
        sites.append(site)
        offers.append(
            OfferRecord(
                source_dataset=dataset,
                source_id=site.source_id,
                title=f"{name} – {extra}" if extra else name,
                description=r.text(props.get("i_beschr"), "i_beschr", max_length=5000),
                category=category,
                age_min_months=default.min_months,
                age_max_months=default.max_months,
                contact=contact or None,
                site_key=site.key,
                # The files say nothing about cost or registration: those stay not known,
                # unless the taxonomy has a rule for this kind of record.
                source_kind=kind,
            )
        )
    return sites, offers, set(ids), skipped


def _area_records(features: list[dict[str, Any]], errors: ErrorCollector) -> list[AreaRecord]:
    areas: list[AreaRecord] = []
    dataset = DATASET_PREFIX + AREA_FILE
    for number, feature in enumerate(features, start=1):
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise RowInvalid("not a GeoJSON Feature")
            props = feature.get("properties") or {}
            try:
                geometry = shape(feature.get("geometry") or {})
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise RowInvalid(f"geometry is not valid GeoJSON: {exc}") from None
            geom = r.multipolygon(geometry, "sub-district")
            code = r.required_text(props.get("unbeznr"), "unbeznr", max_length=10)
            shares = []
            for key in ("share_0_6_pct", "share_6_18_pct"):
                value = props.get(key)
                share = None if value is None else r.number(value, key)
                if share is not None and not 0 <= share <= 100:
                    raise RowInvalid(f"{key} {share:g} is outside 0..100")
                shares.append(share)
            attributes = {
                key: value
                for key, value in props.items()
                if key not in _AREA_SKIP and key not in ("share_0_6_pct", "share_6_18_pct")
            }
            attributes |= {"year": AREA_YEAR, "source": dataset, "licence": LICENCE}
            areas.append(
                AreaRecord(
                    kind="subdistrict",
                    code=code,
                    name=r.required_text(
                        props.get("Namen") or props.get("bezeichnun"), "Namen", max_length=200
                    ),
                    geom=geom,
                    source_dataset=dataset,
                    share_children_0_6_pct=shares[0],
                    share_children_6_18_pct=shares[1],
                    attributes=attributes,
                )
            )
        except RowInvalid as exc:
            errors.add(number, str(exc))
    return areas


def quarter_record(subdistricts: Sequence[AreaRecord]) -> AreaRecord | None:
    """The quarter as the union of its sub-districts, or None if one is missing."""
    parts = {area.code: area for area in subdistricts if area.code in QUARTER_SUBDISTRICTS}
    if len(parts) != len(QUARTER_SUBDISTRICTS):
        return None
    union = unary_union([parts[code].geom for code in QUARTER_SUBDISTRICTS])
    return AreaRecord(
        kind="quarter",
        code=QUARTER_CODE,
        name=QUARTER_NAME,
        geom=r.multipolygon(union, "quarter"),
        source_dataset=DATASET_PREFIX + AREA_FILE,
        attributes={
            "approximation": (
                "union of the statistical sub-districts 052 Nordmarkt-Südost and 061 "
                "Borsigplatz, in which the quarter lies; the quarter itself is smaller"
            ),
            "subdistricts": list(QUARTER_SUBDISTRICTS),
        },
    )


def read_opendata(
    data_dir: str | Path, *, all_city: bool = False, files: Sequence[str] = ALL_FILES
) -> Batch:
    """Parse and check the files; raise :class:`ImportFailed` listing every bad record."""
    folder = opendata_folder(data_dir)
    batch = Batch()
    all_errors: list[RowError] = []
    for name in files:
        errors = ErrorCollector(unit="feature", source=name)
        features = read_features(folder / name, errors)
        if features is not None:
            if name == AREA_FILE:
                batch.areas.extend(_area_records(features, errors))
                quarter = quarter_record(batch.areas)
                if quarter is not None:
                    batch.areas.append(quarter)
            else:
                spec = next((spec for spec in POINT_FILES if spec.name == name), None)
                if spec is None:
                    raise ValueError(f"no import rule for {name}; known: {', '.join(ALL_FILES)}")
                sites, offers, ids, _skipped = _point_records(spec, features, errors, all_city)
                batch.sites.extend(sites)
                batch.offers.extend(offers)
                batch.complete_datasets[DATASET_PREFIX + name] = ids
        all_errors.extend(errors.errors)
    if all_errors:
        raise ImportFailed(all_errors)
    return batch


def import_opendata(
    session: Session,
    data_dir: str | Path,
    *,
    all_city: bool = False,
    files: Sequence[str] = ALL_FILES,
    progress: bool = False,
) -> ImportCounts:
    """Import the open data (see the module docstring); all or nothing."""
    batch = read_opendata(data_dir, all_city=all_city, files=files)
    return write_batch(session, batch, progress=progress, label="open data")
