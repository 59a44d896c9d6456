"""Benchmark: the 100-day surface mission simulation itself (after precomputation) in <= 60 s on 2 cores.

Reuses the folder of an earlier ``lupex mission`` run (its DEM, horizons, Sun and PSR maps and ice
depth; :func:`lupex.mission.load_world`), so only the world's lattice and sky and then the
simulation are timed here:

* the world: the planner's lattice over the site and the Sun and Earth at its nodes for every
  hour of the mission, and the rover's horizons around the landing (reported, not counted);
* the simulation (:class:`lupex.sim.engine.Simulation`) for each strategy: tick by tick battery,
  sky at the true position, strategic plans, local hazard avoidance, neutron survey, drilling.

The figure is the simulation's wall time against the 60 s target, and against the mission's own
length (how many times faster than the Moon). Run as::

    lupex mission --out lupex-out                 # once: the default site
    python benchmarks/bench_mission.py --from lupex-out [--days 100] [--seed 2028]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
from machine import cpu_model, load_average, source_state

import lupex
from lupex.mission import MissionConfig, load_world
from lupex.sim.engine import Simulation

TARGET_S = 60.0
"""The issue's target for the 100-day simulation [s]."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", default="lupex-out", help="Folder of a finished 'lupex mission'.")
    parser.add_argument("--days", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=2028)
    args = parser.parse_args()
    print(f"lupex {lupex.__version__} ({source_state()}), Python {platform.python_version()}, "
          f"numba {numba.__version__}, {cpu_model()}, {os.cpu_count()} CPUs, load {load_average()}")
    config = MissionConfig(days=args.days, seed=args.seed)
    t0 = time.perf_counter()
    world = load_world(args.folder, config)
    world_s = time.perf_counter() - t0
    print(f"world: {world.search.lattice.size} lattice nodes, {world.sky.ticks} ticks: {world_s:.1f} s (not counted)")
    print(f"{'strategy':10s} {'sim [s]':>8s} {'vs 60 s':>8s} {'x real time':>12s} {'days':>6s} {'km':>6s} "
          f"{'holes':>6s} {'status':>10s}")
    for strategy in ("adaptive", "baseline"):
        sim_config = config.sim.model_copy(update={"strategy": strategy})
        t0 = time.perf_counter()
        result = Simulation(world, config.rover, sim_config, args.seed).run()
        seconds = time.perf_counter() - t0
        speedup = result.days_simulated * 86400 / seconds
        print(f"{strategy:10s} {seconds:8.1f} {seconds / TARGET_S:8.2f} {speedup:12.0f} {result.days_simulated:6.1f} "
              f"{result.distance_m / 1000:6.2f} {len(result.holes):6d} {result.status:>10s}")


if __name__ == "__main__":
    main()
