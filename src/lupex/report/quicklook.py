"""Quicklook PNGs of grids: colour maps over a hillshade, with axes in kilometres.

Matplotlib runs on the non-interactive Agg backend, so pictures render without a screen.
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr
from matplotlib.colors import LightSource
from matplotlib.figure import Figure

from lupex.files import atomic_output
from lupex.raster import pixel_size

__all__ = ["extent_km", "hillshade", "save_quicklook"]


def hillshade(dem: xr.DataArray, azimuth_deg: float = 315.0, altitude_deg: float = 35.0) -> np.ndarray:
    """Shaded relief of a DEM in [0, 1].

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m].
    azimuth_deg : float
        Direction the light comes from, clockwise from grid north [deg].
    altitude_deg : float
        Elevation of the light above the horizon [deg].
    """
    z = np.nan_to_num(np.asarray(dem.values, dtype=float), nan=float(np.nanmean(dem.values)))
    res = pixel_size(dem)
    return LightSource(azdeg=azimuth_deg, altdeg=altitude_deg).hillshade(z, dx=res, dy=res)


def extent_km(grid: xr.DataArray) -> tuple[float, float, float, float]:
    """Outer edges of a grid's pixels, (left, right, bottom, top) [km]: matplotlib's ``extent``."""
    x_km, y_km = grid["x"].values / 1000.0, grid["y"].values / 1000.0
    half = pixel_size(grid) / 2000.0
    return (x_km[0] - half, x_km[-1] + half, y_km[-1] - half, y_km[0] + half)


def save_quicklook(
    grid: xr.DataArray,
    path: str | os.PathLike,
    title: str,
    cmap: str = "viridis",
    label: str = "",
    relief: xr.DataArray | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    overwrite: bool = False,
) -> None:
    """Save a PNG of a grid, optionally over the hillshade of a DEM, atomically.

    Parameters
    ----------
    grid : xarray.DataArray
        The values to show (x, y in metres).
    path : path-like
        Output PNG.
    title : str
        Figure title.
    cmap : str
        Matplotlib colour map.
    label : str
        Colour bar label, with units.
    relief : xarray.DataArray, optional
        DEM on the same grid whose hillshade is drawn beneath, half transparent.
    vmin, vmax : float, optional
        Colour range; by default the 0.5th and 99.5th percentiles.
    overwrite : bool
        Whether an existing file may be replaced.
    """
    values = np.asarray(grid.values, dtype=float)
    finite = values[np.isfinite(values)]
    if vmin is None:
        vmin = float(np.percentile(finite, 0.5)) if finite.size else 0.0
    if vmax is None:
        vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    extent = extent_km(grid)
    fig = Figure(figsize=(7.0, 6.0), dpi=110, layout="constrained")
    ax = fig.subplots()
    if relief is not None:
        ax.imshow(hillshade(relief), cmap="gray", extent=extent, vmin=0, vmax=1, interpolation="nearest")
    image = ax.imshow(values, cmap=cmap, extent=extent, vmin=vmin, vmax=vmax,
                      alpha=0.6 if relief is not None else 1.0, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.85, label=label)
    ax.set_xlabel("x, polar stereographic [km]")
    ax.set_ylabel("y, polar stereographic [km]")
    ax.set_title(title)
    with atomic_output(path, overwrite) as tmp:
        fig.savefig(tmp, format="png")
