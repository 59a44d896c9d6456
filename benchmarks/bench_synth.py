"""Benchmark: ``lupex terrain synth`` makes a 4096 x 4096 tile at 20 m in <= 20 s on 2 cores.

Measures, in one run and on this machine:

* the numba JIT compile time (from an empty cache, in a throw-away process) and this
  process's warm-up (compile, or load from numba's on-disk cache), reported apart and not
  counted in any other figure;
* ``lupex.terrain.synth.synthesize`` for the issue's tile (best of ``--repeat``), and its
  stages called directly with the arguments ``synthesize`` uses: the rough surface
  (``self_affine_surface``), the background rock layer, crater sampling
  (``sample_craters``) and crater rendering (``render_craters``);
* a brute-force reference of the crater rendering: a plain NumPy implementation in this
  file (a Python loop over the craters, each crater's bounding box rendered with
  vectorised NumPy, same profile, inheritance rule, ejecta taper and blocky-ejecta rock
  rule as ``lupex.terrain.craters._render``), run on the same crater set and checked
  against ``render_craters``; its time gives the speed-up of the numba kernel;
* GeoTIFF writing of the two layers, the command line's start-up (``--help``), and the
  end-to-end command line (``lupex terrain synth ... --no-quicklook``) in a subprocess,
  including interpreter start-up, imports and GeoTIFF writing.

Every figure is printed with its ratio to the 20 s target; the rendering also with its
ratio to the NumPy reference. Run as::

    python benchmarks/bench_synth.py [--size 4096] [--resolution 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import scipy
from machine import cpu_model, load_average, source_state

import lupex
from lupex.raster import centered_polar_transform, write_geotiff
from lupex.terrain import synth
from lupex.terrain.craters import (
    EJECTA_EXTENT,
    CraterSet,
    crater_footprint,
    crater_shape,
    ejecta_rock_cover,
    reference_height,
    render_craters,
    sample_craters,
)
from lupex.terrain.fractal import self_affine_surface
from lupex.terrain.synth import SynthConfig, synthesize

TARGET_S = 20.0
"""The issue's target for a 4096 x 4096 tile at 20 m [s]."""


# --- brute-force NumPy reference of lupex.terrain.craters._render -------------------------


def _numpy_interior(rho: np.ndarray, depth: float, rim: float, floor: float, peak: float) -> np.ndarray:
    """Vectorised ``craters._interior``: crater interior relative to the pre-impact surface [m]."""
    bottom = rim - depth
    if floor > 0.0:
        bump = peak * np.exp(-((rho / (0.35 * floor + 1e-9)) ** 2))
        t = (rho - floor) / (1.0 - floor)
        wall = np.clip(t, 0.0, None) ** 1.6
        return np.where(rho <= floor, bottom + bump, bottom + depth * wall + bump)
    return bottom + depth * rho * rho


def numpy_render_craters(
    height: np.ndarray,
    rocks: np.ndarray,
    origin: tuple[float, float],
    pixel_m: float,
    craters: CraterSet,
    blocky_min_diameter_m: float,
    fresh_ejecta_rock_k: float,
) -> None:
    """Plain-NumPy ``render_craters``: same arguments, same in-place result."""
    depth, rim, floor, peak = crater_shape(craters.diameter, craters.degradation)
    rock_k = ejecta_rock_cover(craters, blocky_min_diameter_m, fresh_ejecta_rock_k)
    x0 = origin[0] + 0.5 * pixel_m
    y0 = origin[1] - 0.5 * pixel_m
    ny, nx = height.shape
    taper = EJECTA_EXTENT**-3
    for i in range(len(craters)):
        col, row, r_px, r0, r1, c0, c1 = crater_footprint(craters.x[i], craters.y[i], craters.diameter[i] / 2.0,
                                                          x0, y0, pixel_m, ny, nx)
        if c0 >= c1 or r0 >= r1:
            continue
        href = reference_height(height, col, row, r_px)
        box = height[r0:r1, c0:c1]  # a view: assignments below write into ``height``
        rho = np.hypot(np.arange(c0, c1)[None, :] - col, np.arange(r0, r1)[:, None] - row) / r_px
        inside = rho < 1.0
        if inside.any():
            rho_in = rho[inside]
            box[inside] = href + rho_in * rho_in * (box[inside] - href) + _numpy_interior(
                rho_in, depth[i], rim[i], floor[i], peak[i]
            )
        ejecta = (rho >= 1.0) & (rho < EJECTA_EXTENT)
        if ejecta.any():
            box[ejecta] += rim[i] * (rho[ejecta] ** -3 - taper) / (1.0 - taper)
        if rock_k[i] > 0.0:
            blocky = (rho > 0.6) & (rho < EJECTA_EXTENT)
            rock_box = rocks[r0:r1, c0:c1]
            k = rock_k[i] * np.exp(-np.abs(rho[blocky] - 1.0) / 0.4)
            rock_box[blocky] = np.maximum(rock_box[blocky], k)


