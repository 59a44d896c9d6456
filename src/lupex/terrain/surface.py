"""Surface derivatives of a DEM: ground pixel size, slope, aspect and roughness.

Slopes use Horn's (1981, Proc. IEEE 69) 3 x 3 weighted differences on true ground
distances: map distances are divided by the projection's point scale factor (for the polar
stereographic map ``k = 1 + rho^2 / (4 R^2)``, 0.77 % at 80 deg S), so slopes are not
underestimated away from the pole.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from pyproj import CRS, Proj
from scipy import ndimage

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.raster import is_south_polar, pixel_size

__all__ = ["ground_spacing", "horn_gradient", "roughness", "slope", "slope_aspect"]

def ground_spacing(grid: xr.DataArray) -> tuple[NDArray, NDArray]:
    """True ground distance between pixel centres along x and along y, per pixel [m].

    Parameters
    ----------
    grid : xarray.DataArray
        A grid in a projected lunar CRS with square pixels.

    Returns
    -------
    dx, dy : ndarray
        Arrays broadcastable to the grid's shape [m].
    """
    crs = CRS.from_user_input(grid.rio.crs)
    if not crs.is_projected:
        raise LupexError("the grid is in geographic coordinates; crop it onto the polar map first")
    size = pixel_size(grid)
    x = grid["x"].values
    y = grid["y"].values
    if is_south_polar(crs):
        k = 1.0 + (x[None, :] ** 2 + y[:, None] ** 2) / (4.0 * MOON_RADIUS_M**2)
        return size / k, size / k
    return _spacing_from_factors(crs, x, y, size)


def _spacing_from_factors(crs: CRS, x: NDArray, y: NDArray, size: float) -> tuple[NDArray, NDArray]:
    """Ground spacing from PROJ's scale factors at the pixel centres.

    Treats the grid axes as parallels (x) and meridians (y), exact for cylindrical and for
    conformal projections. Cylindrical maps need one factor per row; other maps one per pixel.
    """
    method = crs.coordinate_operation.method_name if crs.coordinate_operation else ""
    columns = x[x.size // 2: x.size // 2 + 1] if ("Cylindrical" in method or "Mercator" in method) else x
    xx, yy = np.meshgrid(columns, y)
    proj = Proj(crs)
    lon, lat = proj(xx, yy, inverse=True)
    factors = proj.get_factors(lon, np.clip(lat, -89.999, 89.999))
    return size / np.asarray(factors.parallel_scale), size / np.asarray(factors.meridional_scale)


def horn_gradient(height: NDArray, dx: NDArray | float, dy: NDArray | float) -> tuple[NDArray, NDArray]:
    """Height gradient by Horn's 3 x 3 method, edges replicated.

    Parameters
    ----------
    height : ndarray
        Heights [m], shape (ny, nx), row 0 at the top (largest y).
    dx, dy : ndarray or float
        Ground spacing along x and y [m].

    Returns
    -------
    dz_dx, dz_dy : ndarray
        Gradient toward +x (east on the grid) and toward +y (grid north) [m/m].
    """
    z = np.pad(np.asarray(height, dtype=np.float64), 1, mode="edge")
    left = z[:-2, :-2] + 2.0 * z[1:-1, :-2] + z[2:, :-2]
    right = z[:-2, 2:] + 2.0 * z[1:-1, 2:] + z[2:, 2:]
    top = z[:-2, :-2] + 2.0 * z[:-2, 1:-1] + z[:-2, 2:]
    bottom = z[2:, :-2] + 2.0 * z[2:, 1:-1] + z[2:, 2:]
    return (right - left) / (8.0 * dx), (top - bottom) / (8.0 * dy)


def slope_aspect(dem: xr.DataArray) -> tuple[NDArray, NDArray]:
    """Slope and downslope grid azimuth of every pixel.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on a projected grid.

    Returns
    -------
    slope : ndarray
        Slope angle [deg].
    aspect : ndarray
        Direction of steepest descent, clockwise from grid north (+y) [deg]; 0 on flat pixels.
    """
    dx, dy = ground_spacing(dem)
    gx, gy = horn_gradient(dem.values, dx, dy)
    slope_deg = np.degrees(np.arctan(np.hypot(gx, gy)))
    aspect = np.mod(np.degrees(np.arctan2(-gx, -gy)), 360.0)
    return slope_deg.astype(np.float32), aspect.astype(np.float32)


def slope(dem: xr.DataArray) -> NDArray:
    """Slope angle of every pixel [deg] (Horn 1981); see :func:`slope_aspect`."""
    return slope_aspect(dem)[0]


def _window_moment(z: NDArray, weights: NDArray, axis: int) -> NDArray:
    """Moving mean of ``offset * z`` over a square window: weights along ``axis``, mean across it."""
    along = ndimage.correlate1d(z, weights, axis=axis, mode="nearest")
    return ndimage.uniform_filter1d(along, weights.size, axis=1 - axis, mode="nearest")


def roughness(dem: xr.DataArray, radius: int = 1) -> NDArray:
    """RMS deviation of heights from the least-squares plane in a square window [m].

    The plane fit over the ``(2 radius + 1)^2`` window uses its orthogonal design, so the
    residual variance follows from moving sums: ``var = <z^2> - <z>^2 - b^2 <u^2> - c^2 <v^2>``
    with ``b = <u z> / <u^2>``, ``c = <v z> / <v^2>`` (u, v pixel offsets). Pixels closer
    than ``radius`` to the edge take the value of the nearest full window.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m].
    radius : int
        Window half-width [pixels], at least 1.
    """
    if radius < 1:
        raise LupexError("roughness window radius must be at least 1 pixel")
    z = np.asarray(dem.values, dtype=np.float64)
    z = z - np.nanmean(z)
    size = 2 * radius + 1
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    u2 = np.mean(offsets**2)
    mean = ndimage.uniform_filter(z, size, mode="nearest")
    mean_sq = ndimage.uniform_filter(z * z, size, mode="nearest")
    uz = _window_moment(z, offsets / size, axis=1)
    vz = _window_moment(z, offsets / size, axis=0)
    var = mean_sq - mean**2 - (uz**2 + vz**2) / u2
    rms = np.sqrt(np.clip(var, 0.0, None))
    if min(z.shape) > 2 * radius:
        rms = np.pad(rms[radius:-radius, radius:-radius], radius, mode="edge")
    return rms.astype(np.float32)
