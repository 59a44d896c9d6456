"""An exhaustive time-expanded Dijkstra over the planner's discretisation, for tests.

Every state (tick, leg, node, charge, darkness) reachable by the actions of
:mod:`lupex.planning.timed` is a vertex; a heap ordered by (tick, -charge, darkness) pops
them, each at most once, with no dominance pruning and no bound. The first popped state at
the last waypoint that passes the safe-haven check is the earliest arrival with the most
charge. It shares only the rules of the discretisation (``wait_tick``, ``drive_edge``,
``may_depart``, ``safe_until_end``) with the planner, not its search.
"""

from __future__ import annotations

import heapq

from lupex.planning.lattice import Lattice
from lupex.planning.timed import Model, drive_edge, may_depart, safe_until_end, wait_tick


def exhaustive_arrival(lattice: Lattice, model: Model, start: int, waypoints: list[int], initial_soc_q: float):
    """(arrival tick, charge [quanta], darkness [ticks]) of the best plan, or None; and the
    number of states popped."""
    legs = len(waypoints)
    last = model.last_tick
    heap = [(0, -float(initial_soc_q), 0, 0, start)]
    seen = set()
    popped = 0
    while heap:
        t, neg_soc, dark, leg, node = heapq.heappop(heap)
        state = (t, leg, node, -neg_soc, dark)
        if state in seen:
            continue
        seen.add(state)
        popped += 1
        soc = -neg_soc
        if leg == legs:
            if safe_until_end(soc, dark, node, t, model.sun_fraction, model.solar_w, model.params):
                return (t, soc, dark), popped
            continue
        if t + 1 <= last:
            s, d, ok = wait_tick(soc, dark, node, t, model.sun_fraction, model.solar_w, model.params)
            if ok:
                heapq.heappush(heap, (t + 1, -s, d, leg, node))
        if not may_depart(node, t, model.sun_fraction, model.earth_visible, model.params):
            continue
        for k in range(16):
            to = int(lattice.target[node, k])
            ticks = int(model.ticks[node, k])
            if to < 0 or t + ticks > last:
                continue
            s, d, ok = drive_edge(soc, dark, node, k, t, ticks, float(model.drive_wh[node, k]), model.sun_fraction,
                                  model.solar_w, model.facing_moves, model.params)
            if ok:
                heapq.heappush(heap, (t + ticks, -s, d, leg + (to == waypoints[leg]), to))
    return None, popped
