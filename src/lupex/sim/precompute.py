"""Mission stages before the simulation: the water prior from a coarser thermal run, and the landing.

The thermal model costs about 1 ms per pixel and season (docs/benchmarks.md), too much for a
1024 x 1024 site inside ``lupex mission``'s five minutes, so the mission runs it on the DEM
averaged over ``factor x factor`` blocks (160 m pixels for the default site), takes the
ice-stability depth of each coarse pixel for all its fine pixels, and builds the prior
(:func:`lupex.ice.prior.water_prior`) on the fine grid. Cold traps smaller than a coarse pixel
are lost; ``lupex thermal map`` and ``lupex ice prior`` at full resolution are the way to keep
them.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from affine import Affine

from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.raster import grid_array, like
from lupex.sky.horizon_map import compute_horizon_file
from lupex.sky.horizon_store import open_horizon
from lupex.thermal.maps import ThermalMapConfig, thermal_maps

__all__ = ["choose_landing", "coarse_dem", "prior_from_coarse_thermal"]


def coarse_dem(dem: xr.DataArray, factor: int) -> xr.DataArray:
    """The DEM averaged over ``factor x factor`` blocks (trailing rows and columns dropped) [m]."""
    ny, nx = (n // factor * factor for n in dem.shape)
    blocks = np.asarray(dem.values[:ny, :nx], dtype=float).reshape(ny // factor, factor, nx // factor, factor)
    transform = dem.rio.transform() @ Affine.scale(factor)
    return grid_array(blocks.mean(axis=(1, 3)).astype(np.float32), transform, dem.rio.crs, "height", "m")


def prior_from_coarse_thermal(dem: xr.DataArray, params: IceParams, max_pixels: int = 128, azimuths: int = 90,
                              thermal: ThermalMapConfig | None = None,
                              step: Callable[[str], Any] | None = None) -> tuple[xr.Dataset, xr.Dataset]:
    """Thermal maps on a coarser copy of the DEM, and the water prior on the DEM's own grid.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the south polar map.
    params : IceParams
        The water model.
    max_pixels : int
        Most pixels along a side of the coarse grid [-].
    azimuths : int
        Horizon azimuths of the coarse grid [-].
    thermal : ThermalMapConfig, optional
        Thermal settings; 32 terrain cells by default.
    step : callable, optional
        Called with a short description as each stage starts.

    Returns
    -------
    thermal_maps : xarray.Dataset
        The coarse maps (``tmax``, ``tmean``, ``tmin``, ``ice_depth_m``, ``cold_trap``).
    prior : xarray.Dataset
        The prior on the DEM's grid (:func:`lupex.ice.prior.water_prior`).
    """
    step = step or (lambda message: None)
    factor = max(1, math.ceil(max(dem.shape) / max_pixels))
    coarse = coarse_dem(dem, factor)
    step(f"thermal: {coarse.shape[1]} x {coarse.shape[0]} pixels of "
         f"{abs(coarse.rio.transform().a):.0f} m over one lunar season")
    with tempfile.TemporaryDirectory(prefix="lupex-thermal-") as folder:
        cube = compute_horizon_file(coarse, Path(folder) / "horizon.nc", azimuths)
        maps, _ = thermal_maps(coarse, open_horizon(cube, coarse).load(),
                               thermal or ThermalMapConfig(terrain_cells=32))
    depth = np.asarray(maps["ice_depth_m"].values, dtype=np.float32)
    fine = np.full(dem.shape, np.nan, dtype=np.float32)
    ny, nx = depth.shape[0] * factor, depth.shape[1] * factor
    fine[:ny, :nx] = np.repeat(np.repeat(depth, factor, axis=0), factor, axis=1)
    step("ice: water prior")
    prior = water_prior(xr.Dataset({"ice_depth_m": like(dem, fine, "ice_depth_m", "m")}), params)
    return maps, prior


def choose_landing(dem: xr.DataArray, allowed: np.ndarray, sun_mean: xr.DataArray, earth_fraction: xr.DataArray,
                   longest_dark_h: xr.DataArray, max_dark_h: float, radius_m: float) -> tuple[float, float]:
    """The landing place [m]: within ``radius_m`` of the site's centre, on allowed ground, never longer
    in darkness over the mission than ``max_dark_h`` when such ground exists (the least dark otherwise),
    the pixel with the most Sun plus Earth in view (mean fractions, summed).

    An assumption standing in for ISRO's landing-site selection: the lander needs the Sun and
    the link as much as the rover does, and the landing is the rover's first safe haven.
    ``lupex sites`` ranks sites on more criteria.
    """
    x, y = dem["x"].values, dem["y"].values
    gx, gy = np.meshgrid(x - x.mean(), y - y.mean())
    near = allowed & (np.hypot(gx, gy) <= radius_m)
    dark = np.where(near, np.nan_to_num(longest_dark_h.values, nan=np.inf), np.inf)
    survivable = near & (dark <= max(max_dark_h, float(dark.min())))
    score = np.nan_to_num(sun_mean.values) + np.nan_to_num(earth_fraction.values)
    score = np.where(survivable, score, -np.inf)
    row, col = np.unravel_index(int(np.argmax(score)), score.shape)
    return float(x[col]), float(y[row])
