"""Georeferenced grids as ``xarray.DataArray``: construction, geometry checks, GeoTIFF output.

Every raster in lupex is a DataArray with dims ``(y, x)``, coordinates ``x``, ``y`` at
pixel centres in metres of its CRS (y decreasing downwards, as in GeoTIFFs), a CRS and
transform attached through rioxarray, ``NaN`` as nodata for floats, and ``units`` /
``long_name`` attributes.
"""

from __future__ import annotations

import os

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from numpy.typing import ArrayLike
from pyproj import CRS

from lupex.constants import MOON_RADIUS_M, SOUTH_POLAR_STEREOGRAPHIC_CRS
from lupex.errors import LupexError
from lupex.files import atomic_output
from lupex.geo import latlon_to_xy

__all__ = [
    "centered_polar_transform",
    "clamped_pixels",
    "geotiff_options",
    "grid_array",
    "is_south_polar",
    "like",
    "pixel_of",
    "pixel_size",
    "polar_crs",
    "same_grid",
    "write_geotiff",
]


def is_south_polar(crs: CRS) -> bool:
    """True for the lunar south polar stereographic map, whatever name its WKT gives it.

    Accepts both PROJ parametrisations (variant A with origin at -90 deg and scale 1, or
    variant B with standard parallel -90 deg) on the 1737.4 km sphere, without false origin.
    """
    operation = crs.coordinate_operation
    if operation is None or "Polar Stereographic" not in operation.method_name:
        return False
    params = {p.name: p.value for p in operation.params}
    origin_at_pole = params.get("Latitude of natural origin") == -90 and (
        params.get("Scale factor at natural origin", 1.0) == 1.0
    )
    return (
        (origin_at_pole or params.get("Latitude of standard parallel") == -90)
        and params.get("False easting", 0.0) == 0.0
        and params.get("False northing", 0.0) == 0.0
        and abs(crs.ellipsoid.semi_major_metre - MOON_RADIUS_M) < 1.0
    )


def polar_crs() -> CRS:
    """The lunar south polar stereographic CRS on the 1737.4 km sphere (``IAU_2015:30135``)."""
    return CRS.from_user_input(SOUTH_POLAR_STEREOGRAPHIC_CRS)


def centered_polar_transform(center_lat: float, center_lon: float, size_px: int, resolution_m: float) -> Affine:
    """Transform of a square polar stereographic tile centred on a place.

    The tile's corners are snapped to multiples of the pixel size, so tiles of one
    resolution share a pixel lattice (as the LOLA polar products do).

    Parameters
    ----------
    center_lat, center_lon : float
        Centre latitude and east longitude [deg].
    size_px : int
        Tile width and height [pixels].
    resolution_m : float
        Pixel size [m].
    """
    xc, yc = latlon_to_xy(center_lat, center_lon)
    half = size_px * resolution_m / 2.0
    left = np.round((float(xc) - half) / resolution_m) * resolution_m
    top = np.round((float(yc) + half) / resolution_m) * resolution_m
    return Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top)


