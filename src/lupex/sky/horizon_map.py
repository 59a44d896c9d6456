"""Horizon cubes of georeferenced DEMs: the kernels of :mod:`lupex.sky.horizon` on a DEM,
written to disk chunk by chunk by :mod:`lupex.sky.horizon_store`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from lupex.errors import LupexError
from lupex.limits import check_memory
from lupex.raster import check_polar
from lupex.sky.horizon import DemHorizons, check_azimuth_count, default_azimuths, prepare_heights
from lupex.sky.horizon_store import write_horizon

__all__ = ["HORIZON_BYTES_PER_PX", "check_horizon_size", "check_request", "compute_horizon_file"]

HORIZON_BYTES_PER_PX = 190
"""Peak memory of computing a horizon file, per DEM pixel [bytes].

The DEM (float32) and the kernel's float64 copy of it, 12 B, and for each of the 8 azimuths
computed and written at a time (``write_horizon``'s chunk) the float32 horizons, the two float64
temporaries of the NetCDF packing and the int16 result, 22 B: 188 B. Measured: 181 B (peak
resident memory of ``lupex horizon`` on 1024 x 1024 and 2048 x 2048 synthetic DEMs, minus the
interpreter's). The whole cube is never in memory, so the azimuth count does not enter.
"""

FAR_BYTES_PER_PX = 12
"""Memory of the far-field DEM in a horizon computation, per far pixel [bytes]: float32 and
the kernel's float64 copy."""


def check_horizon_size(shape: tuple[int, int], far_shape: tuple[int, int] | None = None) -> None:
    """Refuse a horizon file whose computation would not fit in memory, before reading anything.

    Parameters
    ----------
    shape : tuple of int
        DEM rows and columns [pixels] (a file's declared size will do).
    far_shape : tuple of int, optional
        Rows and columns of the far-field DEM [pixels].

    Raises
    ------
    LupexError
        When the peak (``HORIZON_BYTES_PER_PX`` a pixel) exceeds :func:`lupex.limits.memory_budget`.
    """
    ny, nx = shape
    far = 0 if far_shape is None else far_shape[0] * far_shape[1]
    check_memory(float(ny) * nx * HORIZON_BYTES_PER_PX + float(far) * FAR_BYTES_PER_PX,
                 f"computing the horizons of a {nx} x {ny} pixel DEM",
                 "crop it with 'lupex terrain crop', or make illumination maps tile by tile with "
                 "'lupex illuminate --tile-px'")


def check_request(dem: xr.DataArray, n_azimuths: int, observer_height_m: float,
                  far_dem: xr.DataArray | None = None) -> None:
    """Refuse a horizon computation that cannot be done, before any work starts.

    Raises
    ------
    LupexError
        For fewer than 8 or more than 3600 azimuths, a negative observer height, a DEM (or
        far-field DEM) in a geographic CRS or off the south polar map, a DEM with missing
        heights, or one too large for this machine's memory (:func:`check_horizon_size`).
    """
    check_azimuth_count(n_azimuths)
    check_horizon_size(dem.shape, None if far_dem is None else far_dem.shape)
    if observer_height_m < 0:
        raise LupexError("the observer height must not be negative")
    for grid, label in ((dem, "DEM"), (far_dem, "far-field DEM")):
        if grid is None:
            continue
        if not grid.rio.crs.is_projected:
            raise LupexError(f"the {label} is in a geographic CRS; crop it onto the polar map with "
                             "'lupex terrain crop'")
        check_polar(grid, label)
    prepare_heights(dem.values)


def compute_horizon_file(
    dem: xr.DataArray,
    path: str | os.PathLike,
    n_azimuths: int = 360,
    observer_height_m: float = 0.0,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    far_dem: xr.DataArray | None = None,
    far_label: str = "",
    reuse: bool = False,
) -> Path:
    """Compute the horizon cube of a DEM into a NetCDF file (resumable; see ``write_horizon``).

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the south polar stereographic map with square pixels.
    path : path-like
        Output ``.nc`` file.
    n_azimuths : int
        Equally spaced grid azimuths from 0 deg, at least 8.
    observer_height_m : float
        Eye height above the ground [m].
    overwrite : bool
        Whether an existing file may be replaced.
    progress : callable, optional
        ``progress(azimuths_done, azimuths_total)``.
    far_dem : xarray.DataArray, optional
        Coarser DEM around the tile on the same map, supplying terrain beyond it.
    far_label : str
        How to name the far field in the file (its path), checked when resuming.
    reuse : bool
        Keep an existing file made for exactly these inputs (see ``write_horizon``).
    """
    check_request(dem, n_azimuths, observer_height_m, far_dem)
    horizons = DemHorizons(dem, observer_height_m=observer_height_m, far_dem=far_dem)
    return write_horizon(
        path, dem, default_azimuths(n_azimuths), horizons, observer_height_m=observer_height_m,
        far_field=far_label if far_dem is not None else "", overwrite=overwrite, progress=progress, reuse=reuse,
    )
