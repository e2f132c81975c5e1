"""Coverage of grid cells by fitting offers, and the indicators built on it. Pure numpy.

For each cell and each (life phase, category): the walking minutes to the nearest fitting
active offer, and the number of fitting offers within 5 / 10 / 15 minutes. An offer fits a
phase when its age range overlaps the phase's (``age_min < phase_max`` and
``age_max > phase_min``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mapservice.planning.routing import Pairs
from mapservice.taxonomy import categories, phases

PLANNING_PHASES = ("0-2", "2-4", "4-6", "6-10")
THRESHOLDS_MIN = (5, 10, 15)
# Pairs of location and cell are kept up to this time: the largest threshold and the 2SFCA
# catchment. The minutes to the nearest offer beyond it come from one multi-source search
# per group of locations (see :meth:`mapservice.planning.routing.Router.nearest`).
PAIR_HORIZON_MIN = max(THRESHOLDS_MIN)

# Routed seconds per cell from the nearest of the given locations, or None when nothing
# beyond the pairs needs adding.
Nearest = Callable[[np.ndarray], "np.ndarray | None"]


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


def compute_coverage(
    pairs: Pairs,
    supply: Supply,
    n_cells: int,
    n_locations: int,
    combos: list[tuple[str, str]] | None = None,
    thresholds: tuple[int, ...] = THRESHOLDS_MIN,
    *,
    nearest: Nearest | None = None,
) -> Coverage:
    """Nearest fitting offer and counts within the thresholds, per combination and cell.

    ``pairs`` must hold every pair within the largest threshold; ``nearest`` (given the
    fitting locations) adds the routed time from the nearest of them where the pairs stop
    short of the horizon. Combinations with the same offers at the same locations (day care
    for 0–2 and 2–4 years, usually) are computed once.
    """
    combos = combos if combos is not None else phase_category_pairs(supply)
    minutes = np.full((len(combos), n_cells), np.nan)
    counts = np.zeros((len(combos), len(thresholds), n_cells), dtype=np.int32)
    estimated = np.zeros((len(combos), n_cells), dtype=bool)
    limits = np.array(thresholds, dtype=float) * 60.0
    done: dict[bytes, int] = {}
    for index, (phase, category) in enumerate(combos):
        fitting = supply.fits(phase, category)
        if not fitting.any():
            continue
        per_location = np.bincount(supply.loc[fitting], minlength=n_locations)
        key = per_location.tobytes()
        if key in done:
            same = done[key]
            minutes[index], counts[index] = minutes[same], counts[same]
            estimated[index] = estimated[same]
            continue
        done[key] = index
        weight = per_location[pairs.loc]
        use = weight > 0
        cell, seconds, weight = pairs.cell[use], pairs.seconds[use], weight[use]
        # The nearest per cell, routed and estimated apart (a tie counts as routed).
        best = np.full(n_cells, np.inf)
        best_estimate = np.full(n_cells, np.inf)
        guess = pairs.estimated[use]
        np.minimum.at(best, cell[~guess], seconds[~guess])
        np.minimum.at(best_estimate, cell[guess], seconds[guess])
        if nearest is not None:
            far = nearest(np.flatnonzero(per_location))
            if far is not None:
                np.minimum(best, far, out=best)
        estimated[index] = best_estimate < best
        np.minimum(best, best_estimate, out=best)
        minutes[index] = np.where(np.isfinite(best), best / 60.0, np.nan)
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
    phase_pos = [PLANNING_PHASES.index(phase) for phase, _category in coverage.combos]
    thresholds = np.array(coverage.thresholds, dtype=float)
    children = demand[phase_pos]  # (combos, cells)
    # nan (nothing within the horizon) is never within a threshold.
    within = coverage.minutes[:, None, :] <= thresholds[None, :, None]
    reached = children[:, None, :] * within  # (combos, thresholds, cells)
    if groups is None:
        total = children.sum(axis=1)[:, None]
        got = reached.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, got / total, np.nan)
    valid = groups >= 0
    group = groups[valid]
    total = np.stack(
        [np.bincount(group, weights=row[valid], minlength=n_groups) for row in children]
    )
    rows = reached[:, :, valid].reshape(-1, int(valid.sum()))
    offset = (np.arange(len(rows)) * n_groups)[:, None] + group[None, :]
    got = np.bincount(offset.ravel(), weights=rows.ravel(), minlength=len(rows) * n_groups)
    got = got.reshape(len(coverage.combos), len(coverage.thresholds), n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total[:, None, :] > 0, got / total[:, None, :], np.nan)


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
