"""Benchmark: the 16-connected route planner against scikit-image's MCP_Geometric on a
2000 x 2000 costmap: path cost at most MCP_Geometric's (within 0.1 %) and at least as fast.

Measures, in one run and on this machine, corner to corner on a slope-derived costmap of a
synthetic south-pole tile (``lupex.terrain.synth``, slopes by Horn's method): cost per metre
``1 + 4 (slope / max_slope)^2`` [-], forbidden (inf) above ``--max-slope``:

* the numba warm-up of this process (compile, or load from numba's on-disk cache), not
  counted anywhere else;
* ``lupex.planning.grid_search.least_cost_path`` (A*, with the corner rule), the same with
  ``cut_corners=True`` (exactly MCP_Geometric's graph over the 16 moves) and
  ``cost_to_go`` (Dijkstra over the whole map, no early stop);
* ``skimage.graph.MCP_Geometric`` with its default 8 neighbours, and with the same 16 moves
  (built through the base class's constructor, which accepts offsets longer than one
  cell; the start cell's cost that constructor adds is taken off), each timed from
  construction to the traced path, the search stopping at the goal.

Every time is the best of ``--repeat`` runs; every row gives its route cost, the cost's ratio
to MCP_Geometric's (8 neighbours) and the speed-up over it. Run as::

    python benchmarks/bench_route.py [--size 2000] [--resolution 20] [--max-slope 15] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

import numba
import numpy as np
import skimage
from machine import cpu_model, load_average, source_state
from skimage.graph import MCP, MCP_Geometric

import lupex
from lupex.planning.grid_search import MOVES, cost_to_go, least_cost_path, path_cost
from lupex.terrain.surface import slope
from lupex.terrain.synth import SynthConfig, synthesize

COST_TOLERANCE = 1e-3
"""The issue's tolerance on the path cost against MCP_Geometric's [-]."""


def best_of(repeat: int, job: Callable[[], object]) -> tuple[float, object]:
    """Shortest wall time of ``repeat`` runs of ``job`` [s], and its last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = job()
        best = min(best, time.perf_counter() - start)
    return best, result


def slope_costmap(size: int, resolution_m: float, center_lat: float, seed: int, max_slope_deg: float) -> np.ndarray:
    """Cost per metre ``1 + 4 (slope / max_slope)^2`` of a synthetic tile, inf above ``max_slope`` [-]."""
    dem = synthesize(SynthConfig(size=size, resolution_m=resolution_m, center_lat=center_lat, seed=seed)).dem
    slope_deg = slope(dem)
    return np.where(slope_deg <= max_slope_deg, 1.0 + 4.0 * (slope_deg / max_slope_deg) ** 2, np.inf)


def nearest_free(cost: np.ndarray, corner: tuple[int, int]) -> tuple[int, int]:
    """The allowed cell nearest to ``corner`` (rows, columns)."""
    free = np.argwhere(np.isfinite(cost))
    k = np.argmin(np.hypot(free[:, 0] - corner[0], free[:, 1] - corner[1]))
    return int(free[k, 0]), int(free[k, 1])


