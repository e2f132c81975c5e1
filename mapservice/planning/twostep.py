"""Supply against demand: the two-step floating catchment area method (2SFCA).

Luo & Wang (2003): step 1, each offer's ratio R_j = capacity_j / children within the catchment
of j; step 2, each cell's accessibility A_i = sum of R_j over the offers within the catchment of
i, i.e. places per child. Computed with PySAL's ``access`` package (binary catchment, walking
seconds as cost). Only offers with a known capacity take part; the result says how many
were left out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from access import Access

from mapservice.planning.coverage import PLANNING_PHASES, Supply
from mapservice.planning.routing import Pairs
from mapservice.taxonomy import categories, phases


def category_phases(category: str) -> list[int]:
    """Positions in :data:`PLANNING_PHASES` whose children the category usually serves."""
    span = categories()[category]
    return [
        i
        for i, key in enumerate(PLANNING_PHASES)
        if span.min_months < phases()[key].max_months and span.max_months > phases()[key].min_months
    ]


def two_step_fca(
    demand: np.ndarray, supply_capacity: np.ndarray, cost: pd.DataFrame, max_cost: float
) -> np.ndarray:
    """Places per child for each demand cell.

    Parameters
    ----------
    demand
        Children per cell.
    supply_capacity
        Places per supply point.
    cost
        Columns ``cell``, ``supply``, ``seconds`` (positions into the two arrays).
    max_cost
        The catchment in the same unit as ``seconds``.
    """
    if not len(supply_capacity) or not len(demand):
        return np.zeros(len(demand))
    demand_df = pd.DataFrame({"cell": np.arange(len(demand)), "children": demand})
    supply_df = pd.DataFrame({"supply": np.arange(len(supply_capacity)), "places": supply_capacity})
    with warnings.catch_warnings():
        # access 1.1 still uses pandas' ``inplace=True``, deprecated in pandas 3.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model = Access(
            demand_df=demand_df,
            demand_index="cell",
            demand_value="children",
            supply_df=supply_df,
            supply_index="supply",
            supply_value="places",
            cost_df=cost,
            cost_origin="cell",
            cost_dest="supply",
            cost_name="seconds",
        )
        result = model.two_stage_fca(name="fca", max_cost=max_cost)
    column = result.columns[0]
    values = result[column].reindex(np.arange(len(demand))).to_numpy(dtype=float)
    return np.nan_to_num(values, nan=0.0)


@dataclass(frozen=True)
class SupplyDemand:
    """2SFCA per category: places per child, per cell and summarised."""

    category: str
    catchment_min: int
    per_cell: np.ndarray  # places per child
    children: np.ndarray  # the demand the category serves, per cell
    offers_with_capacity: int
    offers_without_capacity: int

    def weighted_mean(self, groups: np.ndarray | None = None, n_groups: int = 0) -> np.ndarray:
        """Demand-weighted mean places per child (for the area, or per group)."""
        weighted = self.per_cell * self.children
        if groups is None:
            total = self.children.sum()
            return np.array(weighted.sum() / total if total > 0 else np.nan)
        valid = groups >= 0
        total = np.bincount(groups[valid], weights=self.children[valid], minlength=n_groups)
        got = np.bincount(groups[valid], weights=weighted[valid], minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, got / total, np.nan)


def supply_demand(
    pairs: Pairs, supply: Supply, demand: np.ndarray, category: str, catchment_min: int
) -> SupplyDemand:
    """2SFCA for one category; demand is (phases, cells)."""
    children = demand[category_phases(category)].sum(axis=0)
    of_category = supply.category == category
    known = of_category & ~np.isnan(supply.capacity)
    offers = np.flatnonzero(known)
    # Offers → their locations' pairs: one cost row per (cell, offer) within the catchment.
    limit = catchment_min * 60.0
    near = pairs.seconds <= limit
    loc, cell, seconds = pairs.loc[near], pairs.cell[near], pairs.seconds[near]
    order = np.argsort(loc, kind="stable")
    loc, cell, seconds = loc[order], cell[order], seconds[order]
    rows_cell, rows_supply, rows_seconds = [], [], []
    for position, offer in enumerate(offers):
        lo, hi = (
            np.searchsorted(loc, supply.loc[offer], "left"),
            np.searchsorted(loc, supply.loc[offer], "right"),
        )
        rows_cell.append(cell[lo:hi])
        rows_supply.append(np.full(hi - lo, position))
        rows_seconds.append(seconds[lo:hi])
    cost = pd.DataFrame(
        {
            "cell": np.concatenate(rows_cell) if rows_cell else np.empty(0, np.int64),
            "supply": np.concatenate(rows_supply) if rows_supply else np.empty(0, np.int64),
            "seconds": np.concatenate(rows_seconds) if rows_seconds else np.empty(0),
        }
    )
    per_cell = (
        two_step_fca(children, supply.capacity[offers].astype(float), cost, limit)
        if len(offers) and len(cost)
        else np.zeros(len(children))
    )
    return SupplyDemand(
        category,
        catchment_min,
        per_cell,
        children,
        int(known.sum()),
        int((of_category & ~known).sum()),
    )
