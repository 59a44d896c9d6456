"""Georeferenced grids as ``xarray.DataArray``: construction, geometry checks, GeoTIFF output.

Every raster in lupex is a DataArray with dims ``(y, x)``, coordinates ``x``, ``y`` at
pixel centres in metres of its CRS, a CRS and transform attached through rioxarray, ``NaN``
as nodata for floats, and ``units`` / ``long_name`` attributes. Grids are north-up: row 0
holds the largest y and x increases along a row (transform ``a > 0``, ``e < 0``, ``b = d = 0``).
Readers turn a file stored in any other axis-aligned order into that layout with
:func:`north_up`.
"""

from __future__ import annotations

import os

import numpy as np
import rasterio
import rasterio.errors
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
    "check_polar",
    "clamped_pixels",
    "geotiff_options",
    "grid_array",
    "ground_pixel_m",
    "is_south_polar",
    "like",
    "north_up",
    "pixel_of",
    "pixel_size",
    "polar_crs",
    "read_grid",
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


def north_up(values: np.ndarray, transform: Affine, source: str = "the grid") -> tuple[np.ndarray, Affine]:
    """Turn a grid stored in any axis-aligned order into lupex's north-up layout, exactly.

    South-up storage (``e > 0``) is flipped top to bottom, east-to-west storage (``a < 0``)
    left to right, and a grid turned by a quarter turn (``a = e = 0``: x runs down the
    columns, y along the rows) is transposed first. Pixels are only reordered, never
    resampled, so every value keeps its place on the map.

    Parameters
    ----------
    values : numpy.ndarray
        Pixel values with rows and columns as the last two axes, in the stored order.
    transform : affine.Affine
        The stored order's pixel-corner transform (rasterio convention) [CRS units].
    source : str
        What holds the grid (a file name), for the error message.

    Returns
    -------
    values : numpy.ndarray
        The same pixels with row 0 at the largest y and x increasing along a row (a view of
        ``values``; ``values`` itself when it is north-up already).
    transform : affine.Affine
        Their transform, with ``a > 0``, ``e < 0`` and ``b = d = 0``.

    Raises
    ------
    LupexError
        For a rotated or skewed grid (pixel axes not along the map's x and y), which would
        need resampling.
    """
    a, b, c, d, e, f = transform[:6]
    tiny = 1e-9 * max(abs(a), abs(b), abs(d), abs(e))  # rounding noise in a stored transform
    a, b, d, e = (0.0 if abs(v) <= tiny else v for v in (a, b, d, e))
    if a == 0 and e == 0 and b != 0 and d != 0:
        values = np.swapaxes(values, -1, -2)
        a, b, d, e = b, 0.0, 0.0, d
    if b != 0 or d != 0 or a == 0 or e == 0:
        angle = np.degrees(np.arctan2(d, a))
        raise LupexError(
            f"{source} lies on a rotated or skewed pixel grid (its rows run at {angle:.1f} deg to the map's "
            "x axis); lupex reads only grids whose rows run along x or y: reproject it onto a north-up grid "
            "with 'lupex terrain crop'"
        )
    ny, nx = values.shape[-2:]
    if a < 0:
        values, a, c = values[..., :, ::-1], -a, c + a * nx
    if e > 0:
        values, e, f = values[..., ::-1, :], -e, f + e * ny
    return values, Affine(a, 0.0, c, 0.0, e, f)


def pixel_size(grid: xr.DataArray) -> float:
    """Side of a square pixel of ``grid`` [CRS units, m for projected CRSs].

    Raises
    ------
    LupexError
        For a grid that is not north-up (see :func:`north_up`) or has non-square pixels.
    """
    t = grid.rio.transform()
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise LupexError(
            f"the grid is not north-up (transform a = {t.a:g}, b = {t.b:g}, d = {t.d:g}, e = {t.e:g}); "
            "read it with lupex.terrain.readers.read_dem, which turns flipped grids north-up"
        )
    dx, dy = t.a, -t.e
    if not np.isclose(dx, dy, rtol=1e-6):
        raise LupexError(
            f"pixels are not square ({dx:g} x {dy:g}); resample with 'lupex terrain crop' first"
        )
    return dx


def read_grid(path: str | os.PathLike, name: str) -> xr.DataArray:
    """Read band 1 of a map GeoTIFF (a layer lupex wrote, such as ``psr.tif``) as a north-up grid.

    Values keep their stored type; nodata is not masked. DEMs are read with
    :func:`lupex.terrain.readers.read_dem` instead, which turns them into heights.

    Parameters
    ----------
    path : path-like
        The GeoTIFF.
    name : str
        Variable name of the grid; ``units`` and ``long_name`` come from the file's tags.

    Raises
    ------
    LupexError
        When the file cannot be read or lies on a rotated grid.
    """
    try:
        with rasterio.open(path) as ds:
            values, transform = north_up(ds.read(1), ds.transform, os.fspath(path))
            tags, crs = ds.tags(), ds.crs
    except rasterio.errors.RasterioError as exc:
        raise LupexError(f"cannot read {os.fspath(path)}: {' '.join(str(exc).split())}") from None
    if crs is None:
        raise LupexError(f"{os.fspath(path)} has no coordinate reference system")
    return grid_array(np.ascontiguousarray(values), transform, crs.to_wkt(), name, tags.get("units", ""),
                      tags.get("long_name", name))


def check_polar(dem: xr.DataArray, label: str) -> xr.DataArray:
    """``dem`` itself, if it lies on the lunar south polar stereographic map."""
    crs = dem.rio.crs
    if crs is None or not is_south_polar(CRS.from_user_input(crs)):
        raise LupexError(f"the {label} is not on the lunar south polar stereographic map; "
                         "crop it onto the map with 'lupex terrain crop' first")
    return dem


def ground_pixel_m(dem: xr.DataArray) -> float:
    """Ground size of a pixel of a south polar stereographic DEM at its centre [m].

    The map pixel divided by the point scale factor ``k = 1 + rho^2 / (4 R^2)`` at the tile
    centre (``rho`` its distance from the pole on the map; Snyder 1987, eq. 21-4).
    """
    size = pixel_size(check_polar(dem, "DEM"))
    rho2 = float(dem["x"].values.mean()) ** 2 + float(dem["y"].values.mean()) ** 2
    return size / (1.0 + rho2 / (4.0 * MOON_RADIUS_M**2))


def write_geotiff(
    grid: xr.DataArray, path: str | os.PathLike, overwrite: bool = False
) -> None:
    """Write a grid to a tiled, compressed GeoTIFF, atomically.

    The file is encoded in memory and written by Python, so a full disk or a refused write is
    an ``OSError`` naming the path (GDAL's own write errors print to stderr and lose the path).

    Parameters
    ----------
    grid : xarray.DataArray
        Grid made by :func:`grid_array` (CRS and transform attached).
    path : path-like
        Output file (``.tif``).
    overwrite : bool
        Whether an existing file may be replaced.
    """
    with atomic_output(path, overwrite) as tmp, rasterio.MemoryFile(ext=".tif") as encoded:
        grid.rio.to_raster(encoded.name, driver="GTiff", **geotiff_options(grid.shape[-2:], grid.dtype))
        with open(tmp, "wb") as file:
            file.write(encoded.read())


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
