"""Sunlight scattered and infrared emitted by the surrounding terrain, on a coarsened grid.

Terrain radiation matters most where the Sun never shines: a permanently shadowed floor is
warmed only by what its sunlit walls scatter and emit (Ingersoll et al. 1992, Icarus 100;
Paige et al. 2010, Science 330). Coupling every pixel to every other is quadratic, so the DEM
is block-averaged to a coarse grid (about 64 x 64 cells by default) whose view factors
(:func:`lupex.thermal.viewfactors.view_factors`) carry the exchange:

1. the direct sunlight incident on and absorbed by each fine pixel is averaged over its
   coarse cell at every epoch (:func:`accumulate_direct`);
2. the light those cells reflect is scattered to all orders
   (:func:`lupex.thermal.viewfactors.scattered_sunlight`), once for all epochs (it does not
   depend on temperature);
3. the coarse cells' temperatures are spun up under direct plus scattered light, their
   emitted infrared is exchanged through the view factors (with one reflection of
   ``1 - emissivity``), and the cells are spun up again with it: a fixed-point iteration
   that converges like ``f^k`` for a view factor ``f`` (a few passes);
4. each fine pixel then absorbs the terrain flux of the coarse cells around it,
   interpolated bilinearly (:func:`lupex.thermal.maps`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from lupex.thermal.forcing import SunForcing, direct_flux
from lupex.thermal.ice_stability import vapour_table
from lupex.thermal.regolith import STEFAN_BOLTZMANN, Grid, RegolithParams
from lupex.thermal.solver import CYCLE_STATS, equilibrate, initial_profile
from lupex.thermal.viewfactors import scattered_sunlight, view_factors

__all__ = ["CoarseGrid", "accumulate_direct", "terrain_absorbed_flux"]

log = logging.getLogger(__name__)

IR_PASSES = 3
"""Spin-ups of the coarse cells: without terrain infrared, then twice with it [-]."""


@dataclass(frozen=True)
class CoarseGrid:
    """A DEM block-averaged by an integer factor.

    Attributes
    ----------
    factor : int
        Fine pixels per coarse cell along each axis.
    heights : ndarray
        Mean height of each coarse cell [m], shape (ny_c, nx_c); partial cells at the
        right and bottom edges average the pixels they hold.
    pixel_m : float
        Ground size of a coarse cell [m].
    """

    factor: int
    heights: NDArray
    pixel_m: float

    @classmethod
    def of(cls, heights: NDArray, pixel_m: float, cells: int) -> CoarseGrid:
        """Block-average ``heights`` so that the longer side has at most ``cells`` cells."""
        ny, nx = heights.shape
        factor = max(1, int(np.ceil(max(ny, nx) / cells)))
        ny_c, nx_c = -(-ny // factor), -(-nx // factor)
        padded = np.full((ny_c * factor, nx_c * factor), np.nan)
        padded[:ny, :nx] = heights
        blocks = padded.reshape(ny_c, factor, nx_c, factor)
        return cls(factor, np.nanmean(blocks, axis=(1, 3)), pixel_m * factor)

    @property
    def size(self) -> int:
        """Number of coarse cells."""
        return self.heights.size

    def neighbours(self, fine_shape: tuple[int, int]) -> tuple[NDArray, NDArray]:
        """The four coarse cells around each fine pixel centre and their bilinear weights.

        Returns
        -------
        index : ndarray of int64, shape (ny, nx, 4)
            Flat coarse-cell indices.
        weight : ndarray, shape (ny, nx, 4)
            Weights summing to 1 [-].
        """
        ny_c, nx_c = self.heights.shape

        def axis(n_fine: int, n_coarse: int) -> tuple[NDArray, NDArray, NDArray]:
            u = np.clip((np.arange(n_fine) + 0.5) / self.factor - 0.5, 0.0, n_coarse - 1)
            low = np.minimum(np.floor(u).astype(np.int64), max(n_coarse - 2, 0))
            high = np.minimum(low + 1, n_coarse - 1)
            return low, high, u - low

        r0, r1, wr = axis(fine_shape[0], ny_c)
        c0, c1, wc = axis(fine_shape[1], nx_c)
        index = np.stack(np.broadcast_arrays(
            (r0 * nx_c)[:, None] + c0[None, :], (r0 * nx_c)[:, None] + c1[None, :],
            (r1 * nx_c)[:, None] + c0[None, :], (r1 * nx_c)[:, None] + c1[None, :]), axis=-1)
        weight = np.stack(np.broadcast_arrays(
            ((1 - wr)[:, None] * (1 - wc)[None, :]), ((1 - wr)[:, None] * wc[None, :]),
            (wr[:, None] * (1 - wc)[None, :]), (wr[:, None] * wc[None, :])), axis=-1)
        return np.ascontiguousarray(index), np.ascontiguousarray(weight)


@numba.njit(parallel=True, cache=True)
def _accumulate_kernel(horizon, row0, dx, dy, cx, cy, facets, albedo, factor, nx_c, lower, upper_weight, elevation,
                       radius, sin_e, cos_e, tilt_x, tilt_y, sin_az, cos_az, irradiance, incident_sum, absorbed_sum):
    rows, nx, _ = horizon.shape
    n_t = lower.size
    for jc in numba.prange(nx_c):
        for i in range(rows):
            cell = ((row0 + i) // factor) * nx_c + jc
            for j in range(jc * factor, min((jc + 1) * factor, nx)):
                for k in range(n_t):
                    incident, absorbed = direct_flux(horizon[i, j], dx[j], dy[i], cx, cy, facets[i, j], albedo, k,
                                                     lower, upper_weight, elevation, radius, sin_e, cos_e, tilt_x,
                                                     tilt_y, sin_az, cos_az, irradiance)
                    incident_sum[cell, k] += incident
                    absorbed_sum[cell, k] += absorbed


def accumulate_direct(blocks, dx: NDArray, dy: NDArray, cx: NDArray, cy: NDArray, facets: NDArray,
                      albedo: NDArray, coarse: CoarseGrid, fine_shape: tuple[int, int],
                      sun: SunForcing) -> tuple[NDArray, NDArray]:
    """Direct sunlight incident on and absorbed by each coarse cell at each epoch [W m^-2].

    Parameters
    ----------
    blocks : iterable
        ``(first row, end row, horizon block (rows, nx, A) float32)`` with block edges on
        multiples of ``coarse.factor`` rows.
    dx, dy : ndarray
        Pixel offsets from the Sun track's reference point along x (nx) and y (ny) [m].
    cx, cy : ndarray
        Tilt coefficients per horizon azimuth [deg m^-1].
    facets : ndarray, shape (ny, nx, 4)
        From :func:`lupex.thermal.forcing.facet_angles`.
    albedo : ndarray
        Incidence-law coefficients (:func:`lupex.thermal.forcing.albedo_coefficients`).
    coarse : CoarseGrid
        The coarse grid.
    fine_shape : tuple of int
        (ny, nx) of the DEM.
    sun : SunForcing
        The Sun's track.

    Returns
    -------
    incident, absorbed : ndarray, shape (cells, epochs)
        Cell means [W m^-2].
    """
    n_t = sun.lower.size
    incident = np.zeros((coarse.size, n_t))
    absorbed = np.zeros((coarse.size, n_t))
    nx_c = coarse.heights.shape[1]
    for r0, r1, block in blocks:
        _accumulate_kernel(block, r0, dx, dy[r0:r1], cx, cy, facets[r0:r1], albedo, coarse.factor, nx_c,
                           *sun.kernel_args(), incident, absorbed)
    counts = np.zeros(coarse.heights.shape)
    ny, nx = fine_shape
    rows = np.minimum(coarse.factor, ny - coarse.factor * np.arange(coarse.heights.shape[0]))
    cols = np.minimum(coarse.factor, nx - coarse.factor * np.arange(nx_c))
    counts[:] = rows[:, None] * cols[None, :]
    return incident / counts.reshape(-1, 1), absorbed / counts.reshape(-1, 1)


@numba.njit(parallel=True, cache=True)
def _columns_kernel(forcing, temps, z, rho, kc, chi, eps_sigma, q_geo, dt, table, table_step, tolerance, max_cycles,
                    surface, cycles):
    n = z.size
    for c in numba.prange(forcing.shape[0]):
        stats = np.empty(len(CYCLE_STATS))
        mean = np.empty(n)
        peak = np.empty(n)
        flux = np.empty(n - 1)
        vapour = np.empty(0)
        cycles[c] = equilibrate(temps[c], z, rho, kc, chi, eps_sigma, q_geo, forcing[c], dt, table, table_step, 0,
                                tolerance, max_cycles, stats, mean, peak, flux, vapour, surface[c])


def _surface_histories(forcing: NDArray, temps: NDArray, grid: Grid, params: RegolithParams, dt_s: float,
                       tolerance_k: float, max_cycles: int) -> tuple[NDArray, int]:
    """Spin every coarse column up under its forcing; its surface temperatures [K] and the
    number of columns that did not converge."""
    table, table_step = vapour_table()
    surface = np.empty_like(forcing)
    cycles = np.empty(forcing.shape[0], dtype=np.int64)
    with numba.parallel_chunksize(1):
        _columns_kernel(forcing, temps, grid.z, grid.density, grid.contact_conductivity, params.chi,
                        params.emissivity * STEFAN_BOLTZMANN, params.geothermal_flux, dt_s, table, table_step,
                        tolerance_k, max_cycles, surface, cycles)
    return surface, int(np.sum(cycles < 0))


def terrain_absorbed_flux(coarse: CoarseGrid, incident: NDArray, absorbed: NDArray, grid: Grid,
                          params: RegolithParams, dt_s: float, tolerance_k: float, max_cycles: int,
                          view_azimuths: int = 64) -> tuple[NDArray, int]:
    """Flux each coarse cell absorbs from the terrain it sees, at every epoch [W m^-2].

    Parameters
    ----------
    coarse : CoarseGrid
        The coarse grid.
    incident, absorbed : ndarray, shape (cells, epochs)
        Direct sunlight incident on and absorbed by each cell [W m^-2]
        (:func:`accumulate_direct`).
    grid : Grid
        Depth nodes of the regolith columns.
    params : RegolithParams
        Regolith properties (normal albedo for scattered light, emissivity).
    dt_s : float
        Time between epochs [s].
    tolerance_k, max_cycles : float, int
        Spin-up settings (:func:`lupex.thermal.solver.equilibrate`).
    view_azimuths : int
        Azimuths of the view-factor rays.

    Returns
    -------
    flux : ndarray, shape (cells, epochs)
        Scattered sunlight absorbed (``1 - A0``) plus terrain infrared absorbed
        (emissivity) [W m^-2].
    unconverged : int
        Coarse columns that did not converge.
    """
    factors = view_factors(coarse.heights, coarse.pixel_m, n_azimuths=view_azimuths)
    a0, eps = params.albedo, params.emissivity
    # Light leaving each cell after one reflection, as the incident flux of a Lambertian
    # albedo A0 would give it: the incidence law applies to the first reflection only.
    reflected = np.maximum(incident - absorbed, 0.0)
    scattered = scattered_sunlight(factors, reflected / a0, a0) if a0 > 0 else np.zeros_like(incident)
    from_light = (1.0 - a0) * scattered
    eps_sigma = eps * STEFAN_BOLTZMANN
    temps = np.empty((coarse.size, grid.z.size))
    for c in range(coarse.size):
        initial_profile(grid.z, grid.contact_conductivity, eps_sigma, params.geothermal_flux,
                        float(absorbed[c].mean() + from_light[c].mean()), temps[c])
    infrared = np.zeros_like(incident)
    unconverged = 0
    for number in range(IR_PASSES):
        surface, unconverged = _surface_histories(np.ascontiguousarray(absorbed + from_light + eps * infrared), temps,
                                                  grid, params, dt_s, tolerance_k, max_cycles)
        emitted = eps_sigma * surface**4
        exitance = emitted + (1.0 - eps) * (factors @ emitted)
        updated = factors @ exitance
        log.debug("terrain infrared pass %d: largest change %.3g W m^-2", number, np.abs(updated - infrared).max())
        infrared = updated
    return from_light + eps * infrared, unconverged
