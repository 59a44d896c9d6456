"""Derived terrain layers for traverse planning: slope, roughness, rock hazard, traversability."""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from lupex.errors import LupexError
from lupex.limits import check_memory
from lupex.raster import like, same_grid
from lupex.terrain.rocks import rock_density
from lupex.terrain.surface import roughness, slope

__all__ = ["DERIVE_BYTES_PER_PX", "HazardConfig", "check_derive_size", "derive_layers", "traversable"]

DERIVE_BYTES_PER_PX = 160
"""Peak memory of deriving the hazard layers, per DEM pixel [bytes]: the float64 temporaries of
the slope and of the roughness's moving sums (about a dozen at once) and the layers themselves.
Measured: 155 B for ``lupex terrain derive`` with its reads, rock map and quicklooks (peak
resident memory on 1024 x 1024 and 2048 x 2048 synthetic DEMs, minus the interpreter's)."""


def check_derive_size(shape: tuple[int, int]) -> None:
    """Refuse hazard layers of a DEM too large for this machine's memory, before reading it.

    Parameters
    ----------
    shape : tuple of int
        DEM rows and columns [pixels] (a file's declared size will do).

    Raises
    ------
    LupexError
        When ``DERIVE_BYTES_PER_PX`` a pixel exceeds :func:`lupex.limits.memory_budget`.
    """
    ny, nx = shape
    check_memory(float(ny) * nx * DERIVE_BYTES_PER_PX, f"deriving the hazard layers of a {nx} x {ny} pixel DEM",
                 "crop it into smaller tiles with 'lupex terrain crop'")


class HazardConfig(BaseModel):
    """Thresholds that turn terrain into hazards (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_slope_deg: float = Field(
        25.0, gt=0.0, lt=90.0,
        description="Steepest slope the rover may drive [deg]; about 25 deg for LUPEX "
        "(JAXA, 2025 press summaries).",
    )
    roughness_radius_px: int = Field(1, ge=1, le=50, description="Half-width of the roughness window [pixels].")
    obstacle_diameter_m: float = Field(
        0.3, gt=0.0,
        description="Smallest rock that counts as an obstacle [m]. Assumption: about the ground "
        "clearance of a LUPEX-class tracked rover (not published).",
    )
    max_rock_density_per_100m2: float = Field(
        5.0, gt=0.0,
        description="Obstacle density above which a pixel is not traversable [rocks per 100 m^2]. "
        "Assumption: obstacles about 4-5 m apart leave room to weave between them.",
    )
    background_rock_k: float = Field(
        0.01, ge=0.0, lt=1.0,
        description="Fractional rock area assumed where no rock map is given [-] (about 1 %, "
        "Golombek & Rapp 1997 for lunar Surveyor sites).",
    )


def derive_layers(dem: xr.DataArray, rocks: xr.DataArray | None = None,
                  config: HazardConfig | None = None) -> xr.Dataset:
    """Slope, roughness, rock hazard and traversable mask of a DEM.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on a projected lunar grid with square pixels.
    rocks : xarray.DataArray, optional
        Total fractional rock area k [-] on the same grid (e.g. from
        :func:`lupex.terrain.synth.synthesize`); ``config.background_rock_k`` everywhere
        when absent.
    config : HazardConfig, optional
        Thresholds; defaults when absent.

    Returns
    -------
    xarray.Dataset
        ``slope`` [deg], ``roughness`` [m], ``hazard`` (obstacle rocks per 100 m^2, from
        the Golombek & Rapp 1997 model) and ``traversable`` (uint8, 1 = slope and rocks
        within limits).
    """
    config = config or HazardConfig()
    check_derive_size(dem.shape)
    if rocks is not None and not (same_grid(rocks, dem) and rocks.rio.crs == dem.rio.crs):
        raise LupexError(f"the rock map ({rocks.shape[1]} x {rocks.shape[0]} pixels) is not on the DEM's grid "
                         f"({dem.shape[1]} x {dem.shape[0]}); they must share one grid")
    k = np.full(dem.shape, config.background_rock_k)
    if rocks is not None:  # missing rock data falls back to the background, never to "no rocks"
        k = np.where(np.isfinite(rocks.values), rocks.values, config.background_rock_k)
    slope_deg = slope(dem)
    hazard = (100.0 * rock_density(config.obstacle_diameter_m, k)).astype(np.float32)
    valid = np.isfinite(dem.values)
    slope_deg = np.where(valid, slope_deg, np.nan).astype(np.float32)
    hazard = np.where(valid, hazard, np.nan).astype(np.float32)
    return xr.Dataset({
        "slope": like(dem, slope_deg, "slope", "deg", "slope angle (Horn 1981)"),
        "roughness": like(dem, np.where(valid, roughness(dem, config.roughness_radius_px), np.nan).astype(np.float32),
                          "roughness", "m", "RMS deviation from the local plane"),
        "hazard": like(dem, hazard, "hazard", "1/(100 m2)",
                       f"rocks at least {config.obstacle_diameter_m:g} m across per 100 m2"),
        "traversable": like(dem, traversable(slope_deg, hazard, config), "traversable", "1",
                            f"1 where slope <= {config.max_slope_deg:g} deg and rocks within limits"),
    })


def traversable(slope_deg: np.ndarray, hazard: np.ndarray, config: HazardConfig) -> np.ndarray:
    """Mask of pixels the rover may enter (uint8: 1 yes, 0 no; nodata counts as no).

    Parameters
    ----------
    slope_deg : ndarray
        Slope [deg].
    hazard : ndarray
        Obstacle rocks per 100 m^2.
    config : HazardConfig
        The limits.
    """
    with np.errstate(invalid="ignore"):
        ok = (slope_deg <= config.max_slope_deg) & (hazard <= config.max_rock_density_per_100m2)
    return ok.astype(np.uint8)
