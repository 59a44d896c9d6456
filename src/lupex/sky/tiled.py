"""Tiled horizons and illumination maps on Dask, for DEMs larger than memory.

A horizon cube of a 20 m DEM of the whole 80-90 S cap (30400 x 30400 px, 360 azimuths) would
be 1.3 TB, so this path never makes one. The DEM is cut into square core tiles; one Dask task
per tile reads the tile with a margin around it (a windowed read, so no worker ever loads the
whole DEM), computes the horizons of that window with :class:`lupex.sky.horizon.DemHorizons` a
chunk of azimuths at a time, keeps those of the core pixels, reduces them to the maps of
:func:`lupex.sky.maps.illumination_maps`, and writes only the maps (``OUT/tiles/tile_RRR_CCC.nc``,
atomically; optionally the core's horizon cube beside it). The maps are then mosaicked into
full-size GeoTIFFs a tile at a time, with the PNG quicklooks of ``lupex illuminate``.

Why tiles can be independent
    Every map value is a function of one pixel's horizons, its map position and the period
    (:mod:`lupex.sky.illumination`: tables per azimuth, tilt terms per pixel, PSR envelope),
    so a tile's maps need only its own pixels' horizons. Its horizons need the terrain around
    it: at full resolution out to the margin, and beyond it the far field.

Far field
    One pass over the DEM, a band of rows at a time, averages it over blocks of ``factor``
    pixels (the far pixel; default: at least 4 pixels and at most ``FAR_GRID_MAX_PX`` blocks a
    side, 128 MB as float64 at most), checks every height is finite and measures the relief
    range and the largest height a block's mean lies below its highest pixel. That grid is
    scattered once to every worker; each task gives :class:`lupex.sky.horizon.FarField` the
    part of it within the far reach of its window. The far field is not used inside the
    window nor within half a far pixel of it (``FarField``), so near terrain always comes at
    full resolution.

Margin (default, from the physics)
    A target at ground distance ``d`` sinks below an observer's horizontal plane by
    ``d^2 / (2R)``, so terrain farther than ``sqrt(2 R dH)`` (``dH`` the DEM's relief range)
    can never rise above the horizontal of any pixel; beyond it the near field is not needed
    at full resolution (it only shapes negative horizons, seen from heights, which the far
    field supplies). Nearer than that, the far field's error is the height ``dh`` by which a
    block mean lies below its highest pixel, seen at ``d``: ``dh / d``; it falls below
    ``HORIZON_TOLERANCE_DEG`` beyond ``dh / tan(0.1 deg)``, with ``dh`` measured on the DEM
    (exceeded by 1 % of the far pixels). The default margin is the smaller of the two
    distances; ``margin_m`` overrides it.

Far reach
    A line of sight between two points at heights ``h0`` and ``h1`` passes below the DEM's
    lowest height ``hmin`` (and so into terrain) when they are farther apart than
    ``sqrt(2R(h0 - hmin)) + sqrt(2R(h1 - hmin))``, at most ``2 sqrt(2 R dH)``; each task's far
    field is cropped to that distance around its window.

Scale and reference point
    Everything in a tile refers to the centre of its window (the core with its margin): the
    horizons use the ground pixel there (:func:`lupex.raster.ground_pixel_m`, as
    ``DemHorizons`` does for any DEM), and the maps track the Sun and the Earth from there,
    at the window's median height (the ``centre`` of ``illumination_maps``). With a margin
    that covers the whole DEM every window is the DEM, and the tiled maps equal the
    single-machine ones exactly (``tests/sky/test_tiled.py``). On a DEM hundreds of
    kilometres wide this is more accurate than one reference point could be: the tilt
    correction of :mod:`lupex.sky.illumination` is first order in the distance from the
    reference (its error grows as ``(s/R)^2 / 2``, 0.8 deg at 300 km, 0.01 deg at 30 km).

Resume
    A tile is done when its file exists and records the same settings (DEM fingerprint,
    period, tiling; ``tiles/tiling.json``); an interrupted run leaves the finished tiles and
    a rerun computes only the others.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import netCDF4
import numba
import numpy as np
import rasterio
import xarray as xr
from affine import Affine
from pydantic import BaseModel, ConfigDict, Field
from rasterio.enums import Resampling
from rasterio.windows import Window as RasterWindow

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.files import atomic_output
from lupex.limits import MAX_HORIZON_AZIMUTHS, check_memory
from lupex.raster import geotiff_options, grid_array, is_south_polar, pixel_size
from lupex.report.layers import prepare_folder
from lupex.report.quicklook import save_quicklook
from lupex.sky.horizon import DEFAULT_NEAR_FIELD_PX, DemHorizons, default_azimuths
from lupex.sky.horizon_store import dem_fingerprint, write_horizon
from lupex.sky.maps import MAP_STYLES, IlluminationConfig, illumination_maps, maps_bytes
from lupex.terrain.readers import READ_BYTES_PER_PX, DemFile, open_dem

__all__ = [
    "FAR_GRID_MAX_PX",
    "HORIZON_TOLERANCE_DEG",
    "MIN_TILE_PX",
    "DemSurvey",
    "Tile",
    "TileJob",
    "TiledConfig",
    "TiledPlan",
    "compute_tiles",
    "default_margin_m",
    "mosaic_maps",
    "plan_tiled",
    "plan_tiles",
    "prepare_tiled_folder",
    "survey_dem",
    "tiled_illumination",
]

MIN_TILE_PX = 32
"""Smallest core tile [pixels]: the fast kernel's near field is 32 px."""

