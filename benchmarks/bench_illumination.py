"""Claim: 18.6-year mean-illumination, PSR and Earth-visibility maps of 2000 x 2000 pixels in
<= 60 s on 2 cores once horizons exist (issue 3), independent of the period's length.

Measures, on a synthetic horizon cube held in memory (smooth random horizons, 360 azimuths):
the ephemeris for the 18.61-year track (hourly), the per-azimuth tables, the three maps, and
the per-epoch longest-darkness kernel; and, as the reference, the same mean visibility
computed epoch by epoch (vectorised NumPy over pixels) on a subset of pixels, extrapolated
per pixel-epoch, with the agreement between the two on that subset.

    python benchmarks/bench_illumination.py [--size 2000] [--azimuths 360]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np

from lupex.geo import latlon_to_xy
from lupex.sky.illumination import (
    BodyTrack,
    build_table,
    longest_darkness_hours,
    mean_visibility,
    never_visible,
    visibility_per_epoch,
)
from lupex.sky.tracks import LUNAR_NODAL_CYCLE_H, epochs, sun_earth_tracks

TARGET_S = 60.0


def synthetic_cube(size: int, n_az: int, rng: np.random.Generator) -> np.ndarray:
    """Horizons smooth in azimuth and space, around 0-3 deg, float32 (A, size, size)."""
    cube = np.empty((n_az, size, size), np.float32)
    base = rng.normal(1.0, 1.0, size=(size, size)).astype(np.float32)
    for a in range(n_az):
        cube[a] = base + np.float32(np.sin(np.radians(a) * 3)) * 0.8
    return cube


def head(track: BodyTrack, count: int) -> BodyTrack:
    """The first ``count`` epochs of a track."""
    return dataclasses.replace(track, times=track.times[:count], azimuth_deg=track.azimuth_deg[:count],
                               elevation_deg=track.elevation_deg[:count], radius_deg=track.radius_deg[:count])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--azimuths", type=int, default=360)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pixel = 20.0
    xc, yc = (float(v) for v in latlon_to_xy(-89.45, 222.7))
    x = xc + (np.arange(args.size) - args.size / 2 + 0.5) * pixel
    y = yc - (np.arange(args.size) - args.size / 2 + 0.5) * pixel
    cube = synthetic_cube(args.size, args.azimuths, rng)
    rows_done = {}

    # warm-up (numba compile or cache load) on a tiny cube, not counted
    tiny = epochs("2030-01-01", "2030-01-03", 1.0)
    tiny_track = sun_earth_tracks((xc, yc), 0.0, tiny, 1.0)["sun"]
    tiny_table = build_table(tiny_track, args.azimuths)
    mean_visibility(cube[:, :4, :4], x[:4], y[:4], tiny_track, tiny_table)
    never_visible(cube[:, :4, :4], x[:4], y[:4], tiny_track, tiny_table)
    longest_darkness_hours(cube[:, :4, :4], x[:4], y[:4], tiny_track)

    t = time.perf_counter()
    span = np.timedelta64(int(LUNAR_NODAL_CYCLE_H * 3600), "s")
    times = epochs(np.datetime64("2025-01-01"), np.datetime64("2025-01-01") + span, 1.0)
    tracks = sun_earth_tracks((xc, yc), 0.0, times, 1.0)
    rows_done[f"ephemeris, 18.61 y hourly ({times.size} epochs)"] = time.perf_counter() - t
    t = time.perf_counter()
    sun_table = build_table(tracks["sun"], args.azimuths)
    earth_table = build_table(tracks["earth"], args.azimuths, centre_only=True)
    rows_done["visibility tables (Sun and Earth)"] = time.perf_counter() - t
    t = time.perf_counter()
    sun_mean = mean_visibility(cube, x, y, tracks["sun"], sun_table)
    rows_done["mean Sun map"] = time.perf_counter() - t
    t = time.perf_counter()
    never_visible(cube, x, y, tracks["sun"], sun_table)
    rows_done["PSR map"] = time.perf_counter() - t
    t = time.perf_counter()
    mean_visibility(cube, x, y, tracks["earth"], earth_table)
    rows_done["Earth-visibility map"] = time.perf_counter() - t
    maps_total = sum(rows_done.values())

    # Longest darkness needs every epoch: measured on a 200-row band over one year, per pixel-epoch.
    year = head(tracks["sun"], 8766)
    band = cube[:, :200, :]
    t = time.perf_counter()
    longest_darkness_hours(band, x, y[:200], year)
    dark_rate = band.shape[1] * band.shape[2] * 8766 / (time.perf_counter() - t)

    # Reference: epoch by epoch over a 10-row band (vectorised over its pixels), one month.
    month = head(year, 720)
    rows = np.arange(10)
    t = time.perf_counter()
    reference = visibility_per_epoch(cube[:, rows, :], x, y[rows], month).mean(axis=0)
    ref_rate = rows.size * args.size * 720 / (time.perf_counter() - t)
    fast_month = mean_visibility(cube[:, :10, :], x, y[:10], month, build_table(month, args.azimuths))
    extrapolated = args.size**2 * times.size / ref_rate

    print(f"machine: {os.cpu_count()} CPUs; cube {args.azimuths} x {args.size} x {args.size} float32")
    print(f"{'figure':55s} {'seconds':>9s}")
    for name, seconds in rows_done.items():
        print(f"{name:55s} {seconds:9.2f}")
    print(f"{'three maps, 18.61 years, total':55s} {maps_total:9.2f}   "
          f"= {maps_total / TARGET_S:.2f} of the 60 s target")
    print(f"{'per-epoch evaluation, same three maps (extrapolated)':55s} {3 * extrapolated:9.0f}   "
          f"-> table method {3 * extrapolated / maps_total:.0f}x faster")
    print(f"agreement with the reference on {reference.size} pixels over one month: "
          f"max |difference| {np.max(np.abs(fast_month - reference)):.2e}")
    print(f"longest-darkness kernel: {dark_rate / 1e6:.0f} M pixel-epochs/s "
          f"(one year hourly at {args.size}^2: {args.size**2 * 8766 / dark_rate:.0f} s)")
    print(f"mean Sun fraction over the synthetic cube: {sun_mean.mean():.3f}")


if __name__ == "__main__":
    main()
