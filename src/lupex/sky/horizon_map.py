"""Horizon cubes of georeferenced DEMs: the kernels of :mod:`lupex.sky.horizon` on a DEM,
written to disk chunk by chunk by :mod:`lupex.sky.horizon_store`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from lupex.errors import LupexError
from lupex.sky.horizon import default_azimuths, horizon_angles
from lupex.sky.horizon_store import write_horizon
from lupex.terrain.surface import ground_spacing

__all__ = ["MIN_AZIMUTHS", "check_request", "compute_horizon_file"]

MIN_AZIMUTHS = 8
"""Fewest azimuths a horizon cube may have."""


def check_request(dem: xr.DataArray, n_azimuths: int, observer_height_m: float) -> None:
    """Refuse a horizon computation that cannot be done, before any work starts.

    Raises
    ------
    LupexError
        For fewer than 8 azimuths, a negative observer height or a DEM in a geographic CRS.
    """
    if n_azimuths < MIN_AZIMUTHS:
        raise LupexError(f"at least {MIN_AZIMUTHS} azimuths are needed, got {n_azimuths}")
    if observer_height_m < 0:
        raise LupexError("the observer height must not be negative")
    if not dem.rio.crs.is_projected:
        raise LupexError("the DEM is in a geographic CRS; crop it onto the polar map with 'lupex terrain crop'")


def compute_horizon_file(
    dem: xr.DataArray,
    path: str | os.PathLike,
    n_azimuths: int = 360,
    observer_height_m: float = 0.0,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Compute the horizon cube of a DEM into a NetCDF file (resumable; see ``write_horizon``).

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on a projected lunar grid with square pixels.
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
    """
    check_request(dem, n_azimuths, observer_height_m)
    heights = np.asarray(dem.values, dtype=np.float64)
    # One ground pixel size for the tile, at its centre: the polar map's scale factor
    # varies by < 0.2 % across 40 km at 80 S.
    dx, _ = np.broadcast_arrays(*ground_spacing(dem))
    pixel = float(dx[dx.shape[0] // 2, dx.shape[1] // 2])
    return write_horizon(
        path, dem, default_azimuths(n_azimuths),
        lambda azimuths: horizon_angles(heights, pixel, azimuths, observer_height_m),
        observer_height_m=observer_height_m, overwrite=overwrite, progress=progress,
    )
