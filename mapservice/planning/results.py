"""What planning an area yields: :class:`PlanningBase`, everything about the area that does
not depend on a scenario (grid, demand, offers, walking times), and :class:`PlanningResult`,
the coverage over it of the real offers (:func:`coverage_result`) or of a scenario's (see
:mod:`mapservice.planning.whatif`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mapservice.planning.coverage import (
    PAIR_HORIZON_MIN,
    Coverage,
    Supply,
    compute_coverage,
    phase_category_pairs,
    share_within,
)
from mapservice.planning.demand import SubdistrictFacts
from mapservice.planning.grid import Grid
from mapservice.planning.routing import Pairs, Reach, Router, Snap
from mapservice.planning.twostep import SupplyDemand, supply_demand

NEAREST_CACHE = 64  # groups of sites whose nearest-offer search is kept per area


@dataclass
class PlanningBase:
    """Everything about an area that does not depend on a scenario."""

    area_key: str
    area_name: str
    profile: str
    grid: Grid
    cell_group: np.ndarray  # sub-district position per cell, -1 outside all
    subdistricts: list[SubdistrictFacts]
    demand: np.ndarray  # (phases, cells)
    demand_source: str
    router: Router
    cell_snap: Snap
    loc_x: np.ndarray
    loc_y: np.ndarray
    supply: Supply
    pairs: Pairs  # every pair within PAIR_HORIZON_MIN (estimated ones: the whole horizon)
    n_locations: int
    offer_titles: dict[int, str]
    timings: dict[str, float] = field(default_factory=dict)
    # Routed seconds per cell from the nearest of a group of sites, by the group (see
    # :meth:`nearest`); None where the pairs already hold every cell's nearest.
    _nearest: dict[bytes, np.ndarray | None] = field(default_factory=dict, repr=False)

    @property
    def estimated_cells(self) -> np.ndarray:
        """Cells no walking network reaches: all their times are estimates."""
        return self.cell_snap.network < 0

    def nearest(self, locations: np.ndarray) -> np.ndarray | None:
        """Routed seconds per cell from the nearest of ``locations`` (inf: none within the
        horizon), for the minutes beyond the pairs' horizon; None when there is nothing to
        add. Only the sites are searched from: service areas and a scenario's new points
        are in the pairs up to the whole horizon."""
        sites = np.unique(locations[locations < len(self.loc_x)])
        key = sites.tobytes()
        if key not in self._nearest:
            if len(self._nearest) >= NEAREST_CACHE:  # what-if groups: keep the newest few
                self._nearest.pop(next(iter(self._nearest)))
            self._nearest[key] = self._search_nearest([sites])[0]
        return self._nearest[key]

    def search_beyond_pairs(self, groups: list[np.ndarray], reach: Reach | None = None) -> None:
        """Search once for the nearest site of every group, together; skip the groups whose
        every cell on a network already has a routed pair (so its nearest). ``reach`` (from
        :meth:`Router.search` with these groups) lets wide groups start from its border."""
        routed = ~self.pairs.estimated & (self.pairs.loc < len(self.loc_x))
        on_network = self.cell_snap.network >= 0
        needed: list[int] = []
        for row, sites in enumerate(groups):
            key = sites.tobytes()
            if key in self._nearest:
                continue
            reached = np.zeros(len(self.grid), dtype=bool)
            reached[self.pairs.cell[routed & np.isin(self.pairs.loc, sites)]] = True
            if not len(sites) or not (on_network & ~reached).any():
                self._nearest[key] = None
            else:
                needed.append(row)
        if not needed or not self.router.networks:
            for row in needed:
                self._nearest[groups[row].tobytes()] = None
            return
        found = self.router.nearest(
            self.loc_x,
            self.loc_y,
            [groups[row] for row in needed],
            self.cell_snap,
            reach,
            needed if reach is not None else None,
        )
        for row, seconds in zip(needed, found, strict=True):
            self._nearest[groups[row].tobytes()] = seconds

    def _search_nearest(self, groups: list[np.ndarray]) -> list[np.ndarray | None]:
        if not self.router.networks or not groups:
            return [None] * len(groups)
        found = self.router.nearest(self.loc_x, self.loc_y, groups, self.cell_snap)
        return list(found)


@dataclass
class PlanningResult:
    base: PlanningBase
    supply: Supply
    pairs: Pairs
    n_locations: int
    coverage: Coverage
    scenario_id: int | None = None
    _fca: dict[tuple[str, int], SupplyDemand] = field(default_factory=dict)

    @property
    def grid(self) -> Grid:
        return self.base.grid

    @property
    def demand(self) -> np.ndarray:
        return self.base.demand

    def shares(self) -> np.ndarray:
        """(combos, thresholds): share of the phase's children within the time."""
        return share_within(self.coverage, self.base.demand)

    def shares_by_subdistrict(self) -> np.ndarray:
        """(combos, thresholds, sub-districts)."""
        return share_within(
            self.coverage, self.base.demand, self.base.cell_group, len(self.base.subdistricts)
        )

    def supply_demand(self, category: str, catchment_min: int) -> SupplyDemand:
        if catchment_min > PAIR_HORIZON_MIN:
            raise ValueError(f"the pairs reach {PAIR_HORIZON_MIN} minutes, not {catchment_min}")
        key = (category, catchment_min)
        if key not in self._fca:
            self._fca[key] = supply_demand(
                self.pairs, self.supply, self.base.demand, category, catchment_min
            )
        return self._fca[key]

    def cell_estimated(self, combo: int) -> np.ndarray:
        """Cells whose value is an estimate: off the network, or the nearest offer is."""
        return self.base.estimated_cells | self.coverage.estimated[combo]


def coverage_result(base: PlanningBase) -> PlanningResult:
    combos = phase_category_pairs(base.supply)
    coverage = compute_coverage(
        base.pairs,
        base.supply,
        len(base.grid),
        base.n_locations,
        combos,
        nearest=base.nearest,
    )
    return PlanningResult(base, base.supply, base.pairs, base.n_locations, coverage)
