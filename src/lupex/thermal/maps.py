"""Temperature and ice-stability maps of a DEM: every pixel a regolith column under its own sky.

Each pixel is a column of the Hayne et al. (2017) model (:mod:`lupex.thermal.solver`) forced
over one lunar season (346.62 days, the period of the Sun's declination in the lunar sky) by
the direct sunlight its horizons let through (:mod:`lupex.thermal.forcing`) plus the
sunlight and infrared of the terrain it sees (:mod:`lupex.thermal.terrain`), and spun up to
periodic equilibrium. From the last cycle come the surface maximum, mean and minimum, the
mean and maximum temperature at every node down to 1.5 m, and the ice-stability depth
(:mod:`lupex.thermal.ice_stability`). Pixels along a row start from their neighbour's
equilibrium, which usually leaves two or three cycles to converge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lupex.errors import LupexError
from lupex.raster import check_polar, ground_pixel_m, like
from lupex.sky.ephemeris import parse_utc
from lupex.sky.horizon import prepare_heights
from lupex.sky.illumination import tilt_terms
from lupex.sky.tracks import epochs, sun_earth_tracks
from lupex.terrain.surface import slope_aspect
from lupex.thermal.forcing import SunForcing, absorbed_series, albedo_coefficients, facet_angles
from lupex.thermal.ice_stability import DiffusionBarrier, loss_rate_at_depth, stability_depth, vapour_table
from lupex.thermal.point import LUNAR_SEASON_DAYS
from lupex.thermal.products import ICE_DEPTH_LIMIT_M
from lupex.thermal.regolith import STEFAN_BOLTZMANN, RegolithParams, make_grid
from lupex.thermal.solver import CYCLE_STATS, equilibrate, initial_profile
from lupex.thermal.terrain import CoarseGrid, accumulate_direct, terrain_absorbed_flux

__all__ = ["MAP_REGOLITH", "ThermalMapConfig", "thermal_maps"]

log = logging.getLogger(__name__)

LUNATION_S = 29.530589 * 86400.0
"""Synodic month [s]: the period that sets the grid's surface skin depth."""

MAP_REGOLITH = RegolithParams(layers_per_skin=3.0, growth_n=2.0)
"""Regolith of the maps: Hayne et al. (2017) properties on a coarser grid (first layer a
third of the diurnal skin depth, growth 1.5; 12 nodes to 1.5 m instead of 27), which changes
the surface maximum and mean by < 0.5 K and the 1.5 m mean by < 1 K
(``tests/thermal/test_maps.py``)."""


class ThermalMapConfig(BaseModel):
    """Settings of a thermal map run (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str = Field("2028-01-01T00:00:00Z", description="Start of the forcing season, ISO 8601 UTC.")
    step_h: float = Field(4.0, gt=0, le=12, description="Time step of the forcing [h].")
    terrain_cells: int = Field(64, ge=0, le=256, description="Coarse cells along the longer side for terrain "
                               "radiation (0: none, the pixel sees only the sky).")
    view_azimuths: int = Field(64, ge=8, le=720, description="Ray azimuths of the view factors.")
    tolerance_k: float = Field(0.05, gt=0, description="Spin-up convergence [K].")
    max_cycles: int = Field(60, ge=2, description="Seasons repeated at most before giving up.")
    cold_trap_k: float = Field(110.0, gt=0, description="Cold trap: annual maximum surface temperature below "
                               "this [K] (Paige et al. 2010; Hayne et al. 2021).")
    regolith: RegolithParams = Field(MAP_REGOLITH, description="Regolith properties and grid.")
    barrier: DiffusionBarrier = Field(default_factory=DiffusionBarrier, description="Dry layer above buried ice.")

    @field_validator("regolith", mode="before")
    @classmethod
    def _over_map_grid(cls, value: Any) -> Any:
        """A partial [regolith] table changes only the fields it names, on the maps' grid."""
        return {**MAP_REGOLITH.model_dump(), **value} if isinstance(value, dict) else value