def grid_array(
    values: ArrayLike,
    transform: Affine,
    crs: CRS | str,
    name: str,
    units: str,
    long_name: str = "",
) -> xr.DataArray:
    """Wrap a 2-D array as a georeferenced DataArray.

    Parameters
    ----------
    values : array_like
        Pixel values, shape ``(ny, nx)``; row 0 is the top (largest y).
    transform : affine.Affine
        Affine transform of the pixel corners (rasterio convention) [m].
    crs : pyproj.CRS or str
        Coordinate reference system.
    name, units, long_name : str
        Variable name, unit string and description stored as attributes.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"a grid must be 2-D, got shape {values.shape}")
    ny, nx = values.shape
    x = transform.c + transform.a * (np.arange(nx) + 0.5)
    y = transform.f + transform.e * (np.arange(ny) + 0.5)
    da = xr.DataArray(values, dims=("y", "x"), coords={"y": y, "x": x}, name=name)
    da.attrs.update(units=units, long_name=long_name or name)
    da = da.rio.write_crs(CRS.from_user_input(crs)).rio.write_transform(transform)
    if np.issubdtype(values.dtype, np.floating):
        da = da.rio.write_nodata(np.nan, encoded=False)
    return da


def like(template: xr.DataArray, values: ArrayLike, name: str, units: str, long_name: str = "") -> xr.DataArray:
    """A new grid on the same pixels and CRS as ``template``.

    Parameters
    ----------
    template : xarray.DataArray
        Grid whose geometry to copy.
    values : array_like
        Pixel values of the same shape.
    name, units, long_name : str
        Variable name, unit string and description.
    """
    return grid_array(values, template.rio.transform(), template.rio.crs, name, units, long_name)


def same_grid(a: xr.DataArray, b: xr.DataArray) -> bool:
    """Whether two rasters share one grid: the same shape and pixel corners (affine transform).

    The CRS is not compared: the same projection read back by another reader can carry other
    authority codes and axis names.
    """
    return a.shape == b.shape and np.allclose(a.rio.transform()[:6], b.rio.transform()[:6])


def pixel_of(grid: xr.DataArray, x: float, y: float, what: str = "place") -> tuple[int, int]:
    """Row and column of the pixel of ``grid`` that holds the map point (x, y) [m].

    Raises
    ------
    LupexError
        When the point lies outside the grid, naming ``what`` and the grid's bounds.
    """
    t = grid.rio.transform()
    col = int(np.floor((x - t.c) / t.a))
    row = int(np.floor((y - t.f) / t.e))
    if not (0 <= row < grid.shape[-2] and 0 <= col < grid.shape[-1]):
        left, bottom, right, top = grid.rio.bounds()
        raise LupexError(f"the {what} at x = {x:.0f} m, y = {y:.0f} m lies outside the grid "
                         f"(x {left:.0f} to {right:.0f} m, y {bottom:.0f} to {top:.0f} m)")
    return row, col


def clamped_pixels(transform: Affine, shape: tuple[int, ...], xs: ArrayLike, ys: ArrayLike) -> tuple:
    """Rows and columns of the pixels holding map points (xs, ys) [m]; a point off the grid takes
    the nearest edge pixel's. ``transform`` and ``shape`` are the grid's (callers in loops keep
    them rather than ask the ``.rio`` accessor each time).

    Returns
    -------
    tuple of ndarray of int64
        Rows and columns, shaped like the points.
    """
    cols = np.clip(np.floor((np.asarray(xs, dtype=float) - transform.c) / transform.a), 0, shape[-1] - 1)
    rows = np.clip(np.floor((np.asarray(ys, dtype=float) - transform.f) / transform.e), 0, shape[-2] - 1)
    return rows.astype(np.int64), cols.astype(np.int64)


def pixel_size(grid: xr.DataArray) -> float:
    """Side of a square pixel of ``grid`` [CRS units, m for projected CRSs].

    Raises
    ------
    LupexError
        For non-square or rotated pixels.
    """
    t = grid.rio.transform()
    if t.b != 0 or t.d != 0:
        raise LupexError("rotated rasters are not supported; warp to a north-up grid first")
    dx, dy = abs(t.a), abs(t.e)
    if not np.isclose(dx, dy, rtol=1e-6):
        raise LupexError(
            f"pixels are not square ({dx:g} x {dy:g}); resample with 'lupex terrain crop' first"
        )
    return dx


def write_geotiff(
    grid: xr.DataArray, path: str | os.PathLike, overwrite: bool = False
) -> None:
    """Write a grid to a tiled, compressed GeoTIFF, atomically.

    Parameters
    ----------
    grid : xarray.DataArray
        Grid made by :func:`grid_array` (CRS and transform attached).
    path : path-like
        Output file (``.tif``).
    overwrite : bool
        Whether an existing file may be replaced.
    """
    with atomic_output(path, overwrite) as tmp:
        grid.rio.to_raster(tmp, driver="GTiff", **geotiff_options(grid.shape[-2:], grid.dtype))


def geotiff_options(shape: tuple[int, int], dtype) -> dict:
    """lupex's GeoTIFF creation options for a grid of ``shape`` (rows, columns) and ``dtype``:
    deflate, 256-pixel tiles when the grid is that large, the floating-point predictor for floats."""
    tiled = min(shape) >= 256
    options = {"compress": "deflate", "tiled": tiled}
    if tiled:
        options.update(blockxsize=256, blockysize=256)
    if np.issubdtype(np.dtype(dtype), np.floating):
        options["predictor"] = 3 if np.dtype(dtype).itemsize >= 4 else 1
    return options
