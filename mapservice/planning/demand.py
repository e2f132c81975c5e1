"""Children per grid cell: estimated from the sub-districts, or imported from a census grid.

Estimate
--------
The city publishes per sub-district the share of residents aged 0–6 and 6–18 (percent) and the
density of residents per hectare of *residential* land, but no absolute counts and no land use.
A 100 m cell is one hectare, so a cell is given ``k × density`` residents, where ``k`` is the
(unknown) residential share of the land, taken the same everywhere and calibrated so that the
cells of Innenstadt-Nord (sub-districts 041–043, 051–054, 061–062) add up to its known
~61,000 residents. With the 2024 data ``k`` ≈ 0.276; applied city-wide this gives ~533,000
residents against ~600,000 actually living in Dortmund (about −11 %). Children:
0–6 = residents × share_0_6, split evenly into 0–2, 2–4, 4–6 (one third each);
6–10 = residents × share_6_18 × 4/12 (four of the twelve years).

Limits: every cell of a sub-district gets the same number of children, parks, rail yards and
industry included (Westfalenhütte is mostly industry), and cells just outside the residential
blocks get children they do not have; one residential share for the whole city; shares from
the city's 2024 figures as typed in by the source repository. Use the results per sub-district
and for ranking cells, not as head counts of a block.

Census grid
-----------
Where a planner has a census 100 m grid with age groups, :func:`import_census_csv` loads it and
it replaces the estimate for every cell of an area it covers (cells without a census row have
no children). CSV layout (``;`` or ``,``, UTF-8):

* the cell: ``GITTER_ID_100m`` (Zensus style ``CRS3035RES100mN2689100E4337000``, lower-left
  corner in EPSG:3035), or ``x_mp_100m`` and ``y_mp_100m`` (the centre in EPSG:3035);
* children: ``age_0_2``, ``age_2_4``, ``age_4_6``, ``age_6_10``. Suppressed values (``–``,
  ``-``, ``.``, empty) count as 0 and are reported.

Each census cell is mapped onto the planners' grid by its centre (the two grids differ in
CRS, so now and then two census cells fall into one planners' cell and are added up).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyproj import Transformer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mapservice.models import METRIC_SRID, CensusCell
from mapservice.planning.coverage import PLANNING_PHASES
from mapservice.planning.grid import Grid, snap_corner

CALIBRATION_CODES = ("041", "042", "043", "051", "052", "053", "054", "061", "062")
CALIBRATION_RESIDENTS = 61_000  # Innenstadt-Nord, see PROVENANCE.md
# The calibrated value with the 2024 data; used when the calibration sub-districts are absent.
DEFAULT_RESIDENTIAL_SHARE = 0.276
AGE_COLUMNS = ("age_0_2", "age_2_4", "age_4_6", "age_6_10")
SUPPRESSED = {"", "-", "–", ".", "x", "X"}
ZENSUS_ID = re.compile(r"^CRS3035RES100mN(?P<n>\d+)E(?P<e>\d+)$")
FROM_LAEA = Transformer.from_crs(3035, METRIC_SRID, always_xy=True)


@dataclass(frozen=True)
class SubdistrictFacts:
    code: str
    name: str
    share_0_6_pct: float | None
    share_6_18_pct: float | None
    density_per_ha: float | None  # residents per hectare of residential land
    area_ha: float


def density_from_attributes(attributes: Mapping[str, Any]) -> float | None:
    """``population_density_ha_abs`` wherever the importer put it (top level or nested)."""
    for key, value in attributes.items():
        if key == "population_density_ha_abs" and isinstance(value, int | float):
            return float(value)
        if isinstance(value, Mapping):
            found = density_from_attributes(value)
            if found is not None:
                return found
    return None


def residential_share(subdistricts: Sequence[SubdistrictFacts]) -> tuple[float, bool]:
    """(k, calibrated): k from Innenstadt-Nord when all its sub-districts are known."""
    by_code = {s.code: s for s in subdistricts}
    chosen = [by_code.get(code) for code in CALIBRATION_CODES]
    if all(s is not None and s.density_per_ha for s in chosen):
        total = sum(s.density_per_ha * s.area_ha for s in chosen if s and s.density_per_ha)
        if total > 0:
            return CALIBRATION_RESIDENTS / total, True
    return DEFAULT_RESIDENTIAL_SHARE, False


def estimate_demand(
    grid: Grid, cell_group: np.ndarray, subdistricts: Sequence[SubdistrictFacts], k: float
) -> np.ndarray:
    """Children per phase and cell, (phases, cells), from the sub-districts' figures."""
    cell_ha = (grid.size / 100.0) ** 2
    residents_by_group = np.array(
        [k * (s.density_per_ha or 0.0) * cell_ha for s in subdistricts] + [0.0]
    )
    young = np.array([(s.share_0_6_pct or 0.0) / 100.0 for s in subdistricts] + [0.0])
    school = np.array([(s.share_6_18_pct or 0.0) / 100.0 for s in subdistricts] + [0.0])
    group = np.where(cell_group >= 0, cell_group, len(subdistricts))
    residents = residents_by_group[group]
    per_year_young = residents * young[group] / 6.0
    per_year_school = residents * school[group] / 12.0
    demand = np.zeros((len(PLANNING_PHASES), len(grid)))
    demand[0] = demand[1] = demand[2] = 2 * per_year_young
    demand[3] = 4 * per_year_school
    return demand


