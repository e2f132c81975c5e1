"""Routed against estimated: what walking along the real paths changes for an area.

The same grid, demand and offers, once with the walking networks and once with the estimate
alone (straight line × detour factor at the profile's speed), so a planner sees how far the
estimate was off — in the Nordstadt mostly across the railway tracks. Free of Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from mapservice.planning.build import build_base
from mapservice.planning.report import indicator_rows
from mapservice.planning.results import PlanningResult, coverage_result
from mapservice.planning.whatif import delta
from mapservice.walking.profiles import WalkSettings

# A change in the minutes to the nearest offer above this counts as "changed".
CHANGE_MIN = 5.0


@dataclass(frozen=True)
class ComboComparison:
    """One (phase, category): children, shares within the thresholds, cells that changed."""

    phase: str
    category: str
    children: float
    thresholds: tuple[int, ...]
    estimated_shares: tuple[float | None, ...]
    routed_shares: tuple[float | None, ...]
    changed_cells: int  # nearest offer's minutes differ by more than CHANGE_MIN


@dataclass(frozen=True)
class Comparison:
    area_name: str
    cells: int
    routed_cells: int  # cells on a walking network
    changed_cells: int  # for any combination
    combos: list[ComboComparison]


def compare_estimate(
    session: Session, area_key: str, settings: WalkSettings, profile_key: str
) -> Comparison:
    """Indicators of ``area_key`` estimated and routed, and the cells whose nearest offer
    moved by more than :data:`CHANGE_MIN` minutes (or came within or fell out of the
    walking horizon)."""
    routed = coverage_result(build_base(session, area_key, settings, profile_key))
    estimated = coverage_result(build_base(session, area_key, settings, profile_key, routed=False))
    changed = _changed(estimated, routed)
    rows_routed = indicator_rows(routed)
    rows_estimated = {(row["phase"], row["category"]): row for row in indicator_rows(estimated)}
    combos = []
    for index, row in enumerate(rows_routed):
        before = rows_estimated[(row["phase"], row["category"])]
        combos.append(
            ComboComparison(
                phase=row["phase"],
                category=row["category"],
                children=row["children"],
                thresholds=tuple(row["thresholds_min"]),
                estimated_shares=tuple(before["shares"]),
                routed_shares=tuple(row["shares"]),
                changed_cells=int(changed[index].sum()),
            )
        )
    base = routed.base
    return Comparison(
        area_name=base.area_name,
        cells=len(base.grid),
        routed_cells=int((~base.estimated_cells).sum()),
        changed_cells=int(changed.any(axis=0).sum()),
        combos=combos,
    )


def _changed(estimated: PlanningResult, routed: PlanningResult) -> np.ndarray:
    """(combos, cells): the nearest offer's minutes moved by more than CHANGE_MIN (nothing
    within the horizon counts as the horizon itself, as in the what-if delta)."""
    change = delta(estimated, routed).minutes
    return np.abs(np.nan_to_num(change, nan=0.0)) > CHANGE_MIN