def mcp_route(cost: np.ndarray, pixel_m: float, start, goal, sixteen: bool) -> tuple[float, int]:
    """Cost [unit] and number of cells of MCP_Geometric's route, 8 or 16 neighbours."""
    if sixteen:
        mcp = MCP_Geometric.__new__(MCP_Geometric)
        MCP.__init__(mcp, cost, offsets=MOVES.tolist(), sampling=(pixel_m, pixel_m))
    else:
        mcp = MCP_Geometric(cost, sampling=(pixel_m, pixel_m))
    field, _ = mcp.find_costs([start], [goal])
    cells = mcp.traceback(goal)
    return float(field[goal] - (cost[start] if sixteen else 0.0)), len(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="costmap width and height [px]")
    parser.add_argument("--resolution", type=float, default=20.0, help="pixel size [m]")
    parser.add_argument("--center-lat", type=float, default=-89.5, help="tile centre latitude [deg]")
    parser.add_argument("--max-slope", type=float, default=15.0, help="steepest allowed slope [deg]")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the best counts)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    cost = slope_costmap(args.size, args.resolution, args.center_lat, args.seed, args.max_slope)
    pixel = args.resolution
    start, goal = nearest_free(cost, (0, 0)), nearest_free(cost, (args.size - 1, args.size - 1))
    print(f"bench_route: synthetic tile {args.size} x {args.size} px at {pixel:g} m, centre lat {args.center_lat:g}, "
          f"seed {args.seed}; cost per metre 1 + 4 (slope / {args.max_slope:g} deg)^2, "
          f"{np.mean(~np.isfinite(cost)):.1%} of cells forbidden (steeper); route {start} -> {goal}")
    print(f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {cpu_model()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scikit-image {skimage.__version__}, lupex {lupex.__version__}; source: {source_state()}")
    print(f"load average at start: {load_average()}")

    begin = time.perf_counter()
    least_cost_path(cost[:64, :64], pixel, nearest_free(cost[:64, :64], (0, 0)), nearest_free(cost[:64, :64], (63, 63)))
    cost_to_go(cost[:64, :64], pixel, nearest_free(cost[:64, :64], (0, 0)), cut_corners=True)
    print(f"numba warm-up in this process (compile or cache load): {time.perf_counter() - begin:.2f} s (not counted)")

    rows: list[tuple[str, float, float, int]] = []  # (figure, seconds, route cost, route cells)
    seconds, ours = best_of(args.repeat, lambda: least_cost_path(cost, pixel, start, goal))
    rows.append(("lupex least_cost_path, 16 moves, corner rule (A*)", seconds, ours.cost, len(ours.cells)))
    seconds, cut = best_of(args.repeat, lambda: least_cost_path(cost, pixel, start, goal, cut_corners=True))
    rows.append(("lupex least_cost_path, 16 moves, cut_corners=True (A*)", seconds, cut.cost, len(cut.cells)))
    seconds, field = best_of(args.repeat, lambda: cost_to_go(cost, pixel, goal))
    rows.append(("lupex cost_to_go, whole map (Dijkstra)", seconds, float(field[start]), 0))
    seconds, (mcp8, cells8) = best_of(args.repeat, lambda: mcp_route(cost, pixel, start, goal, sixteen=False))
    rows.append(("skimage MCP_Geometric, 8 neighbours", seconds, mcp8, cells8))
    seconds, (mcp16, cells16) = best_of(args.repeat, lambda: mcp_route(cost, pixel, start, goal, sixteen=True))
    rows.append(("skimage MCP_Geometric, the same 16 moves", seconds, mcp16, cells16))

    recheck = path_cost(cost, pixel, ours.cells)
    print(f"route cost re-evaluated from the returned cells: relative difference {abs(recheck / ours.cost - 1):.1e}; "
          f"cut_corners=True against MCP_Geometric with the 16 moves: {abs(cut.cost / mcp16 - 1):.1e}; "
          f"cost_to_go at the start against least_cost_path: {abs(field[start] / ours.cost - 1):.1e}")
    print(f"route length {ours.length_m / 1000:.2f} km over {len(ours.cells)} cells "
          f"(straight line {pixel * np.hypot(goal[0] - start[0], goal[1] - start[1]) / 1000:.2f} km)")

    mcp8_s = rows[3][1]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'figure':<{width}}  {'seconds':>8}  {'route cost':>12}  {'/ MCP-8':>8}  {'cells':>6}  "
          f"{'x MCP-8 speed':>13}")
    for name, seconds, route_cost, cells in rows:
        shown_cells = f"{cells:6d}" if cells else f"{'-':>6}"
        print(f"{name:<{width}}  {seconds:8.3f}  {route_cost:12.2f}  {route_cost / mcp8:8.4f}  {shown_cells}  "
              f"{mcp8_s / seconds:13.1f}")
    print()
    ours_s = rows[0][1]
    verdict = "meets" if ours.cost <= mcp8 * (1 + COST_TOLERANCE) and ours_s <= mcp8_s else "MISSES"
    print(f"target: route cost <= MCP_Geometric's (8 neighbours) within {COST_TOLERANCE:.1%} and at least as fast on "
          f"{args.size} x {args.size}: {verdict} it (cost ratio {ours.cost / mcp8:.4f}, {mcp8_s / ours_s:.1f}x faster)")
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