@numba.njit(parallel=True, cache=True)
def _map_kernel(horizon, dx, dy, cx, cy, facets, albedo, neighbour_index, neighbour_weight, terrain, lower,
                upper_weight, elevation, radius, sin_e, cos_e, tilt_x, tilt_y, sin_az, cos_az, irradiance, z, rho,
                kc, chi, eps_sigma, q_geo, dt, table, table_step, n_vapour, tolerance, max_cycles, stats_out,
                mean_out, max_out, vapour_out, cycles_out):
    rows, nx, _ = horizon.shape
    n_t = lower.size
    n = z.size
    for i in numba.prange(rows):
        forcing = np.empty(n_t)
        temp = np.empty(n)
        stats = np.empty(len(CYCLE_STATS))
        mean = np.empty(n)
        peak = np.empty(n)
        flux = np.empty(n - 1)
        vapour = np.empty(n_vapour)
        surface = np.empty(0)
        for j in range(nx):
            absorbed_series(horizon[i, j], dx[j], dy[i], cx, cy, facets[i, j], albedo, lower, upper_weight, elevation,
                            radius, sin_e, cos_e, tilt_x, tilt_y, sin_az, cos_az, irradiance, forcing)
            for m in range(4):
                forcing += neighbour_weight[i, j, m] * terrain[neighbour_index[i, j, m]]
            if j == 0:
                initial_profile(z, kc, eps_sigma, q_geo, forcing.mean(), temp)
            cycles_out[i, j] = equilibrate(temp, z, rho, kc, chi, eps_sigma, q_geo, forcing, dt, table, table_step,
                                           n_vapour, tolerance, max_cycles, stats, mean, peak, flux, vapour, surface)
            stats_out[i, j] = stats
            mean_out[i, j] = mean[:n_vapour]
            max_out[i, j] = peak[:n_vapour]
            vapour_out[i, j] = vapour