def census_demand(session: Session, grid: Grid) -> tuple[np.ndarray, str] | None:
    """Children per phase and cell from the census dataset covering most of the grid."""
    if not len(grid):
        return None
    box = (
        CensusCell.cell_e.between(int(grid.e.min()), int(grid.e.max())),
        CensusCell.cell_n.between(int(grid.n.min()), int(grid.n.max())),
    )
    best = session.execute(
        select(CensusCell.dataset, func.count(), func.max(CensusCell.id))
        .where(*box)
        .group_by(CensusCell.dataset)
        .order_by(func.count().desc(), func.max(CensusCell.id).desc())
        .limit(1)
    ).first()
    if best is None:
        return None
    rows = session.execute(
        select(
            CensusCell.cell_e,
            CensusCell.cell_n,
            CensusCell.age_0_2,
            CensusCell.age_2_4,
            CensusCell.age_4_6,
            CensusCell.age_6_10,
        ).where(CensusCell.dataset == best[0], *box)
    ).all()
    data = np.array(rows, dtype=float).reshape(-1, 6)
    position = grid.index_of(data[:, 0].astype(np.int64), data[:, 1].astype(np.int64))
    inside = position >= 0
    if not inside.any():
        return None
    demand = np.zeros((len(PLANNING_PHASES), len(grid)))
    for phase in range(len(PLANNING_PHASES)):
        np.add.at(demand[phase], position[inside], data[inside, 2 + phase])
    return demand, str(best[0])


class CensusFormatError(ValueError):
    """The census file does not follow the documented layout."""


@dataclass(frozen=True)
class CensusImport:
    dataset: str
    rows: int
    cells: int
    suppressed_values: int
    children: float


def _number(raw: str, line: int, column: str) -> tuple[float, bool]:
    text = raw.strip()
    if text in SUPPRESSED:
        return 0.0, True
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise CensusFormatError(
            f"line {line}, column {column}: {text[:20]!r} is not a number"
        ) from None
    if value < 0 or not np.isfinite(value):
        raise CensusFormatError(f"line {line}, column {column}: negative or not finite")
    return value, False


def parse_census_csv(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], int]:
    """(centre x, centre y in EPSG:3035, counts (rows, 4), source ids, suppressed values)."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [column for column in AGE_COLUMNS if column not in header]
    by_id = "GITTER_ID_100m" in header
    by_xy = "x_mp_100m" in header and "y_mp_100m" in header
    if missing or not (by_id or by_xy):
        raise CensusFormatError(
            "expected columns GITTER_ID_100m (or x_mp_100m and y_mp_100m) and "
            f"{', '.join(AGE_COLUMNS)}; missing: {', '.join(missing) or 'the cell columns'}"
        )
    xs, ys, counts, ids = [], [], [], []
    suppressed = 0
    for line, row in enumerate(reader, start=2):
        if by_id and (row.get("GITTER_ID_100m") or "").strip():
            cell_id = (row["GITTER_ID_100m"] or "").strip()
            match = ZENSUS_ID.match(cell_id)
            if not match:
                raise CensusFormatError(
                    f"line {line}: cell id {cell_id[:40]!r} is not Zensus-style"
                )
            x, y = float(match["e"]) + 50.0, float(match["n"]) + 50.0
        elif by_xy:
            x, _ = _number(row.get("x_mp_100m") or "", line, "x_mp_100m")
            y, _ = _number(row.get("y_mp_100m") or "", line, "y_mp_100m")
            cell_id = f"CRS3035RES100mN{int(y - 50)}E{int(x - 50)}"
        else:
            raise CensusFormatError(f"line {line}: no cell id")
        values = []
        for column in AGE_COLUMNS:
            value, was_suppressed = _number(row.get(column) or "", line, column)
            suppressed += was_suppressed
            values.append(value)
        xs.append(x)
        ys.append(y)
        counts.append(values)
        ids.append(cell_id)
    if not ids:
        raise CensusFormatError("the file has no data rows")
    return np.array(xs), np.array(ys), np.array(counts).reshape(-1, 4), ids, suppressed


def import_census_csv(session: Session, text: str, dataset: str) -> CensusImport:
    """Replace the census dataset ``dataset`` with the cells of a CSV file (see module doc)."""
    if not dataset.strip() or len(dataset) > 100:
        raise CensusFormatError("the dataset name must have 1 to 100 characters")
    x, y, counts, ids, suppressed = parse_census_csv(text)
    east, north = FROM_LAEA.transform(x, y)
    e, n = snap_corner(np.asarray(east)), snap_corner(np.asarray(north))
    keys = e * 100_000_000 + n
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.zeros((len(unique), 4))
    np.add.at(summed, inverse, counts)
    first_id = {int(i): ids[pos] for pos, i in reversed(list(enumerate(inverse)))}
    session.execute(delete(CensusCell).where(CensusCell.dataset == dataset))
    session.add_all(
        CensusCell(
            dataset=dataset,
            source_id=first_id[i],
            cell_e=int(key // 100_000_000),
            cell_n=int(key % 100_000_000),
            age_0_2=float(summed[i, 0]),
            age_2_4=float(summed[i, 1]),
            age_4_6=float(summed[i, 2]),
            age_6_10=float(summed[i, 3]),
        )
        for i, key in enumerate(unique.tolist())
    )
    session.flush()
    return CensusImport(dataset, len(ids), len(unique), suppressed, float(counts.sum()))
