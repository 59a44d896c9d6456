"""Reproject and crop any DEM onto a square tile of the lunar south polar stereographic map.

Target pixel centres are carried into the source CRS with PROJ (pyproj), the source window
they need is read (and nothing more, so a 1.8 GB product costs only its window), averaged
down when the target pixels are much larger than the source's, and sampled bilinearly
(scipy.ndimage.map_coordinates). Global cylindrical products wrap around in longitude.
Nodata propagates through the interpolation: a target pixel whose four source neighbours
are not all valid is missing. When averaging down, a block's mean uses its valid pixels.
Target pixels within half a source pixel beyond the source's first or last row (for a global
product, the poles) take the nearest row's value. The source may store its pixels in any order
(it is read north-up) or lie on a rotated grid (read in its own pixel order, with the affine
transform inverted in full), so a crop is also how to bring a rotated DEM onto a north-up grid.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import xarray as xr
from pyproj import Transformer
from pyproj.exceptions import ProjError
from scipy import ndimage

from lupex.constants import MAX_TILE_PX
from lupex.errors import LupexError
from lupex.limits import check_memory
from lupex.raster import centered_polar_transform, grid_array, polar_crs
from lupex.terrain.readers import DemFile

__all__ = ["crop_to_polar"]

_RESAMPLING_ORDER = {"nearest": 0, "bilinear": 1}

CROP_BYTES_PER_PX = 128
"""Peak memory of resampling onto a tile, per tile pixel [bytes]: the target pixels' map and source
coordinates, sample positions and heights (float64) and the result. Measured as the growth of peak
resident memory in :func:`crop_to_polar` from a 20 m GeoTIFF onto 2500 x 2500 tiles at 20 m
(107 B bilinear, 122 B nearest) and a 5000 x 5000 tile at 10 m (117 B); the source window read
is checked on its own (:func:`lupex.terrain.readers.check_read_size`)."""


def _source_pixel_m(dem: DemFile) -> float:
    """Source pixel size along y on the ground [m] (degrees converted on the sphere)."""
    return dem.pixel_size_m()


def _wraps_in_longitude(dem: DemFile) -> bool:
    full_turn = 360.0 if dem.crs.is_geographic else 2.0 * np.pi * dem.crs.ellipsoid.semi_major_metre
    is_cylindrical = dem.crs.is_geographic or (
        dem.crs.coordinate_operation is not None
        and "Equidistant Cylindrical" in dem.crs.coordinate_operation.method_name
    )
    return is_cylindrical and abs(dem.width * dem.transform.a - full_turn) < 1e-3 * full_turn


def crop_to_polar(
    dem: DemFile,
    center_lat: float,
    center_lon: float,
    size_km: float,
    resolution_m: float,
    resampling: str = "bilinear",
) -> xr.DataArray:
    """Resample a DEM onto a square polar stereographic tile centred on a place.

    Parameters
    ----------
    dem : DemFile
        The source (any supported format and lunar CRS).
    center_lat, center_lon : float
        Tile centre latitude and east longitude [deg].
    size_km : float
        Tile width and height [km].
    resolution_m : float
        Tile pixel size [m].
    resampling : {"bilinear", "nearest"}
        Interpolation of the source heights.

    Returns
    -------
    xarray.DataArray
        Heights above the 1737.4 km sphere [m] on the polar stereographic grid.

    Raises
    ------
    LupexError
        For nonsense sizes, a tile larger than 16384 pixels a side or than the memory budget
        allows (:data:`CROP_BYTES_PER_PX`), or a tile that does not overlap the source.
    """
    if resampling not in _RESAMPLING_ORDER:
        raise LupexError(f"resampling must be one of {sorted(_RESAMPLING_ORDER)}, got {resampling!r}")
    if not (size_km > 0 and resolution_m > 0):
        raise LupexError("tile size and resolution must be positive")
    if not (math.isfinite(size_km) and math.isfinite(resolution_m)):
        raise LupexError(f"tile size ({size_km:g} km) and resolution ({resolution_m:g} m) must be finite numbers")
    width_px = size_km * 1000.0 / resolution_m  # inf when 1e308 km meet 1e-10 m
    if width_px > MAX_TILE_PX + 0.5:
        raise LupexError(f"a {size_km:g} km tile at {resolution_m:g} m is {width_px:.0f} pixels wide; "
                         f"the limit is {MAX_TILE_PX}: choose a coarser resolution or a smaller tile")
    size_px = int(round(width_px))
    if size_px < 2:
        raise LupexError(f"a {size_km:g} km tile at {resolution_m:g} m is less than 2 pixels wide")
    check_memory(float(size_px) ** 2 * CROP_BYTES_PER_PX, f"resampling onto a {size_px} x {size_px} pixel tile",
                 "choose a coarser resolution or a smaller tile")
    transform = centered_polar_transform(center_lat, center_lon, size_px, resolution_m)
    centres = (np.arange(size_px) + 0.5) * resolution_m
    x, y = np.meshgrid(transform.c + centres, transform.f - centres)
    try:
        to_source = Transformer.from_crs(polar_crs(), dem.crs, always_xy=True)
        sx, sy = to_source.transform(x, y)
    except ProjError as exc:
        raise LupexError(f"cannot transform to the DEM's CRS: {exc}") from None
    source = dem.transform  # north-up, or a rotated file's own grid
    if source.determinant == 0 or not np.isfinite(tuple(source)[:6]).all():
        raise LupexError(f"{dem.path.name} has a degenerate transform {tuple(source)[:6]}; it has no map grid")
    if source.b == 0 and source.d == 0:
        cols = (np.asarray(sx) - source.c) / source.a - 0.5
        rows = (np.asarray(sy) - source.f) / source.e - 0.5
    else:
        inverse = ~source
        cols = inverse.a * np.asarray(sx) + inverse.b * np.asarray(sy) + inverse.c - 0.5
        rows = inverse.d * np.asarray(sx) + inverse.e * np.asarray(sy) + inverse.f - 0.5
    factor = max(1, int(resolution_m / _source_pixel_m(dem)))
    heights = _sample(dem, rows, cols, factor, _RESAMPLING_ORDER[resampling])
    if not np.isfinite(heights).any():
        raise LupexError(f"the tile centred at {center_lat:g}, {center_lon:g} does not overlap {dem.path.name}")
    return grid_array(heights.astype(np.float32), transform, polar_crs(), "height", "m",
                      "height above the 1737.4 km lunar sphere")


def _sample(dem: DemFile, rows: np.ndarray, cols: np.ndarray, factor: int, order: int) -> np.ndarray:
    """Read the source window the target needs and interpolate it at (rows, cols)."""
    wraps = _wraps_in_longitude(dem)
    if wraps:
        cols = np.mod(cols + 0.5, dem.width) - 0.5
    finite = np.isfinite(rows) & np.isfinite(cols)
    inside = finite & (rows >= -0.5) & (rows <= dem.height - 0.5)
    if not wraps:
        inside &= (cols >= -0.5) & (cols <= dem.width - 0.5)
    out = np.full(rows.shape, np.nan)
    if not inside.any():
        return out
    rows_in = np.clip(rows[inside], 0, dem.height - 1)
    cols_in = cols[inside] if wraps else np.clip(cols[inside], 0, dem.width - 1)
    r0 = _window_start(rows_in.min(), factor)
    r1 = min(int(np.ceil(rows_in.max())) + factor + 1, dem.height)
    if wraps:
        c0, c1 = 0, dem.width
    else:
        c0 = _window_start(cols_in.min(), factor)
        c1 = min(int(np.ceil(cols_in.max())) + factor + 1, dem.width)
    window = dem.heights((slice(r0, r1), slice(c0, c1))).astype(np.float64)
    local_rows, local_cols = rows_in - r0, cols_in - c0
    if factor > 1:
        window = _block_mean(window, factor)
        local_rows = (local_rows + 0.5) / factor - 0.5
        local_cols = (local_cols + 0.5) / factor - 0.5
    pad = 2 if wraps else 0
    if wraps:
        window = np.concatenate([window[:, -pad:], window, window[:, :pad]], axis=1)
    local_rows = np.clip(local_rows, 0, window.shape[0] - 1)
    local_cols = np.clip(local_cols + pad, 0, window.shape[1] - 1)
    out[inside] = ndimage.map_coordinates(window, [local_rows, local_cols], order=order,
                                          mode="nearest", prefilter=False)
    return out


def _window_start(first: float, factor: int) -> int:
    """First source row (or column) to read: a block of margin before ``first``, on its block lattice.

    With ``factor > 1`` the window is averaged in ``factor x factor`` blocks; starting it so
    that a block is centred on the first target pixel (at source position ``first`` [pixels])
    makes a target grid aligned with the source average exactly its own footprint.
    """
    if factor == 1:
        return max(int(np.floor(first)) - 1, 0)
    start = int(np.floor(first - (factor - 1) / 2.0 + 0.5)) - factor
    return start % factor if start < 0 else start


def _block_mean(window: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor x factor`` blocks (edge blocks partial), NaN where a block has no data."""
    ny, nx = window.shape
    py, px = (-ny) % factor, (-nx) % factor
    padded = np.pad(window, ((0, py), (0, px)), constant_values=np.nan)
    blocks = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks stay NaN
        return np.nanmean(blocks, axis=(1, 3))