def _row_blocks(horizon, factor: int, budget_bytes: int = 128 << 20):
    """Yield (first row, end row, float32 block (rows, nx, A)) with edges on multiples of ``factor``."""
    n_az, ny, nx = horizon.shape
    rows = max(1, budget_bytes // max(1, 4 * nx * n_az) // factor) * factor
    for start in range(0, ny, rows):
        stop = min(start + rows, ny)
        yield start, stop, np.ascontiguousarray(np.asarray(horizon[:, start:stop, :], dtype=np.float32)
                                                .transpose(1, 2, 0))


def thermal_maps(dem: xr.DataArray, horizon, config: ThermalMapConfig,
                 step: Callable[[str], Any] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> tuple[xr.Dataset, xr.Dataset]:
    """Surface temperature, subsurface temperature and ice-stability maps of a DEM.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the south polar stereographic grid of the horizon cube.
    horizon : array-like, shape (A, ny, nx)
        Horizon angles [deg] at A equally spaced grid azimuths from 0 (NumPy array or the
        lazily read ``horizon_deg`` of :func:`lupex.sky.horizon_store.open_horizon`).
    config : ThermalMapConfig
        Settings.
    step : callable, optional
        Called with a short description as each stage starts.
    progress : callable, optional
        ``progress(rows done, rows)`` while the pixel columns run.

    Returns
    -------
    maps : xarray.Dataset
        ``tmax``, ``tmean``, ``tmin`` [K] (surface over the season), ``ice_depth_m`` [m]
        (NaN: none within 1.5 m), ``cold_trap`` (uint8).
    subsurface : xarray.Dataset
        ``t_mean`` and ``t_max`` [K] with dims (depth, y, x) at the model's nodes down to
        at least 1.5 m, and ``ice_loss_m_per_gyr`` there.

    Raises
    ------
    LupexError
        For a DEM off the polar map or with holes, a cube on another grid, or columns that do
        not converge within ``max_cycles``.
    """
    check_polar(dem, "DEM")
    prepare_heights(dem.values)  # refuses holes before any work
    if horizon.shape[1:] != dem.shape:
        raise LupexError(f"the horizon cube's grid {horizon.shape[1:]} is not the DEM's {dem.shape}")
    step = step or (lambda message: None)
    progress = progress or (lambda done, total: None)
    params = config.regolith
    ny, nx = dem.shape
    n_az = horizon.shape[0]
    x, y = dem["x"].values, dem["y"].values
    reference = (float(x.mean()), float(y.mean()))
    start = parse_utc(config.start)
    end = start + np.timedelta64(int(LUNAR_SEASON_DAYS * 86400), "s")
    times = epochs(start, end, config.step_h)[:-1]
    step(f"ephemeris: the Sun at {times.size} epochs over one lunar season")
    track = sun_earth_tracks(reference, float(np.nanmedian(dem.values)), times, config.step_h)["sun"]
    sun = SunForcing.from_track(track, n_az)
    dx, dy, cx, cy = tilt_terms(x, y, reference, n_az)
    slope_deg, aspect_deg = slope_aspect(dem)
    facets = facet_angles(slope_deg, aspect_deg)
    albedo = albedo_coefficients(params)
    grid = make_grid(params, LUNATION_S, ICE_DEPTH_LIMIT_M)
    n_vapour = int(np.searchsorted(grid.z, ICE_DEPTH_LIMIT_M)) + 1
    eps_sigma = params.emissivity * STEFAN_BOLTZMANN
    dt = sun.step_s
    table, table_step = vapour_table()

    if config.terrain_cells > 0:
        coarse = CoarseGrid.of(dem.values.astype(float), ground_pixel_m(dem), config.terrain_cells)
        step(f"terrain radiation on {coarse.heights.shape[0]} x {coarse.heights.shape[1]} cells")
        incident, absorbed = accumulate_direct(_row_blocks(horizon, coarse.factor), dx, dy, cx, cy, facets, albedo,
                                               coarse, (ny, nx), sun)
        terrain, unconverged = terrain_absorbed_flux(coarse, incident, absorbed, grid, params, dt, config.tolerance_k,
                                                     config.max_cycles, config.view_azimuths)
        index, weight = coarse.neighbours((ny, nx))
    else:
        terrain, unconverged = np.zeros((1, times.size)), 0
        index, weight = np.zeros((ny, nx, 4), dtype=np.int64), np.zeros((ny, nx, 4))

    step(f"regolith columns: {ny} x {nx} pixels, {grid.z.size} nodes, {times.size} steps per season")
    stats = np.empty((ny, nx, len(CYCLE_STATS)))
    mean = np.empty((ny, nx, n_vapour))
    peak = np.empty((ny, nx, n_vapour))
    vapour = np.empty((ny, nx, n_vapour))
    cycles = np.empty((ny, nx), dtype=np.int64)
    progress(0, ny)
    for r0, r1, block in _row_blocks(horizon, 1, budget_bytes=8 << 20):
        with numba.parallel_chunksize(1):  # rows differ in cost: hand them out one at a time
            _map_kernel(block, dx, dy[r0:r1], cx, cy, facets[r0:r1], albedo, index[r0:r1], weight[r0:r1], terrain,
                        *sun.kernel_args(), grid.z, grid.density, grid.contact_conductivity, params.chi, eps_sigma,
                        params.geothermal_flux, dt, table, table_step, n_vapour, config.tolerance_k,
                        config.max_cycles, stats[r0:r1], mean[r0:r1], peak[r0:r1], vapour[r0:r1], cycles[r0:r1])
        progress(r1, ny)
    failed = int(np.sum(cycles < 0)) + unconverged
    if failed:
        raise LupexError(f"the regolith model did not converge to {config.tolerance_k:g} K within "
                         f"{config.max_cycles} seasons at {failed} columns; raise max_cycles or the tolerance")
    log.info("spin-up: %.1f seasons per pixel on average, %d at most", cycles.mean(), cycles.max())

    depth = grid.z[:n_vapour]
    loss = loss_rate_at_depth(vapour, depth, config.barrier)
    ice_depth = stability_depth(loss, depth, config.barrier.loss_limit_m_per_gyr)
    tmax = stats[..., CYCLE_STATS.index("t_max")]
    period = f"one lunar season from {config.start}, every {config.step_h:g} h"
    maps = xr.Dataset({
        "tmax": like(dem, tmax.astype(np.float32), "tmax", "K", f"maximum surface temperature, {period}"),
        "tmean": like(dem, stats[..., CYCLE_STATS.index("t_mean")].astype(np.float32), "tmean", "K",
                      f"mean surface temperature, {period}"),
        "tmin": like(dem, stats[..., CYCLE_STATS.index("t_min")].astype(np.float32), "tmin", "K",
                     f"minimum surface temperature, {period}"),
        "ice_depth_m": like(dem, ice_depth.astype(np.float32), "ice_depth_m", "m",
                            "depth of the shallowest ice losing < 1 mm/Gyr (NaN: none within 1.5 m)"),
        "cold_trap": like(dem, (tmax < config.cold_trap_k).astype(np.uint8), "cold_trap", "1",
                          f"1 = maximum surface temperature below {config.cold_trap_k:g} K"),
    })
    coords = {"depth": ("depth", depth, {"units": "m", "long_name": "depth below the surface"}),
              "y": dem["y"].values, "x": dem["x"].values}
    subsurface = xr.Dataset({
        "t_mean": (("depth", "y", "x"), mean.transpose(2, 0, 1).astype(np.float32), {"units": "K"}),
        "t_max": (("depth", "y", "x"), peak.transpose(2, 0, 1).astype(np.float32), {"units": "K"}),
        "ice_loss_m_per_gyr": (("depth", "y", "x"), loss.transpose(2, 0, 1).astype(np.float32),
                               {"units": "m Gyr-1", "long_name": "loss of ice buried at this depth"}),
    }, coords=coords)
    return maps, subsurface.rio.write_crs(dem.rio.crs)
