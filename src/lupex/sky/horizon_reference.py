"""The exact horizon march: the reference every faster horizon kernel is measured against.

For every pixel and grid azimuth it walks the straight map ray from the true pixel centre in
steps of half a pixel, samples the DEM bilinearly, and keeps the largest elevation angle of the
straight line of sight on the sphere (:func:`lupex.sky.horizon.tan_elevation`). It costs
O(pixels x azimuths x tile width) and is meant for tests and benchmarks, not production.

Geometry and conventions are those of :mod:`lupex.sky.horizon`: the DEM's bilinear surface
covers the square spanned by the outermost pixel centres, the march stops when the next
sample would leave it, and a pixel with no sample in a direction (an edge pixel facing out of
the tile) gets ``NO_HORIZON_DEG`` (-90 deg).

:func:`far_field_reference_at` is the brute-force counterpart for a far-field DEM: a march
along great circles from every pixel, written with NumPy, SciPy and :mod:`lupex.geo` only.
"""

from __future__ import annotations

import numba
import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from lupex.constants import MOON_RADIUS_M
from lupex.geo import enu_basis, grid_to_local_azimuth, latlon_to_xy, moon_fixed_xyz, xy_to_latlon, xyz_to_latlon
from lupex.sky.horizon import (
    NO_HORIZON_DEG,
    exact_march,
    grid_directions,
    half_step_arcs,
    prepare_heights,
    validate_horizon_inputs,
)

__all__ = ["far_field_reference_at", "horizon_reference", "horizon_reference_at"]


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _reference_kernel(h, rows, cols, dcs, drs, pixel_m, mast_m, out):
    """``out[a, n]``: exact-march horizon [deg] of pixel (rows[n], cols[n]) along azimuth ``a``."""
    arcs = half_step_arcs(np.hypot(h.shape[0] - 1, h.shape[1] - 1), pixel_m)
    for n in numba.prange(rows.size):
        for a in range(dcs.size):
            t = exact_march(h, rows[n], cols[n], dcs[a], drs[a], arcs, mast_m)
            out[a, n] = NO_HORIZON_DEG if t == -np.inf else np.degrees(np.arctan(t))


def horizon_reference_at(
    heights: ArrayLike,
    pixel_m: float,
    azimuths_deg: ArrayLike,
    rows: ArrayLike,
    cols: ArrayLike,
    observer_height_m: float = 0.0,
) -> NDArray:
    """Exact-march horizons at some pixels.

    Parameters
    ----------
    heights : array_like
        DEM heights above the 1737.4 km sphere [m], shape (ny, nx), row 0 at the top (largest y).
    pixel_m : float
        Ground size of a pixel [m].
    azimuths_deg : array_like
        Grid azimuths, clockwise from grid north (+y) [deg].
    rows, cols : array_like of int
        Pixel indices of the observers.
    observer_height_m : float
        Eye height above the ground [m].

    Returns
    -------
    ndarray
        Horizon elevation angles [deg], float32, shape (n_azimuths, n_pixels).
    """
    h = prepare_heights(heights)
    azimuths = validate_horizon_inputs(h, pixel_m, azimuths_deg, observer_height_m)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    if rows.shape != cols.shape or np.any((rows < 0) | (rows >= h.shape[0]) | (cols < 0) | (cols >= h.shape[1])):
        raise ValueError("rows and cols must be equally long and index pixels of the DEM")
    dcs, drs = grid_directions(azimuths)
    out = np.empty((azimuths.size, rows.size), dtype=np.float32)
    _reference_kernel(h, rows, cols, dcs, drs, float(pixel_m), float(observer_height_m), out)
    return out


def horizon_reference(
    heights: ArrayLike,
    pixel_m: float,
    azimuths_deg: ArrayLike,
    observer_height_m: float = 0.0,
) -> NDArray:
    """Exact-march horizons at every pixel; same signature and result layout as
    :func:`lupex.sky.horizon.horizon_angles` (without its ``near_field_px``).

    Returns
    -------
    ndarray
        Horizon elevation angles [deg], float32, shape (n_azimuths, ny, nx).
    """
    h = prepare_heights(heights)
    ny, nx = h.shape
    rows, cols = np.divmod(np.arange(ny * nx), nx)
    flat = horizon_reference_at(h, pixel_m, azimuths_deg, rows, cols, observer_height_m)
    return flat.reshape(-1, ny, nx)


