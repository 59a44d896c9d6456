"""Claim: maximum/mean temperature and ice-stability depth of a 512 x 512 map in <= 5 min on
2 cores (about 1 ms per pixel-season, issue 4).

Measures ``lupex.thermal.maps.thermal_maps`` on a synthetic south-polar tile (horizons from
the fast kernel, 360 azimuths, computed first and not counted), stage by stage; and, as the
reference measured in the same run, the same pixel columns solved the way a 1-D model is
usually run (Hayne et al. 2017's grid and hourly steps, spun up by repeating the season until
the cycle-mean temperature changes by < 0.01 K: ``lupex.thermal.regolith`` before the
accelerated spin-up), on a sample of pixels, extrapolated per pixel, with the differences of
the two on that sample.

    python benchmarks/bench_thermal.py [--size 512] [--sample 12]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from machine import cpu_model, load_average, source_state

from lupex.sky.horizon import DemHorizons
from lupex.sky.illumination import tilt_terms
from lupex.sky.tracks import epochs, sun_earth_tracks
from lupex.terrain.surface import slope_aspect
from lupex.terrain.synth import SynthConfig, synthesize
from lupex.thermal.forcing import SunForcing, absorbed_series, albedo_coefficients, facet_angles
from lupex.thermal.maps import LUNATION_S, ThermalMapConfig, thermal_maps
from lupex.thermal.regolith import STEFAN_BOLTZMANN, RegolithParams, make_grid
from lupex.thermal.solver import run_cycle

TARGET_S = 300.0


def plain_spin_up(forcing: np.ndarray, dt: float, params: RegolithParams, tolerance_k: float = 0.01) -> tuple:
    """Repeat the season until the cycle-mean profile changes by < tolerance: the usual way."""
    grid = make_grid(params, LUNATION_S, 1.5)
    n = grid.z.size
    eps_sigma = params.emissivity * STEFAN_BOLTZMANN
    temp = np.full(n, max((forcing.mean() + params.geothermal_flux) / eps_sigma, 1.0) ** 0.25 * 0.8)
    prev = temp.copy()
    stats, mean, peak, flux, last = np.empty(5), np.empty(n), np.empty(n), np.empty(n - 1), np.full(n, np.inf)
    for cycle in range(1, 1000):
        run_cycle(temp, prev, grid.z, grid.density, grid.contact_conductivity, params.chi, eps_sigma,
                  params.geothermal_flux, forcing, dt, np.zeros(2), 1.0, 0, stats, mean, peak, flux, np.empty(0),
                  np.empty(0))
        if np.abs(mean - last).max() < tolerance_k:
            return stats[0], stats[2], cycle
        last = mean.copy()
    return stats[0], stats[2], cycle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--sample", type=int, default=12, help="Pixels solved the usual way.")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}; lupex {source_state()}; load {load_average()}")
    dem = synthesize(SynthConfig(size=args.size, resolution_m=20.0, center_lat=-89.45, center_lon=222.7, seed=2028))
    heights = dem.dem
    t = time.perf_counter()
    horizon = DemHorizons(heights).cube().values
    print(f"horizons {args.size}^2 x 360: {time.perf_counter() - t:.1f} s (not counted)")
    config = ThermalMapConfig()
    thermal_maps(heights[:8, :8], horizon[:, :8, :8], config.model_copy(update={"terrain_cells": 4}))  # compile

    stages = {}
    t0 = last = time.perf_counter()

    def step(message: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages[message] = now
        last = now

    maps, _ = thermal_maps(heights, horizon, config, step=step)
    total = time.perf_counter() - t0
    names = list(stages)
    times = [*stages.values(), t0 + total]
    for name, begin, end in zip(names, times[:-1], times[1:], strict=True):
        print(f"  {end - begin:7.1f} s  {name}")
    pixels = args.size**2
    print(f"thermal map {args.size}^2: {total:.1f} s = {total / pixels * 1e3:.3f} ms per pixel-season "
          f"(target {TARGET_S:.0f} s for 512^2: {'met' if total * 512**2 / pixels <= TARGET_S else 'NOT met'})")

    # Reference: the usual spin-up on a sample of pixels with direct sunlight only.
    rng = np.random.default_rng(1)
    rows, cols = rng.integers(0, args.size, args.sample), rng.integers(0, args.size, args.sample)
    reference = RegolithParams()
    x, y = heights["x"].values, heights["y"].values
    centre = (float(x.mean()), float(y.mean()))
    times_h = epochs(np.datetime64("2028-01-01"), np.datetime64("2028-01-01") + np.timedelta64(29947968, "s"), 1.0)
    sun = SunForcing.from_track(sun_earth_tracks(centre, float(np.median(heights.values)), times_h[:-1], 1.0)["sun"],
                                horizon.shape[0])
    dx, dy, cx, cy = tilt_terms(x, y, centre, horizon.shape[0])
    facets = facet_angles(*slope_aspect(heights))
    t = time.perf_counter()
    ref_max, ref_cycles = [], []
    for r, c in zip(rows, cols, strict=True):
        forcing = np.empty(sun.lower.size)
        absorbed_series(np.ascontiguousarray(horizon[:, r, c]), dx[c], dy[r], cx, cy, facets[r, c],
                        albedo_coefficients(reference), *sun.kernel_args(), forcing)
        t_max, _, cycles = plain_spin_up(forcing, sun.step_s, reference)
        ref_max.append(t_max)
        ref_cycles.append(cycles)
    per_pixel = (time.perf_counter() - t) / args.sample
    print(f"reference (Hayne grid, hourly, plain spin-up) on {args.sample} pixels: {per_pixel * 1e3:.1f} ms per "
          f"pixel-season, {np.mean(ref_cycles):.0f} seasons on average; extrapolated to {args.size}^2 on one core: "
          f"{per_pixel * pixels:.0f} s; lupex is {per_pixel * pixels / total:.0f}x faster")
    print(f"surface maximum, lupex map vs reference on the sample: "
          f"{np.abs(maps['tmax'].values[rows, cols] - np.array(ref_max)).max():.2f} K at most (lupex includes "
          "terrain radiation, the reference does not)")


if __name__ == "__main__":
    main()
