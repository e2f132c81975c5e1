"""The what-if: coverage with a scenario's changes applied (hypothetical offers added, real
ones moved or removed), and its difference to the real state.

Only the scenario's new points are searched from; everything else comes from the area's
cached :class:`~mapservice.planning.results.PlanningBase`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from pyproj import Transformer

from mapservice.models import METRIC_SRID, WGS84, HypotheticalOffer, Scenario
from mapservice.planning.coverage import (
    PLANNING_PHASES,
    Supply,
    compute_coverage,
    phase_category_pairs,
)
from mapservice.planning.results import PlanningBase, PlanningResult
from mapservice.planning.routing import Pairs

TO_METRIC = Transformer.from_crs(WGS84, METRIC_SRID, always_xy=True)


@dataclass(frozen=True)
class Change:
    """A scenario's change in plain values (see :class:`mapservice.models.HypotheticalOffer`)."""

    id: int
    action: str
    category: str
    age_min_months: int
    age_max_months: int
    capacity: int | None
    replaces_offer_id: int | None
    x: float | None  # EPSG:25832
    y: float | None


def changes_of(scenario: Scenario) -> list[Change]:
    """The scenario's changes with their points in EPSG:25832."""
    from_points = [change for change in scenario.changes if change.geom is not None]
    points = [to_shape(c.geom) for c in from_points if c.geom is not None]
    lon = np.array([shapely.get_x(p) for p in points], dtype=float)
    lat = np.array([shapely.get_y(p) for p in points], dtype=float)
    xs, ys = _to_metric(lon, lat)
    at = {c.id: (float(x), float(y)) for c, x, y in zip(from_points, xs, ys, strict=True)}
    return [_change(c, at.get(c.id)) for c in scenario.changes]


def _to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = TO_METRIC.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _change(c: HypotheticalOffer, xy: tuple[float, float] | None) -> Change:
    return Change(
        id=c.id,
        action=c.action,
        category=c.category,
        age_min_months=c.age_min_months,
        age_max_months=c.age_max_months,
        capacity=c.capacity,
        replaces_offer_id=c.replaces_offer_id,
        x=xy[0] if xy else None,
        y=xy[1] if xy else None,
    )


def apply_changes(base: PlanningBase, changes: list[Change]) -> PlanningResult:
    """Coverage with the changes: removed/moved offers taken out, new points searched from."""
    removed = np.array(
        [c.replaces_offer_id for c in changes if c.action in ("remove", "move")], dtype=np.int64
    )
    keep = ~np.isin(base.supply.offer_id, removed)
    placed = [c for c in changes if c.action in ("add", "move") and c.x is not None]
    first = base.n_locations
    new_x = np.array([c.x for c in placed], dtype=float)
    new_y = np.array([c.y for c in placed], dtype=float)
    extra = base.router.pairs(new_x, new_y, base.grid.x, base.grid.y, base.cell_snap).shifted(first)
    supply = Supply(
        loc=np.concatenate([base.supply.loc[keep], first + np.arange(len(placed))]),
        category=np.concatenate(
            [base.supply.category[keep], np.array([c.category for c in placed], dtype=object)]
        ),
        age_min=np.concatenate(
            [base.supply.age_min[keep], np.array([c.age_min_months for c in placed], np.int64)]
        ),
        age_max=np.concatenate(
            [base.supply.age_max[keep], np.array([c.age_max_months for c in placed], np.int64)]
        ),
        capacity=np.concatenate(
            [
                base.supply.capacity[keep],
                np.array([np.nan if c.capacity is None else c.capacity for c in placed], float),
            ]
        ),
        offer_id=np.concatenate(
            [base.supply.offer_id[keep], np.array([-c.id for c in placed], np.int64)]
        ),
    )
    pairs = Pairs.concat([base.pairs, extra]) if len(extra) else base.pairs
    n_locations = first + len(placed)
    combos = phase_category_pairs(base.supply)
    for combo in phase_category_pairs(supply):
        if combo not in combos:
            combos.append(combo)
    coverage = compute_coverage(
        pairs, supply, len(base.grid), n_locations, combos, nearest=base.nearest
    )
    return PlanningResult(base, supply, pairs, n_locations, coverage)


@dataclass(frozen=True)
class Delta:
    """Scenario minus real state, per combination."""

    combos: list[tuple[str, str]]
    minutes: np.ndarray  # (combos, cells): change of minutes to the nearest; nan = unchanged/none
    newly_within: np.ndarray  # (combos, thresholds, cells) int: +1 gained, -1 lost
    shares: np.ndarray  # (combos, thresholds) change of the share of children within
    children_gained: np.ndarray  # (combos, thresholds)


def delta(before: PlanningResult, after: PlanningResult) -> Delta:
    combos = after.coverage.combos
    index = [before.coverage.combos.index(c) if c in before.coverage.combos else -1 for c in combos]
    n = len(before.grid)
    shape = (len(combos), n)
    old_minutes = np.full(shape, np.nan)
    old_shares = np.zeros((len(combos), len(after.coverage.thresholds)))
    before_shares = before.shares()
    for i, j in enumerate(index):
        if j >= 0:
            old_minutes[i] = before.coverage.minutes[j]
            old_shares[i] = np.nan_to_num(before_shares[j])
    horizon = after.base.router.horizon_s / 60.0
    old = np.nan_to_num(old_minutes, nan=horizon)
    new = np.nan_to_num(after.coverage.minutes, nan=horizon)
    change = new - old
    minutes = np.where(np.abs(change) > 1e-9, change, np.nan)
    thresholds = np.array(after.coverage.thresholds, dtype=float)
    gained = (new[:, None, :] <= thresholds[None, :, None]).astype(np.int8) - (
        old[:, None, :] <= thresholds[None, :, None]
    ).astype(np.int8)
    phase_pos = [PLANNING_PHASES.index(phase) for phase, _c in combos]
    children = after.base.demand[phase_pos]  # (combos, cells)
    children_gained = (gained * children[:, None, :]).sum(axis=2)
    shares = np.nan_to_num(after.shares()) - old_shares
    return Delta(combos, minutes, gained, shares, children_gained)