FAR_MIN_FACTOR = 4
"""Smallest far pixel by default [DEM pixels]: the far field costs 8 samples per far pixel
along each sweep line, so a far grid as fine as the DEM would cost more than the tile."""

FAR_GRID_MAX_PX = 4096
"""Most far pixels on a side by default (128 MB as float64, held by every worker)."""

HORIZON_TOLERANCE_DEG = 0.1
"""Error of a horizon the default margin allows the far field [deg]. Assumption: about a
third of the Sun's angular radius (0.27 deg)."""

LOSS_PERCENTILE = 99.0
"""Percentile of the far pixels' flattened peaks the default margin is sized for [%]: the
largest one is a single crater wall, and would size every tile's margin for it."""

SURVEY_BAND_ROWS = 256
"""DEM rows read at a time by the survey pass (rounded to whole far pixels) [pixels]."""

WINDOW_CHUNK_BYTES = 256 << 20
"""Memory for one chunk of azimuths of a window's horizons [bytes]."""

QUICKLOOK_MAX_PX = 2048
"""Largest side of a PNG quicklook; larger mosaics are shown decimated [pixels]."""

TILING_FORMAT = 1
"""Version of the tile files and of ``tiling.json``."""


class TiledConfig(BaseModel):
    """How the DEM is tiled (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tile_px: int = Field(ge=MIN_TILE_PX, description="Core tile width and height [pixels].")
    margin_m: float | None = Field(
        None, ge=0.0, description="Terrain read at full resolution around each tile [m]; "
        "default from the relief and the far field (default_margin_m).")
    far_pixel_m: float | None = Field(
        None, gt=0.0, description="Pixel of the far-field grid [m], rounded to whole DEM pixels; default "
        f"{FAR_MIN_FACTOR} DEM pixels or the DEM's side / {FAR_GRID_MAX_PX}, whichever is larger.")
    n_azimuths: int = Field(360, ge=8, le=MAX_HORIZON_AZIMUTHS, description="Equally spaced grid azimuths of the "
                            "horizons (at most lupex.limits.MAX_HORIZON_AZIMUTHS).")
    keep_horizons: bool = Field(False, description="Also keep each tile's horizon cube (tiles/horizon_RRR_CCC.nc).")


@dataclass(frozen=True)
class DemSurvey:
    """What one pass over the DEM learns: the far-field grid and the relief.

    Attributes
    ----------
    far : xarray.DataArray
        Block means of the DEM over ``factor`` x ``factor`` pixels [m] (the DEM's last
        rows and columns that fill no whole block are left out).
    factor : int
        Far pixel [DEM pixels].
    relief_m : float
        Highest minus lowest height of the DEM [m].
    loss_m : float
        Height by which a block's mean lies below its highest pixel, exceeded by 1 % of the
        blocks [m].
    """

    far: xr.DataArray
    factor: int
    relief_m: float
    loss_m: float

    def fingerprint(self) -> str:
        """A short hash of the far grid, its geometry and CRS: the DEM's identity."""
        return dem_fingerprint(self.far)