# --- timing helpers ----------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], object], setup: Callable[[], object] | None = None) -> tuple[float, object]:
    """Shortest wall time of ``repeat`` calls of ``run`` (``setup`` runs untimed before each)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def cpu_usage(run: Callable[[], object], who: int = resource.RUSAGE_SELF) -> tuple[float, float, int]:
    """User and system CPU seconds and minor page faults that ``run`` costs (``who``: self or children)."""
    before = resource.getrusage(who)
    run()
    after = resource.getrusage(who)
    return after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, after.ru_minflt - before.ru_minflt


# --- the stages, called as synthesize calls them -----------------------------------------


def generators(config: SynthConfig) -> list[np.random.Generator]:
    """Fresh rough-surface, rock and crater generators, spawned as ``synthesize`` spawns them."""
    return np.random.default_rng(config.seed).spawn(3)


def geometry(config: SynthConfig):
    """Shape, pixel, origin and bounds exactly as ``synthesize`` derives them."""
    shape = (config.size, config.size)
    res = config.resolution_m
    transform = centered_polar_transform(config.center_lat, config.center_lon, config.size, res)
    width_m = config.size * res
    bounds = (transform.c, transform.f - width_m, transform.c + width_m, transform.f)
    return shape, res, (transform.c, transform.f), bounds, width_m


COLD_COMPILE = """
import time
from lupex.terrain.synth import SynthConfig, synthesize
start = time.perf_counter()
synthesize(SynthConfig(size=32, seed=0))
print(time.perf_counter() - start)
"""
"""Times the first tiny ``synthesize`` in a fresh process (imports not counted)."""


def cold_compile_seconds() -> float:
    """numba JIT compile time from scratch: a fresh process with an empty ``NUMBA_CACHE_DIR``."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        done = subprocess.run([sys.executable, "-c", COLD_COMPILE], env=env, check=True,
                              capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="tile width and height [px]")
    parser.add_argument("--resolution", type=float, default=20.0, help="pixel size [m]")
    parser.add_argument("--center-lat", type=float, default=-89.5, help="tile centre latitude [deg]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is reported")
    parser.add_argument("--reference-craters", type=int, default=None,
                        help="run the NumPy reference (and the numba kernel, for the ratio) on the first N "
                             "craters only (default: all; use when the reference would take minutes)")
    parser.add_argument("--reference-repeat", type=int, default=1, help="runs of the slow NumPy reference")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end command-line timing")
    args = parser.parse_args(argv)

    config = SynthConfig(size=args.size, resolution_m=args.resolution, center_lat=args.center_lat, seed=args.seed)
    print(f"bench_synth: {args.size} x {args.size} px at {args.resolution:g} m, "
          f"centre lat {args.center_lat:g}, seed {args.seed}, best of {args.repeat}")
    print(f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {cpu_model()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scipy {scipy.__version__}, lupex {lupex.__version__}; NUMBA_NUM_THREADS {numba.config.NUMBA_NUM_THREADS}")
    print(f"source: {source_state()}; equilibrium_fraction {config.equilibrium_fraction:g}, "
          f"hurst {config.hurst:g}, roughness_rms_m {config.roughness_rms_m:g}")
    print(f"load average at start: {load_average()}")

    # 1. numba: compile from scratch in a throw-away process, then warm up this one (compile
    #    or load from the on-disk cache) so that no later figure includes it.
    compile_s = cold_compile_seconds()
    print(f"numba JIT compile from an empty cache (fresh process, 32 x 32 tile): {compile_s:.2f} s (not counted)")
    start = time.perf_counter()
    synthesize(SynthConfig(size=32, resolution_m=args.resolution, center_lat=args.center_lat, seed=args.seed))
    warmup_s = time.perf_counter() - start
    print(f"numba warm-up in this process (compile or cache load, 32 x 32 tile): {warmup_s:.2f} s (not counted)")

    # 2. synthesize, then its stages one by one.
    total_s, site = best_of(args.repeat, lambda: synthesize(config))
    user_s, sys_s, faults = cpu_usage(lambda: synthesize(config))
    print(f"synthesize: best {total_s:.2f} s; one more run used {user_s:.2f} s user + {sys_s:.2f} s system CPU "
          f"and {faults} minor page faults")
    shape, res, origin, bounds, width_m = geometry(config)
    stage: dict[str, float] = {}
    stage["rough surface (self_affine_surface)"], rough = best_of(args.repeat, lambda: self_affine_surface(
        shape, res, config.hurst, config.roughness_rms_m, config.roughness_baseline_m,
        generators(config)[0]))
    stage["rock background (self_affine_surface + exp)"], background = best_of(
        args.repeat, lambda: synth._background_rocks(shape, res, config, generators(config)[1]))
    stage["crater sampling (sample_craters)"], craters = best_of(args.repeat, lambda: sample_craters(
        bounds, 2.0 * res, min(2.0 * width_m, 300_000.0), config.surface_age_gyr,
        config.equilibrium_fraction, generators(config)[2]))
    assert all(np.array_equal(getattr(craters, f), getattr(site.craters, f)) for f in ("x", "y", "diameter", "age"))

    work: dict[str, np.ndarray] = {}

    def fresh_inputs() -> None:
        work["height"], work["rocks"] = rough.copy(), background.copy()

    def numba_render(n: int | None = None) -> None:
        subset = craters if n is None else _first(craters, n)
        render_craters(work["height"], work["rocks"], origin, res, subset,
                       config.blocky_min_diameter_m, config.fresh_ejecta_rock_k)

    stage["crater rendering (render_craters, numba)"], _ = best_of(args.repeat, numba_render, fresh_inputs)
    # Same result as synthesize: the stages really are synthesize's.
    assert np.array_equal(work["height"].astype(np.float32), site.dem.values)
    stage_sum = sum(stage.values())
    print(f"{len(craters)} craters, {craters.diameter.min():.0f} m to {craters.diameter.max() / 1000:.0f} km")

    # 3. Brute-force NumPy reference of the rendering, on the same craters and inputs.
    n_ref = len(craters) if args.reference_craters is None else min(args.reference_craters, len(craters))
    subset_note = "all craters" if n_ref == len(craters) else f"first {n_ref} of {len(craters)} craters (oldest first)"
    if n_ref == len(craters):
        kernel_s = stage["crater rendering (render_craters, numba)"]
    else:
        kernel_s, _ = best_of(args.repeat, lambda: numba_render(n_ref), fresh_inputs)
    numba_height, numba_rocks = work["height"], work["rocks"]
    ref_s, _ = best_of(args.reference_repeat, lambda: numpy_render_craters(
        work["height"], work["rocks"], origin, res, _first(craters, n_ref),
        config.blocky_min_diameter_m, config.fresh_ejecta_rock_k), fresh_inputs)
    dh = float(np.max(np.abs(work["height"] - numba_height)))
    dk = float(np.max(np.abs(work["rocks"] - numba_rocks)))
    scale = float(np.max(np.abs(numba_height)))
    print(f"NumPy reference on {subset_note}: {ref_s:.2f} s (best of {args.reference_repeat}); "
          f"numba kernel on the same: {kernel_s:.2f} s")
    print(f"agreement: max |height difference| {dh:.3g} m (max |height| {scale:.4g} m, relative {dh / scale:.2g}); "
          f"max |rock-fraction difference| {dk:.3g}")

    # 4. GeoTIFF writing, process start-up and the end-to-end command line.
    with tempfile.TemporaryDirectory() as tmp:
        write_s, _ = best_of(args.repeat, lambda: (
            write_geotiff(site.dem, Path(tmp) / "t.tif", overwrite=True),
            write_geotiff(site.rocks, Path(tmp) / "t_rocks.tif", overwrite=True)))
    cli_s = startup_s = float("nan")
    if not args.no_cli:
        exe = Path(sys.executable).with_name("lupex")
        command = [str(exe) if exe.exists() else "lupex", "terrain", "synth", "--size", str(args.size),
                   "--resolution", f"{args.resolution:g}", "--center-lat", f"{args.center_lat:g}",
                   "--seed", str(args.seed), "--no-quicklook", "--overwrite", "--out"]
        startup_s, _ = best_of(args.repeat, lambda: subprocess.run(
            [*command[:3], "--help"], check=True, capture_output=True))
        with tempfile.TemporaryDirectory() as tmp:
            out = str(Path(tmp) / "t.tif")
            cli_s, _ = best_of(args.repeat, lambda: subprocess.run(
                [*command, out], check=True, capture_output=True))
            user_s, sys_s, faults = cpu_usage(lambda: subprocess.run(
                [*command, out], check=True, capture_output=True), resource.RUSAGE_CHILDREN)
        print(f"CLI start-up and imports (lupex terrain synth --help): {startup_s:.2f} s; one more CLI run used "
              f"{user_s:.2f} s user + {sys_s:.2f} s system CPU and {faults} minor page faults")
        print(f"CLI: lupex terrain synth --size {args.size} --resolution {args.resolution:g} "
              f"--center-lat {args.center_lat:g} --seed {args.seed} --out <tmp>/t.tif --no-quicklook: {cli_s:.2f} s")

    # 5. The table.
    speedup = ref_s / kernel_s
    rows: list[tuple[str, float, str]] = [
        ("numba JIT compile, empty cache (not counted)", compile_s, ""),
        ("numba warm-up, this process (not counted)", warmup_s, ""),
        *((name, seconds, "") for name, seconds in stage.items()),
        ("sum of stages", stage_sum, ""),
        ("synthesize (end to end, in process)", total_s, ""),
        ("GeoTIFF writing (DEM + rocks, deflate)", write_s, ""),
        (f"NumPy reference rendering ({subset_note})", ref_s, "1"),
        (f"numba rendering ({subset_note})", kernel_s, f"{speedup:.1f}x faster"),
    ]
    if not args.no_cli:
        rows.append(("CLI start-up and imports (--help)", startup_s, ""))
        rows.append(("CLI lupex terrain synth (process, GeoTIFFs)", cli_s, ""))
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'figure':<{width}}  {'seconds':>8}  {'/ 20 s target':>13}  vs NumPy reference")
    for name, seconds, versus in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {seconds / TARGET_S:13.3f}  {versus}")
    print()
    verdict = "meets" if max(total_s, cli_s if not args.no_cli else 0.0) <= TARGET_S else "MISSES"
    print(f"target: {args.size} x {args.size} at {args.resolution:g} m in <= {TARGET_S:g} s: {verdict} it "
          f"(in process {total_s:.2f} s, CLI {cli_s:.2f} s)")
    print(f"load average at end: {load_average()}")
    return 0


def _first(craters: CraterSet, n: int) -> CraterSet:
    """The ``n`` oldest craters (the set is sorted oldest first)."""
    return CraterSet(craters.x[:n], craters.y[:n], craters.diameter[:n], craters.degradation[:n], craters.age[:n])


if __name__ == "__main__":
    sys.exit(main())