def far_field_reference_at(
    dem: xr.DataArray,
    far_dem: xr.DataArray,
    azimuths_deg: ArrayLike,
    rows: ArrayLike,
    cols: ArrayLike,
    observer_height_m: float = 0.0,
    step_px: float = 0.5,
) -> NDArray:
    """Brute-force horizon from a far-field DEM alone, at some pixels of a tile.

    From each pixel centre a great circle leaves along each grid azimuth (local azimuth
    ``grid - lon``, :mod:`lupex.geo`); it is sampled every ``step_px`` far-DEM pixels with
    SciPy bilinear interpolation, samples off the far DEM or inside the tile's box of pixel
    centres grown by half a far pixel are dropped (as in :class:`lupex.sky.horizon.FarField`),
    and the elevation is ``atan2(r1 cos(t) - r0, r1 sin(t))``.

    Parameters
    ----------
    dem, far_dem : xarray.DataArray
        The tile and the far-field DEM on the south polar stereographic map [m].
    azimuths_deg : array_like
        Grid azimuths, clockwise from grid north (+y) [deg].
    rows, cols : array_like of int
        Pixel indices of the observers in ``dem``.
    observer_height_m : float
        Eye height above the ground [m].
    step_px : float
        Sampling step along the great circle [far-DEM pixels].

    Returns
    -------
    ndarray
        Far-field horizon [deg], shape (n_azimuths, n_pixels); ``NO_HORIZON_DEG`` where
        nothing is seen.
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    azimuths = np.atleast_1d(np.asarray(azimuths_deg, dtype=float))
    x, y = dem["x"].values, dem["y"].values
    fx, fy = far_dem["x"].values, far_dem["y"].values
    far_px = abs(float(fx[1] - fx[0]))
    reach = np.hypot(np.ptp(fx), np.ptp(fy)) + np.hypot(np.ptp(x), np.ptp(y))
    theta = np.arange(1, int(reach / (step_px * far_px)) + 1) * step_px * far_px / MOON_RADIUS_M
    lat, lon = xy_to_latlon(x[cols], y[rows])
    origin = moon_fixed_xyz(lat, lon, 0.0, 1.0)  # (n, 3)
    basis = enu_basis(lat, lon)
    east, north = basis[:, 0], basis[:, 1]
    r0 = MOON_RADIUS_M + np.asarray(dem.values, dtype=float)[rows, cols] + observer_height_m
    out = np.empty((azimuths.size, rows.size), dtype=np.float32)
    for a, azimuth in enumerate(azimuths):
        local = np.radians(grid_to_local_azimuth(azimuth, lon))[:, None]
        ahead = np.sin(local) * east + np.cos(local) * north
        path = (np.cos(theta)[None, :, None] * origin[:, None, :] + np.sin(theta)[None, :, None] * ahead[:, None, :])
        plat, plon, _ = xyz_to_latlon(path * MOON_RADIUS_M)
        px, py = latlon_to_xy(plat, plon)
        z = ndimage.map_coordinates(np.asarray(far_dem.values, dtype=float),
                                    [(fy[0] - py) / far_px, (px - fx[0]) / far_px],
                                    order=1, mode="constant", cval=np.nan)
        margin = 0.5 * far_px
        inside = ((px >= x.min() - margin) & (px <= x.max() + margin)
                  & (py >= y.min() - margin) & (py <= y.max() + margin))
        r1 = MOON_RADIUS_M + np.where(inside, np.nan, z)
        elevation = np.degrees(np.arctan2(r1 * np.cos(theta) - r0[:, None], r1 * np.sin(theta)))
        best = np.nanmax(np.where(np.isnan(elevation), -np.inf, elevation), axis=1)
        out[a] = np.where(np.isfinite(best), best, NO_HORIZON_DEG)
    return out
