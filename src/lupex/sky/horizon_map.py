"""Horizon cubes of georeferenced DEMs: the kernels of :mod:`lupex.sky.horizon` on a DEM,
written to disk chunk by chunk by :mod:`lupex.sky.horizon_store`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from lupex.errors import LupexError
from lupex.sky.horizon import MIN_AZIMUTHS, DemHorizons, check_polar, default_azimuths, prepare_heights
from lupex.sky.horizon_store import write_horizon

__all__ = ["check_request", "compute_horizon_file"]


def check_request(dem: xr.DataArray, n_azimuths: int, observer_height_m: float,
                  far_dem: xr.DataArray | None = None) -> None:
    """Refuse a horizon computation that cannot be done, before any work starts.

    Raises
    ------
    LupexError
        For fewer than 8 azimuths, a negative observer height, a DEM (or far-field DEM) in
        a geographic CRS or off the south polar map, or a DEM with missing heights.
    """
    if n_azimuths < MIN_AZIMUTHS:
        raise LupexError(f"at least {MIN_AZIMUTHS} azimuths are needed, got {n_azimuths}")
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
