"""Benchmark: tiled horizons and maps on Dask against the single-machine path, same DEM.

Measures, in one run and on this machine, on a synthetic south-pole DEM
(``lupex.terrain.synth``) written as a GeoTIFF:

* the single-machine path: the whole horizon cube (``DemHorizons``, numba on every core),
  then ``illumination_maps``;
* the tiled path (``lupex.sky.tiled.tiled_illumination``: windowed tiles with their margin,
  the DEM averaged as far field, maps per tile, mosaic) on a ``LocalCluster`` of 1 and of 2
  workers (one thread each; the kernels of a worker use the cores its host does not give
  to other workers). The cluster's start and its workers' warm-up (numba cache loads, a run
  on a 64 px corner) are timed apart, not counted;
* the tiled maps' difference from the single-machine ones.

Every row gives seconds, the pixel-azimuths of the output per second and the ratio to the
single-machine path. Run as::

    python benchmarks/bench_tiled_sky.py [--size 1024] [--azimuths 90] [--tile-px 512] [--margin-km K]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import dask
import numba
import numpy as np
import rasterio
from machine import cpu_model, load_average, source_state

import lupex
from lupex.cluster import connect
from lupex.raster import write_geotiff
from lupex.report.layers import write_layer_files
from lupex.sky.horizon import DemHorizons, default_azimuths
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, illumination_maps
from lupex.sky.tiled import (
    TiledConfig,
    compute_tiles,
    mosaic_maps,
    plan_tiled,
    prepare_tiled_folder,
    tiled_illumination,
)
from lupex.terrain.readers import read_dem
from lupex.terrain.synth import SynthConfig, synthesize


def single_machine(path: Path, azimuths: np.ndarray, config: IlluminationConfig) -> tuple[list, dict]:
    """Seconds of the whole cube, of the maps and of writing them (GeoTIFF + PNG), and the maps."""
    dem = read_dem(path)
    start = time.perf_counter()
    cube = DemHorizons(dem).cube(azimuths)
    horizons_s = time.perf_counter() - start
    start = time.perf_counter()
    maps = illumination_maps(dem, cube, config)
    maps_s = time.perf_counter() - start
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, style in MAP_STYLES.items():
            write_layer_files(maps[name], style, Path(tmp), dem)
    seconds = [horizons_s, maps_s, time.perf_counter() - start]
    return seconds, {name: maps[name].values for name in MAP_STYLES}


def tiled(path: Path, warm_up: Path, config: IlluminationConfig, settings: TiledConfig,
          workers: int) -> tuple[float, list, dict]:
    """Seconds to start the cluster and warm its workers up (numba cache loads, on the small DEM
    ``warm_up``); seconds of the survey, the tiles and the mosaic (GeoTIFF + PNG); the maps."""
    small = TiledConfig(tile_px=32, n_azimuths=8, margin_m=0.0)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        with connect(workers=workers) as client:
            tiled_illumination(warm_up, config, small, scratch, client)
            started = time.perf_counter() - start
            seconds = [time.perf_counter()]
            plan = plan_tiled(path, config, settings)
            prepare_tiled_folder(plan, Path(tmp), overwrite=False)
            seconds.append(time.perf_counter())
            compute_tiles(plan, Path(tmp), client)
            seconds.append(time.perf_counter())
        mosaic_maps(plan, Path(tmp))
        seconds.append(time.perf_counter())
        maps = {}
        for name in MAP_STYLES:
            with rasterio.open(Path(tmp) / f"{name}.tif") as ds:
                maps[name] = ds.read(1)
    return started, list(np.diff(seconds)), maps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="DEM width [px]")
    parser.add_argument("--resolution", type=float, default=20.0, help="pixel size [m]")
    parser.add_argument("--center-lat", type=float, default=-89.5, help="DEM centre latitude [deg]")
    parser.add_argument("--azimuths", type=int, default=90, help="azimuths per pixel")
    parser.add_argument("--tile-px", type=int, default=512, help="core tile width [px]")
    parser.add_argument("--margin-km", type=float, default=None, help="margin [km] (default: the physics default)")
    parser.add_argument("--start", default="2030-01-01", help="first epoch")
    parser.add_argument("--end", default="2030-02-01", help="last epoch")
    parser.add_argument("--step-h", type=float, default=1.0, help="time step [h]")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    config = IlluminationConfig(start=args.start, end=args.end, step_h=args.step_h)
    azimuths = default_azimuths(args.azimuths)
    settings = TiledConfig(tile_px=args.tile_px, n_azimuths=args.azimuths,
                           margin_m=None if args.margin_km is None else args.margin_km * 1000.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "site.tif"
        dem = synthesize(SynthConfig(size=args.size, resolution_m=args.resolution, center_lat=args.center_lat,
                                     seed=args.seed)).dem
        write_geotiff(dem.astype(np.float32), path)
        warm_up = Path(tmp) / "warm_up.tif"
        write_geotiff(dem[:64, :64].astype(np.float32), warm_up)
        plan = plan_tiled(path, config, settings)
        windows = sum((t.window[0].stop - t.window[0].start) * (t.window[1].stop - t.window[1].start)
                      for t in plan.tiles)
        print(f"bench_tiled_sky: synthetic DEM {args.size} x {args.size} px at {args.resolution:g} m, centre lat "
              f"{args.center_lat:g}, seed {args.seed} (relief {plan.survey.relief_m:.0f} m); {args.azimuths} azimuths; "
              f"maps {args.start} to {args.end} every {args.step_h:g} h")
        print(f"tiles: {len(plan.tiles)} of {args.tile_px} px, margin {plan.job.margin_px} px "
              f"({'given' if args.margin_km is not None else 'default'}), far pixel {plan.job.far_factor} px, "
              f"far reach {plan.job.reach_m / 1000:.1f} km; windows hold {windows / dem.size:.2f}x the DEM's pixels")
        print(f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {cpu_model()}")
        print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
              f"dask {dask.__version__}, lupex {lupex.__version__}; source: {source_state()}")
        print(f"load average at start: {load_average()}")

        single_machine(path, default_azimuths(8), config)  # numba warm-up (compile or cache load), not counted
        (horizons_s, maps_s, files_s), reference = single_machine(path, azimuths, config)
        rows = [("single machine: horizons", horizons_s), ("single machine: maps", maps_s),
                ("single machine: write GeoTIFF + PNG", files_s),
                ("single machine: total", horizons_s + maps_s + files_s)]
        differences = {}
        for workers in (1, 2):
            started, (survey_s, tiles_s, mosaic_s), maps = tiled(path, warm_up, config, settings, workers)
            label = f"tiled, {workers} worker{'s' if workers > 1 else ''}"
            rows += [(f"{label}: survey (far grid)", survey_s), (f"{label}: tiles (horizons + maps)", tiles_s),
                     (f"{label}: mosaic GeoTIFF + PNG", mosaic_s), (f"{label}: total", survey_s + tiles_s + mosaic_s)]
            differences[workers] = maps
            print(f"tiled with {workers} workers: cluster start + warm-up {started:.1f} s (not counted), "
                  f"{survey_s + tiles_s + mosaic_s:.1f} s (load {load_average()})")

    work = dem.size * args.azimuths
    reference_s = horizons_s + maps_s
    width = max(len(name) for name, _ in rows)
    print()
    print(f"{'figure':<{width}}  {'seconds':>8}  {'M px-az/s':>9}  {'single h+m / this':>17}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {work / seconds / 1e6:9.2f}  {reference_s / seconds:17.2f}")
    print()
    tiled_maps = differences[2]
    for name in MAP_STYLES:
        diff = np.abs(tiled_maps[name].astype(float) - reference[name].astype(float))
        print(f"tiled vs single, {name}: max |diff| {np.nanmax(diff):.4g}, mean {np.nanmean(diff):.3g}")
    same = all(np.array_equal(differences[1][n], differences[2][n], equal_nan=True) for n in MAP_STYLES)
    print(f"1 and 2 workers give identical maps: {same}")
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