@dataclass(frozen=True)
class Tile:
    """A core tile and the window read around it, as (rows, columns) slices of the DEM."""

    row: int
    col: int
    core: tuple[slice, slice]
    window: tuple[slice, slice]

    @property
    def name(self) -> str:
        """``tile_RRR_CCC``, its tile row and column."""
        return f"tile_{self.row:03d}_{self.col:03d}"

    def core_in_window(self) -> tuple[slice, slice]:
        """The core as slices of the window."""
        (r, c), (wr, wc) = self.core, self.window
        return slice(r.start - wr.start, r.stop - wr.start), slice(c.start - wc.start, c.stop - wc.start)


@dataclass(frozen=True)
class TileJob:
    """What a worker needs for any tile (small: it travels with every task).

    Attributes
    ----------
    dem_path : str
        The DEM file.
    config : IlluminationConfig
        Period and settings of the maps.
    n_azimuths : int
        Azimuths of the horizons.
    keep_horizons : bool
        Whether each tile's horizon cube is kept.
    margin_px : int
        Margin around each core [pixels].
    far_factor : int
        Far pixel [DEM pixels].
    reach_m : float
        Far-field reach around each window [m].
    identity : str
        JSON of the settings a tile file must record to be reused.
    """

    dem_path: str
    config: IlluminationConfig
    n_azimuths: int
    keep_horizons: bool
    margin_px: int
    far_factor: int
    reach_m: float
    identity: str


@dataclass(frozen=True)
class TiledPlan:
    """Everything a tiled run needs, fixed before any tile is computed: the job every task
    shares, the survey (whose far grid is scattered once) and the tiles, row by row."""

    job: TileJob
    survey: DemSurvey
    tiles: list[Tile]


# --- planning -------------------------------------------------------------------------------


def open_polar_dem(dem_path: str | os.PathLike) -> tuple[DemFile, float]:
    """Open a DEM without reading it; refuse one off the south polar map or with non-square
    pixels. Returns the file and its map pixel [m]."""
    dem_file = open_dem(dem_path)
    if not is_south_polar(dem_file.crs):
        raise LupexError(f"{Path(dem_path).name} is not on the lunar south polar stereographic map; "
                         "crop it onto the map with 'lupex terrain crop' first")
    corner = dem_file.read((slice(0, min(2, dem_file.height)), slice(0, min(2, dem_file.width))))
    return dem_file, pixel_size(corner)


def far_factor(dem_file: DemFile, pixel_m: float, far_pixel_m: float | None) -> int:
    """The far pixel in whole DEM pixels (see :class:`TiledConfig`)."""
    if far_pixel_m is not None:
        return max(1, round(far_pixel_m / pixel_m))
    return max(FAR_MIN_FACTOR, math.ceil(max(dem_file.height, dem_file.width) / FAR_GRID_MAX_PX))


