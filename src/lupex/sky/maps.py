"""Illumination and Earth-visibility maps of a DEM over a period, from its horizon cube."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from lupex.errors import LupexError
from lupex.limits import check_memory
from lupex.raster import like
from lupex.report.layers import LayerStyle
from lupex.sky.ephemeris import coverage
from lupex.sky.illumination import build_table, longest_darkness_hours, mean_visibility, never_visible
from lupex.sky.tracks import LUNAR_NODAL_CYCLE_H, epochs, sun_earth_tracks

__all__ = ["BAND_BYTES_PER_VALUE", "MAPS_BYTES_PER_PX", "MAP_STYLES", "IlluminationConfig", "check_maps_size",
           "illumination_maps", "maps_bytes", "psr_window"]

MAPS_BYTES_PER_PX = 160
"""Peak memory of the illumination maps per DEM pixel [bytes]: the float64 maps, their float32
layers and masks, and the quicklooks' hillshades. Measured: 154 B a pixel while ``lupex
illuminate --horizon`` writes the layers and quicklooks, its most demanding phase on large DEMs
(peak resident memory on 1024 x 1024 and 2048 x 2048 synthetic DEMs, minus the interpreter's)."""

BAND_BYTES_PER_VALUE = 30
"""Memory of reading the horizon cube a band of rows at a time, per horizon value in a band [bytes]:
the stored int16, its float64 decoding and mask, the float32 band and its pixel-major copy
(:func:`lupex.sky.illumination.pixel_major_blocks`, bands of 128 MB of float32, 33.5 million
values). Measured: 955 MB with full bands, 470 MB with 16.8-million-value bands, while the maps
are computed (the same runs, and ``lupex mission`` on a 512 x 512 site at 64 azimuths)."""

_BAND_VALUES = (128 << 20) // 4
_SUN_CYCLE_BYTES = 64 << 20  # the hourly Sun track of an 18.61-year cycle: 163,000 epochs of ~256 B


def maps_bytes(shape: tuple[int, int], n_azimuths: int) -> float:
    """Estimated peak memory of :func:`illumination_maps` and their files [bytes].

    Parameters
    ----------
    shape : tuple of int
        DEM rows and columns [pixels].
    n_azimuths : int
        Azimuths of the horizon cube [-].
    """
    ny, nx = shape
    band = min(float(n_azimuths) * ny * nx, max(float(n_azimuths) * nx, _BAND_VALUES))
    return float(ny) * nx * MAPS_BYTES_PER_PX + band * BAND_BYTES_PER_VALUE + _SUN_CYCLE_BYTES


def check_maps_size(shape: tuple[int, int], n_azimuths: int) -> None:
    """Refuse illumination maps of a DEM too large for this machine's memory, before reading it.

    Parameters
    ----------
    shape : tuple of int
        DEM rows and columns [pixels] (a file's declared size will do).
    n_azimuths : int
        Azimuths of the horizon cube [-].

    Raises
    ------
    LupexError
        When :func:`maps_bytes` (the larger of its two phases, rounded up to their sum) exceeds
        :func:`lupex.limits.memory_budget`.
    """
    ny, nx = shape
    check_memory(maps_bytes(shape, n_azimuths), f"making the illumination maps of a {nx} x {ny} pixel DEM",
                 "crop it with 'lupex terrain crop', or make the maps tile by tile with 'lupex illuminate --tile-px'")


MAP_STYLES = {
    "sun_fraction_mean": LayerStyle("inferno", "mean visible fraction of the solar disk", 0, 1),
    "psr": LayerStyle("Blues", "1 = permanently shadowed", 0, 1),
    "max_darkness_h": LayerStyle("magma_r", "longest darkness [h]"),
    "earth_visible_fraction": LayerStyle("viridis", "fraction of time the Earth is in view", 0, 1),
    "max_earth_blackout_h": LayerStyle("magma_r", "longest Earth blackout [h]"),
}
"""The maps ``lupex illuminate`` writes, each as NAME.tif and NAME.png."""


class IlluminationConfig(BaseModel):
    """The period and settings of an illumination run (validated, immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str = Field(description="First epoch, ISO 8601 UTC.")
    end: str = Field(description="Last epoch, ISO 8601 UTC.")
    step_h: float = Field(1.0, gt=0.0, le=24 * 30, description="Time step [h].")
    observer_height_m: float = Field(0.0, ge=0.0, le=1000.0, description="Eye height above the ground [m].")
    earth_mask_deg: float = Field(
        0.0, ge=0.0, le=30.0,
        description="Clearance the Earth's centre needs above the terrain for a link [deg]. "
        "Assumption: 0 (line of sight); set the antenna's mask angle here.",
    )


def psr_window(start: np.datetime64) -> tuple[np.datetime64, np.datetime64]:
    """The 18.61-year span over which permanent shadow is judged: from ``start``, or the
    last such span inside the ephemeris when ``start`` is too late."""
    first, last = coverage()
    span = np.timedelta64(int(LUNAR_NODAL_CYCLE_H * 3600), "s")
    begin = min(max(start, first), last - span)
    return begin, begin + span


def illumination_maps(dem: xr.DataArray, horizon, config: IlluminationConfig,
                      step: Callable[[str], Any] | None = None,
                      centre: tuple[float, float, float] | None = None) -> xr.Dataset:
    """Mean Sun, PSR, longest darkness, Earth visibility and longest Earth blackout maps.

    Parameters
    ----------
    dem : xarray.DataArray
        Heights [m] on the grid of the horizon cube.
    horizon : array-like, shape (A, ny, nx)
        Horizon angles [deg] at A equally spaced grid azimuths from 0 (a NumPy array or the
        lazily loaded ``horizon_deg`` of :func:`lupex.sky.horizon_store.open_horizon`).
    config : IlluminationConfig
        Period and settings.
    step : callable, optional
        Called with a short description as each stage starts.
    centre : tuple of float, optional
        Map point x, y [m] and ground height [m] the Sun and the Earth are tracked from;
        by default the DEM's centre and median height.

    Returns
    -------
    xarray.Dataset
        The layers of :data:`MAP_STYLES`. Means and longest runs cover the period; the PSR
        map covers a whole 18.61-year nodal cycle (:func:`psr_window`) sampled hourly, with
        the margin of :func:`lupex.sky.illumination.build_table`.
    """
    step = step or (lambda message: None)
    n_az = horizon.shape[0]
    check_maps_size(dem.shape, n_az)
    azimuths = getattr(horizon, "coords", {}).get("azimuth")
    if azimuths is not None and not np.allclose(azimuths.values, np.arange(n_az) * 360.0 / n_az):
        raise LupexError("the horizon cube's azimuths must be equally spaced from 0 deg")
    x, y = dem["x"].values, dem["y"].values
    if centre is None:
        centre = (float(x.mean()), float(y.mean()), float(np.nanmedian(dem.values)))
    reference = centre[:2]
    centre_height = centre[2] + config.observer_height_m
    times = epochs(config.start, config.end, config.step_h)
    step(f"ephemeris: Sun and Earth at {times.size} epochs")
    tracks = sun_earth_tracks(reference, centre_height, times, config.step_h)
    sun, earth = tracks["sun"], tracks["earth"]
    sun_table = build_table(sun, n_az)
    earth_table = build_table(earth, n_az, centre_only=True, mask_deg=config.earth_mask_deg)
    step("mean Sun and Earth visibility")
    sun_mean = mean_visibility(horizon, x, y, sun, sun_table)
    earth_mean = mean_visibility(horizon, x, y, earth, earth_table)
    step("permanent shadow over an 18.61-year cycle")
    begin, end = psr_window(times[0])
    cycle = sun_earth_tracks(reference, centre_height, epochs(begin, end, 1.0), 1.0)["sun"]
    psr = never_visible(horizon, x, y, cycle, build_table(cycle, n_az))
    step("longest darkness and Earth blackout")
    darkness = longest_darkness_hours(horizon, x, y, sun)
    blackout = longest_darkness_hours(horizon, x, y, earth, centre_only=True, mask_deg=config.earth_mask_deg)
    valid = np.isfinite(dem.values)
    period = f"{config.start} to {config.end} every {config.step_h:g} h"
    layers = {
        "sun_fraction_mean": (sun_mean, "1", f"mean visible fraction of the solar disk, {period}"),
        "psr": (psr, "1", f"permanently shadowed over {begin} - {end}"),
        "max_darkness_h": (darkness, "h", f"longest time with no part of the Sun visible, {period}"),
        "earth_visible_fraction": (earth_mean, "1", f"fraction of time the Earth's centre is in view, {period}"),
        "max_earth_blackout_h": (blackout, "h", f"longest time with the Earth's centre hidden, {period}"),
    }
    out = {}
    for name, (values, units, long_name) in layers.items():
        if name == "psr":
            data = np.where(valid, values, 0).astype(np.uint8)
        else:
            data = np.where(valid, values, np.nan).astype(np.float32)
        out[name] = like(dem, data, name, units, long_name)
    return xr.Dataset(out)
