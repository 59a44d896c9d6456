"""The exact horizon march: the reference every faster horizon kernel is measured against.

For every pixel and grid azimuth it walks the straight map ray from the true pixel centre in
steps of half a pixel, samples the DEM bilinearly, and keeps the largest elevation angle of the
straight line of sight on the sphere (:func:`lupex.sky.horizon.tan_elevation`). It costs
O(pixels x azimuths x tile width) and is meant for tests and benchmarks, not production.

Geometry and conventions are those of :mod:`lupex.sky.horizon`: the DEM's bilinear surface
covers the square spanned by the outermost pixel centres, the march stops when the next
sample would leave it, and a pixel with no sample in a direction (an edge pixel facing out of
the tile) gets ``NO_HORIZON_DEG`` (-90 deg).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupex.constants import MOON_RADIUS_M
from lupex.sky.horizon import (
    NO_HORIZON_DEG,
    grid_directions,
    prepare_heights,
    snap,
    tan_elevation,
    validate_horizon_inputs,
)

__all__ = ["horizon_reference", "horizon_reference_at"]

STEP_PX = 0.5
"""Step of the march along the ray [pixels]."""


@numba.njit(cache=True)
def _march(h, r, c, dc, dr, step, pixel_m, mast_m):
    """Largest tan(elevation) along one ray from the centre of pixel (r, c); -inf if none."""
    ny, nx = h.shape
    h0 = h[r, c] + mast_m
    r0 = MOON_RADIUS_M + h0
    best = -np.inf
    k = 1
    while True:
        d = k * step
        x = c + snap(d * dc)
        y = r + snap(d * dr)
        if x < 0.0 or y < 0.0 or x > nx - 1 or y > ny - 1:
            return best
        ix = min(int(np.floor(x)), nx - 2)
        iy = min(int(np.floor(y)), ny - 2)
        fx = x - ix
        fy = y - iy
        ix1 = ix + 1
        iy1 = iy + 1
        z = ((1.0 - fy) * ((1.0 - fx) * h[iy, ix] + fx * h[iy, ix1])
             + fy * ((1.0 - fx) * h[iy1, ix] + fx * h[iy1, ix1]))
        theta = d * pixel_m / MOON_RADIUS_M
        t = tan_elevation(z - h0, r0, np.cos(theta), np.sin(theta), 2.0 * np.sin(0.5 * theta) ** 2)
        if t > best:
            best = t
        k += 1


@numba.njit(parallel=True, cache=True)
def _reference_kernel(h, rows, cols, dcs, drs, pixel_m, mast_m, out):
    for n in numba.prange(rows.size):
        for a in range(dcs.size):
            t = _march(h, rows[n], cols[n], dcs[a], drs[a], STEP_PX, pixel_m, mast_m)
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
