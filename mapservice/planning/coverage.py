"""Coverage of grid cells by fitting offers, and the indicators built on it. Pure numpy.

For each cell and each (life phase, category): the walking minutes to the nearest fitting
active offer, and the number of fitting offers within 5 / 10 / 15 minutes. An offer fits a
phase when its age range overlaps the phase's (``age_min < phase_max`` and
``age_max > phase_min``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mapservice.planning.routing import Pairs
from mapservice.taxonomy import categories, phases

PLANNING_PHASES = ("0-2", "2-4", "4-6", "6-10")
THRESHOLDS_MIN = (5, 10, 15)


@dataclass(frozen=True)
class Supply:
    """Offers by the location they are reached at (a site, a hypothetical point…)."""

    loc: np.ndarray  # location index per offer
    category: np.ndarray  # category key per offer (object array of str)
    age_min: np.ndarray  # months
    age_max: np.ndarray
    capacity: np.ndarray  # float, nan where unknown
    offer_id: np.ndarray  # database id; negative for hypothetical offers

    def __len__(self) -> int:
        return len(self.loc)

    def fits(self, phase: str, category: str) -> np.ndarray:
        span = phases()[phase]
        return (
            (self.category == category)
            & (self.age_min < span.max_months)
            & (self.age_max > span.min_months)
        )


def phase_category_pairs(supply: Supply) -> list[tuple[str, str]]:
    """(phase, category) combinations worth showing: the category's usual age range meets the
    phase (so a missing offer shows as a gap), or some offer fits."""
    combos = []
    for phase in PLANNING_PHASES:
        span = phases()[phase]
        for key, category in categories().items():
            usual = category.min_months < span.max_months and category.max_months > span.min_months
            if usual or supply.fits(phase, key).any():
                combos.append((phase, key))
    return combos


@dataclass(frozen=True)
class Coverage:
    """Per (phase, category) combination and cell."""

    combos: list[tuple[str, str]]
    minutes: np.ndarray  # (combos, cells) float; nan = nothing within the horizon
    counts: np.ndarray  # (combos, thresholds, cells) int32
    estimated: np.ndarray  # (combos, cells) bool: the nearest offer's time is an estimate
    thresholds: tuple[int, ...] = THRESHOLDS_MIN

    def combo_index(self, phase: str, category: str) -> int:
        try:
            return self.combos.index((phase, category))
        except ValueError:
            raise KeyError(f"no coverage for phase {phase!r} and category {category!r}") from None

    def threshold_index(self, minutes: int) -> int:
        return self.thresholds.index(minutes)

    def within(self, minutes: float) -> np.ndarray:
        """(combos, cells) bool: a fitting offer within ``minutes``."""
        return np.nan_to_num(self.minutes, nan=np.inf) <= minutes


def sort_pairs(pairs: Pairs) -> Pairs:
    """Pairs ordered by cell, then seconds: the first per cell is its nearest."""
    order = np.lexsort((pairs.seconds, pairs.cell))
    return Pairs(pairs.loc[order], pairs.cell[order], pairs.seconds[order], pairs.estimated[order])


def compute_coverage(
    pairs: Pairs,
    supply: Supply,
    n_cells: int,
    n_locations: int,
    combos: list[tuple[str, str]] | None = None,
    thresholds: tuple[int, ...] = THRESHOLDS_MIN,
    *,
    presorted: bool = False,
) -> Coverage:
    """Nearest fitting offer and counts within the thresholds, per combination and cell."""
    combos = combos if combos is not None else phase_category_pairs(supply)
    pairs = pairs if presorted else sort_pairs(pairs)
    minutes = np.full((len(combos), n_cells), np.nan)
    counts = np.zeros((len(combos), len(thresholds), n_cells), dtype=np.int32)
    estimated = np.zeros((len(combos), n_cells), dtype=bool)
    limits = np.array(thresholds, dtype=float) * 60.0
    for index, (phase, category) in enumerate(combos):
        fitting = supply.fits(phase, category)
        if not fitting.any():
            continue
        per_location = np.bincount(supply.loc[fitting], minlength=n_locations)
        weight = per_location[pairs.loc]
        use = weight > 0
        if not use.any():
            continue
        cell, seconds, weight = pairs.cell[use], pairs.seconds[use], weight[use]
        first = np.ones(len(cell), dtype=bool)
        first[1:] = cell[1:] != cell[:-1]
        minutes[index, cell[first]] = seconds[first] / 60.0
        estimated[index, cell[first]] = pairs.estimated[use][first]
        for t, limit in enumerate(limits):
            inside = seconds <= limit
            counts[index, t] = np.bincount(cell[inside], weights=weight[inside], minlength=n_cells)
    return Coverage(combos, minutes, counts, estimated, thresholds)


def share_within(
    coverage: Coverage, demand: np.ndarray, groups: np.ndarray | None = None, n_groups: int = 0
) -> np.ndarray:
    """Share of children within each threshold.

    ``demand`` is (phases, cells) in the order of :data:`PLANNING_PHASES`. Returns
    (combos, thresholds) for the whole area, or (combos, thresholds, groups) when ``groups``
    gives a group index per cell (-1 for none). nan where a group has no children.
    """
    phase_pos = {phase: i for i, phase in enumerate(PLANNING_PHASES)}
    shape = (len(coverage.combos), len(coverage.thresholds))
    result = np.full((*shape, n_groups) if groups is not None else shape, np.nan)
    for index, (phase, _category) in enumerate(coverage.combos):
        children = demand[phase_pos[phase]]
        for t, limit in enumerate(coverage.thresholds):
            reached = children * (np.nan_to_num(coverage.minutes[index], nan=np.inf) <= limit)
            if groups is None:
                total = children.sum()
                result[index, t] = reached.sum() / total if total > 0 else np.nan
            else:
                valid = groups >= 0
                total = np.bincount(groups[valid], weights=children[valid], minlength=n_groups)
                got = np.bincount(groups[valid], weights=reached[valid], minlength=n_groups)
                with np.errstate(invalid="ignore", divide="ignore"):
                    result[index, t] = np.where(total > 0, got / total, np.nan)
    return result


@dataclass(frozen=True)
class Gap:
    cell: int
    children: float
    minutes: float | None  # to the nearest fitting offer, None beyond the horizon


def gap_cells(
    coverage: Coverage, demand: np.ndarray, phase: str, category: str, minutes: float, limit: int
) -> list[Gap]:
    """Cells with the most children of ``phase`` and no fitting offer within ``minutes``."""
    index = coverage.combo_index(phase, category)
    children = demand[PLANNING_PHASES.index(phase)]
    nearest = coverage.minutes[index]
    lacking = ~(np.nan_to_num(nearest, nan=np.inf) <= minutes) & (children > 0)
    cells = np.flatnonzero(lacking)
    ranked = cells[np.argsort(-children[cells], kind="stable")][:limit]
    return [
        Gap(
            int(cell),
            float(children[cell]),
            None if np.isnan(nearest[cell]) else float(nearest[cell]),
        )
        for cell in ranked
    ]