def survey_dem(dem_file: DemFile, factor: int) -> DemSurvey:
    """Average the DEM over blocks of ``factor`` pixels, a band of rows at a time.

    Raises
    ------
    LupexError
        When a height is missing (the horizons need every one), or the DEM holds fewer than
        2 x 2 blocks.
    """
    ny, nx = dem_file.height // factor, dem_file.width // factor
    if min(ny, nx) < 2:
        raise LupexError(f"a far pixel of {factor} DEM pixels leaves fewer than 2 x 2 far pixels on this "
                         f"{dem_file.height} x {dem_file.width} DEM; choose a smaller far pixel")
    means, losses = np.empty((ny, nx)), np.empty((ny, nx))
    low, high = np.inf, -np.inf
    band = factor * max(1, SURVEY_BAND_ROWS // factor)
    for start in range(0, dem_file.height, band):
        stop = min(start + band, dem_file.height)
        heights = dem_file.read((slice(start, stop), slice(0, dem_file.width))).values
        if not np.isfinite(heights).all():
            raise LupexError(f"the DEM has missing heights in rows {start}-{stop - 1}; fill or crop them "
                             "before computing horizons")
        low, high = min(low, float(heights.min())), max(high, float(heights.max()))
        rows = (stop - start) // factor
        if rows == 0 or start // factor >= ny:
            continue
        rows = min(rows, ny - start // factor)
        blocks = heights[:rows * factor, :nx * factor].astype(np.float64).reshape(rows, factor, nx, factor)
        mean = blocks.mean(axis=(1, 3))
        means[start // factor:start // factor + rows] = mean
        losses[start // factor:start // factor + rows] = blocks.max(axis=(1, 3)) - mean
    far = grid_array(means, dem_file.transform @ Affine.scale(factor), dem_file.crs, "height", "m",
                     f"DEM averaged over {factor} x {factor} pixels")
    return DemSurvey(far, factor, high - low, float(np.percentile(losses, LOSS_PERCENTILE)))


def default_margin_m(survey: DemSurvey) -> float:
    """Full-resolution margin around each tile [m] (module docstring, "Margin").

    The smaller of ``sqrt(2 R dH)``, beyond which no terrain rises above any pixel's
    horizontal plane, and ``dh / tan(HORIZON_TOLERANCE_DEG)``, beyond which the far field's
    flattened peaks (99th percentile) move a horizon by less than that tolerance.
    """
    curvature = math.sqrt(2.0 * MOON_RADIUS_M * survey.relief_m)
    far_error = survey.loss_m / math.tan(math.radians(HORIZON_TOLERANCE_DEG))
    return min(curvature, far_error)


def far_reach_m(survey: DemSurvey) -> float:
    """Distance beyond a window at which no terrain of the DEM can show [m]: lines of sight
    longer than ``2 sqrt(2 R dH)`` pass below the DEM's lowest point."""
    return 2.0 * math.sqrt(2.0 * MOON_RADIUS_M * survey.relief_m)


def plan_tiles(height: int, width: int, tile_px: int, margin_px: int) -> list[Tile]:
    """Core tiles of ``tile_px`` (smaller at the last row and column) and their windows,
    grown by ``margin_px`` and clipped to the DEM, row by row."""
    tiles = []
    for i, r0 in enumerate(range(0, height, tile_px)):
        for j, c0 in enumerate(range(0, width, tile_px)):
            r1, c1 = min(r0 + tile_px, height), min(c0 + tile_px, width)
            window = (slice(max(0, r0 - margin_px), min(height, r1 + margin_px)),
                      slice(max(0, c0 - margin_px), min(width, c1 + margin_px)))
            tiles.append(Tile(i, j, (slice(r0, r1), slice(c0, c1)), window))
    return tiles


def plan_tiled(dem_path: str | os.PathLike, config: IlluminationConfig, tiled: TiledConfig) -> TiledPlan:
    """Check the request, survey the DEM (one pass over it) and fix the tiles and settings.

    Raises
    ------
    LupexError
        For a DEM off the south polar map, with non-square pixels or missing heights.
    """
    dem_file, pixel_m = open_polar_dem(dem_path)
    survey = survey_dem(dem_file, far_factor(dem_file, pixel_m, tiled.far_pixel_m))
    margin_m = default_margin_m(survey) if tiled.margin_m is None else tiled.margin_m
    margin_px = math.ceil(margin_m / pixel_m)
    tiles = plan_tiles(dem_file.height, dem_file.width, tiled.tile_px, margin_px)
    check_tile_memory(tiles, tiled.n_azimuths)
    identity = json.dumps({
        "lupex_tiling": TILING_FORMAT, "dem": survey.fingerprint(), "shape": [dem_file.height, dem_file.width],
        "illumination": config.model_dump(), "n_azimuths": tiled.n_azimuths,
        "near_field_px": DEFAULT_NEAR_FIELD_PX, "tile_px": tiled.tile_px, "margin_px": margin_px,
        "far_factor": survey.factor,
    }, sort_keys=True)
    job = TileJob(str(dem_path), config, tiled.n_azimuths, tiled.keep_horizons, margin_px, survey.factor,
                  far_reach_m(survey), identity)
    return TiledPlan(job, survey, tiles)


def check_tile_memory(tiles: list[Tile], n_azimuths: int) -> None:
    """Refuse tiles whose task would not fit in this machine's memory, before any is computed.

    A task's peak is its window read (``READ_BYTES_PER_PX`` a window pixel), a chunk of azimuths
    of the window's horizons (``WINDOW_CHUNK_BYTES``, at least one azimuth), the core's horizon
    cube (4 B a core pixel and azimuth) and the core's maps (:func:`lupex.sky.maps.maps_bytes`).
    Each local worker runs one task at a time, so a machine with W workers needs W times this.

    Raises
    ------
    LupexError
        When the largest tile's task exceeds :func:`lupex.limits.memory_budget`.
    """
    def shape(part: tuple[slice, slice]) -> tuple[int, int]:
        return part[0].stop - part[0].start, part[1].stop - part[1].start

    window = max(math.prod(shape(tile.window)) for tile in tiles)
    core = max((shape(tile.core) for tile in tiles), key=math.prod)
    peak = (float(window) * READ_BYTES_PER_PX + max(WINDOW_CHUNK_BYTES, 4.0 * window)
            + 4.0 * n_azimuths * math.prod(core) + maps_bytes(core, n_azimuths))
    check_memory(peak, f"one tile ({math.prod(core):,} core pixels in a window of {window:,}, {n_azimuths} "
                 "azimuths)", "choose a smaller --tile-px or --margin-km")


# --- output folder --------------------------------------------------------------------------


def tile_paths(out_dir: Path, tile: Tile) -> tuple[Path, Path]:
    """The maps file and the kept horizon file of a tile."""
    folder = out_dir / "tiles"
    return folder / f"{tile.name}.nc", folder / f"horizon_{tile.name[5:]}.nc"


def prepare_tiled_folder(plan: TiledPlan, out_dir: Path, overwrite: bool) -> None:
    """Check the maps may be written and make ``OUT/tiles`` for this plan, keeping tiles of
    the same plan to resume from.

    Raises
    ------
    LupexError
        When a map exists, or the folder holds tiles of another DEM or other settings, and
        ``overwrite`` is false (with it, those tiles are deleted).
    """
    prepare_folder(out_dir, list(MAP_STYLES), overwrite, keep=("tiles",))
    folder = out_dir / "tiles"
    stamp = folder / "tiling.json"
    # A folder with neither stamp nor tiles is one a run stopped before stamping: reused.
    unstamped = folder.is_dir() and not stamp.is_file() and not any(
        not entry.name.startswith(".") for entry in folder.iterdir())
    if folder.exists() and not unstamped and (not stamp.is_file() or stamp.read_text() != plan.job.identity):
        if not overwrite:
            raise LupexError(f"{folder} holds tiles of another DEM or other settings; pass --overwrite "
                             "to replace them, or choose another --out")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.part*"):  # left by a worker killed while writing
        stale.unlink(missing_ok=True)
    if not stamp.is_file():
        with atomic_output(stamp) as tmp:
            tmp.write_text(plan.job.identity)


def tile_done(job: TileJob, out_dir: Path, tile: Tile) -> bool:
    """Whether a tile's file exists for exactly this job (and its horizons, if kept)."""
    maps, horizon = tile_paths(out_dir, tile)
    if job.keep_horizons and not horizon.is_file():
        return False
    try:
        with netCDF4.Dataset(maps) as nc:
            return nc.getncattr("lupex_tiling") == job.identity
    except (OSError, AttributeError):
        return False


# --- one tile (runs on a worker) -----------------------------------------------------------


def far_crop(far: xr.DataArray, window: xr.DataArray, reach_m: float) -> xr.DataArray | None:
    """The far grid within ``reach_m`` of the window's box; None when it adds nothing (the
    window holds the whole DEM, or fewer than 2 x 2 far pixels lie around it)."""
    x, y = window["x"].values, window["y"].values
    fx, fy = far["x"].values, far["y"].values
    step = pixel_size(far)
    beyond = ((fx < x.min() - step / 2) | (fx > x.max() + step / 2)).any() or (
        (fy < y.min() - step / 2) | (fy > y.max() + step / 2)).any()
    cols = np.flatnonzero((fx >= x.min() - reach_m) & (fx <= x.max() + reach_m))
    rows = np.flatnonzero((fy >= y.min() - reach_m) & (fy <= y.max() + reach_m))
    if not beyond or min(cols.size, rows.size) < 2:
        return None
    part = far.values[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    transform = far.rio.transform() @ Affine.translation(cols[0], rows[0])
    return grid_array(part, transform, far.rio.crs, "height", "m")


def kernel_threads(tasks_per_host: dict[str, int]) -> int:
    """Numba threads for one task: this host's usable cores shared among its running tasks."""
    from distributed import get_worker

    host = urlparse(get_worker().address).hostname
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(numba.config.NUMBA_NUM_THREADS, cores // max(1, tasks_per_host.get(host, 1))))


def core_horizons(window: xr.DataArray, tile: Tile, job: TileJob, far: xr.DataArray | None) -> np.ndarray:
    """Horizons of the core pixels [deg], float32 (A, ny, nx), computed over the window a
    chunk of azimuths at a time."""
    rows, cols = tile.core_in_window()
    azimuths = default_azimuths(job.n_azimuths)
    horizons = DemHorizons(window, job.config.observer_height_m, DEFAULT_NEAR_FIELD_PX,
                           far_crop(far, window, job.reach_m) if far is not None else None)
    cube = np.empty((azimuths.size, rows.stop - rows.start, cols.stop - cols.start), dtype=np.float32)
    size = max(1, WINDOW_CHUNK_BYTES // (4 * window.size))
    for part, block in horizons.chunks(azimuths, size):
        cube[part] = block[:, rows, cols]
    return cube


def keep_horizon(path: Path, core: xr.DataArray, cube: np.ndarray, job: TileJob) -> None:
    """Write a tile's core horizon cube as a horizon file (``lupex.sky.horizon_store``)."""
    azimuths = default_azimuths(job.n_azimuths)
    label = f"tiled: margin {job.margin_px} px, DEM averaged over {job.far_factor} px"
    write_horizon(path, core, azimuths, lambda part: cube[np.searchsorted(azimuths, part)],
                  observer_height_m=job.config.observer_height_m, far_field=label, overwrite=True)


def compute_tile(job: TileJob, tile: Tile, out_dir: str, far: xr.DataArray | None,
                 tasks_per_host: dict[str, int]) -> str:
    """Horizons and maps of one tile, written to ``OUT/tiles/tile_RRR_CCC.nc``; its name.

    ``far`` is the scattered far grid; the kernels use this host's share of its cores.
    """
    numba.set_num_threads(kernel_threads(tasks_per_host))
    maps_path, horizon_path = tile_paths(Path(out_dir), tile)
    window = open_dem(job.dem_path).read(tile.window)
    cube = core_horizons(window, tile, job, far)
    rows, cols = tile.core_in_window()
    core = grid_array(window.values[rows, cols], window.rio.transform() @ Affine.translation(cols.start, rows.start),
                      window.rio.crs, "height", "m", window.attrs.get("long_name", ""))
    if job.keep_horizons:
        keep_horizon(horizon_path, core, cube, job)
    centre = (float(window["x"].values.mean()), float(window["y"].values.mean()), float(np.median(window.values)))
    maps = illumination_maps(core, cube, job.config, centre=centre)
    maps.attrs["lupex_tiling"] = job.identity
    encoding = {name: {"zlib": True, "complevel": 1} for name in maps.data_vars}
    with atomic_output(maps_path, overwrite=True) as tmp:
        maps.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    return tile.name


# --- all tiles (client side) ----------------------------------------------------------------


def tasks_by_host(client) -> dict[str, int]:
    """Tasks each host runs at once: the worker threads on it."""
    counts: dict[str, int] = {}
    for address, info in client.scheduler_info()["workers"].items():
        host = urlparse(address).hostname
        counts[host] = counts.get(host, 0) + int(info.get("nthreads", 1))
    return counts


def compute_tiles(plan: TiledPlan, out_dir: Path, client,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Compute every tile not yet done on the cluster of ``client``; returns how many ran.

    ``progress(tiles_done, tiles_total)`` is called once at the start and after each tile.
    On any interruption (Ctrl-C included) the tiles still queued are cancelled; the finished
    ones stay for a rerun.
    """
    from distributed import as_completed

    todo = [tile for tile in plan.tiles if not tile_done(plan.job, out_dir, tile)]
    done = len(plan.tiles) - len(todo)
    progress = progress or (lambda done, total: None)
    progress(done, len(plan.tiles))
    if not todo:
        return 0
    # A key of its own (hash=False): a key shared with an earlier call on this client can be
    # released by that call's clean-up while these tasks wait on it ("lost dependencies").
    far = client.scatter(plan.survey.far, broadcast=True, hash=False)
    hosts = tasks_by_host(client)
    futures = [client.submit(compute_tile, plan.job, tile, str(out_dir), far, hosts, pure=False) for tile in todo]
    try:
        for future in as_completed(futures):
            future.result()
            done += 1
            progress(done, len(plan.tiles))
    finally:
        client.cancel(futures)
    return len(todo)


# --- mosaic -------------------------------------------------------------------------------


def geotiff_profile(plan: TiledPlan, dtype: str) -> dict:
    """The creation options of :func:`lupex.raster.write_geotiff`, for the whole DEM grid."""
    dem_file = open_dem(plan.job.dem_path)
    profile = {"driver": "GTiff", "width": dem_file.width, "height": dem_file.height, "count": 1, "dtype": dtype,
               "crs": rasterio.crs.CRS.from_wkt(dem_file.crs.to_wkt()), "transform": dem_file.transform,
               **geotiff_options((dem_file.height, dem_file.width), dtype)}
    if np.issubdtype(np.dtype(dtype), np.floating):
        profile["nodata"] = np.nan
    return profile


def mosaic_geotiff(plan: TiledPlan, out_dir: Path, name: str, overwrite: bool) -> Path:
    """Write one map as a full-size GeoTIFF, a tile at a time; return its path."""
    first, _ = tile_paths(out_dir, plan.tiles[0])
    with xr.open_dataset(first, engine="netcdf4") as ds:
        dtype, attrs = str(ds[name].dtype), dict(ds[name].attrs)
    tif = out_dir / f"{name}.tif"
    with atomic_output(tif, overwrite) as tmp, rasterio.open(tmp, "w", **geotiff_profile(plan, dtype)) as dst:
        for tile in plan.tiles:
            with xr.open_dataset(tile_paths(out_dir, tile)[0], engine="netcdf4") as ds:
                values = ds[name].values
            rows, cols = tile.core
            dst.write(values, 1, window=RasterWindow(cols.start, rows.start, values.shape[1], values.shape[0]))
        dst.update_tags(long_name=attrs.get("long_name", name), units=attrs.get("units", ""))
        dst.set_band_description(1, attrs.get("long_name", name))
    return tif


def quicklook_layer(tif: Path, name: str) -> xr.DataArray:
    """A mosaic GeoTIFF as a grid at most ``QUICKLOOK_MAX_PX`` a side (averaged when larger;
    nearest pixel for the 0/1 PSR map)."""
    with rasterio.open(tif) as ds:
        step = math.ceil(max(ds.height, ds.width) / QUICKLOOK_MAX_PX)
        shape = (math.ceil(ds.height / step), math.ceil(ds.width / step))
        resampling = Resampling.nearest if ds.dtypes[0] == "uint8" else Resampling.average
        values = ds.read(1, out_shape=shape, resampling=resampling)
        transform = ds.transform @ Affine.scale(ds.width / shape[1], ds.height / shape[0])
        tags = ds.tags()
        crs = ds.crs.to_wkt()
    return grid_array(values, transform, crs, name, tags.get("units", ""), tags.get("long_name", name))


def mosaic_maps(plan: TiledPlan, out_dir: Path, overwrite: bool = False) -> list[Path]:
    """Every map of :data:`MAP_STYLES` as ``NAME.tif`` and ``NAME.png`` in ``out_dir``.

    GeoTIFFs are written a tile at a time, as :func:`lupex.raster.write_geotiff` writes
    them; quicklooks are drawn, as ``lupex illuminate`` draws them, over the DEM's hillshade
    (over the far grid's when the DEM is larger than ``QUICKLOOK_MAX_PX``).
    """
    missing = [tile.name for tile in plan.tiles if not tile_done(plan.job, out_dir, tile)]
    if missing:
        raise LupexError(f"{len(missing)} tiles are not computed yet (first {missing[0]}); rerun to finish them")
    dem_file = open_dem(plan.job.dem_path)
    small = max(dem_file.height, dem_file.width) <= QUICKLOOK_MAX_PX
    relief = dem_file.read() if small else plan.survey.far
    paths = []
    for name, style in MAP_STYLES.items():
        tif = mosaic_geotiff(plan, out_dir, name, overwrite)
        layer = quicklook_layer(tif, name)
        png = out_dir / f"{name}.png"
        save_quicklook(layer, png, layer.attrs.get("long_name", name), style.cmap, style.label, relief=relief,
                       vmin=style.vmin, vmax=style.vmax, overwrite=overwrite)
        paths += [tif, png]
    return paths


def tiled_illumination(dem_path: str | os.PathLike, config: IlluminationConfig, tiled: TiledConfig,
                       out_dir: str | os.PathLike, client, overwrite: bool = False,
                       progress: Callable[[int, int], None] | None = None,
                       step: Callable[[str], Any] | None = None) -> list[Path]:
    """The maps of ``lupex illuminate`` computed tile by tile on a Dask cluster.

    Parameters
    ----------
    dem_path : path-like
        DEM on the south polar stereographic map (GeoTIFF or PDS3), any size.
    config : IlluminationConfig
        Period and settings.
    tiled : TiledConfig
        Tiling settings.
    out_dir : path-like
        Output folder: the maps, and ``tiles/`` (kept for resuming).
    client : distributed.Client
        From :func:`lupex.cluster.connect`.
    overwrite : bool
        Replace existing maps, and tiles of other settings.
    progress : callable, optional
        ``progress(tiles_done, tiles_total)``.
    step : callable, optional
        Called with a short description as each phase starts.

    Returns
    -------
    list of Path
        The GeoTIFF and PNG of each map.
    """
    step = step or (lambda message: None)
    step("surveying the DEM (far field, relief)")
    plan = plan_tiled(dem_path, config, tiled)
    out = Path(out_dir)
    prepare_tiled_folder(plan, out, overwrite)
    step(f"{len(plan.tiles)} tiles of {tiled.tile_px} px, margin {plan.job.margin_px} px, far pixel "
         f"{plan.job.far_factor} px")
    compute_tiles(plan, out, client, progress)
    return mosaic_maps(plan, out, overwrite)
