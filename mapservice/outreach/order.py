"""The visiting order with the least total walking: exact (Held-Karp) up to
:data:`EXACT_MAX_VISITS` visits, nearest neighbour + 2-opt above.

Works on any square cost matrix (stop 0 is the start); knows nothing of maps or walking.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

# Held-Karp needs n^2 * 2^n steps: 10 visits are ~0.1 s in Python, 12 would be ~0.6 s.
EXACT_MAX_VISITS = 10


def route_cost(cost: Sequence[Sequence[float]], order: Sequence[int], round_trip: bool) -> float:
    """Total cost of visiting ``order`` (starting at ``order[0]``), back to it if round trip."""
    total = sum(cost[a][b] for a, b in itertools.pairwise(order))
    if round_trip and len(order) > 1:
        total += cost[order[-1]][order[0]]
    return total


def held_karp(cost: Sequence[Sequence[float]], round_trip: bool) -> list[int]:
    """The cheapest order of all stops starting at stop 0 (exact; dynamic programming)."""
    n = len(cost)
    if n <= 2:
        return list(range(n))
    visits = n - 1
    full = (1 << visits) - 1
    # best[mask][j]: cheapest path from 0 through the visits in mask, ending at visit j.
    best: list[dict[int, float]] = [{} for _ in range(full + 1)]
    parent: list[dict[int, int]] = [{} for _ in range(full + 1)]
    for j in range(visits):
        best[1 << j][j] = cost[0][j + 1]
        parent[1 << j][j] = -1
    for mask in range(1, full + 1):
        for j, here in best[mask].items():
            for k in range(visits):
                if mask & (1 << k):
                    continue
                nxt = mask | (1 << k)
                value = here + cost[j + 1][k + 1]
                if value < best[nxt].get(k, math.inf):
                    best[nxt][k] = value
                    parent[nxt][k] = j

    def closing(j: int) -> float:
        return best[full][j] + (cost[j + 1][0] if round_trip else 0.0)

    last = min(range(visits), key=closing)
    order = []
    mask = full
    while last != -1:
        order.append(last + 1)
        last, mask = parent[mask][last], mask & ~(1 << last)
    return [0, *reversed(order)]


def nearest_neighbour(cost: Sequence[Sequence[float]]) -> list[int]:
    order = [0]
    left = set(range(1, len(cost)))
    while left:
        here = order[-1]
        nxt = min(left, key=lambda k: (cost[here][k], k))
        order.append(nxt)
        left.remove(nxt)
    return order


def two_opt(cost: Sequence[Sequence[float]], order: list[int], round_trip: bool) -> list[int]:
    """Reverse segments (never the start) while that shortens the route."""
    best = list(order)
    best_cost = route_cost(cost, best, round_trip)
    improved = True
    while improved:
        improved = False
        for i in range(1, len(best) - 1):
            for k in range(i + 1, len(best)):
                candidate = best[:i] + best[i : k + 1][::-1] + best[k + 1 :]
                value = route_cost(cost, candidate, round_trip)
                if value < best_cost - 1e-9:
                    best, best_cost, improved = candidate, value, True
    return best


def best_order(cost: Sequence[Sequence[float]], round_trip: bool) -> tuple[list[int], bool]:
    """The visiting order (stop 0 first) and whether it is proven the cheapest."""
    if len(cost) - 1 <= EXACT_MAX_VISITS:
        return held_karp(cost, round_trip), True
    return two_opt(cost, nearest_neighbour(cost), round_trip), False
