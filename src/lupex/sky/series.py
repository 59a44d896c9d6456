"""Sun and Earth visibility as time series at points and along a path, from a horizon cube.

Unlike the maps, a handful of places can afford the exact sky at each of them: the Sun and
the Earth are computed from the place itself (:func:`lupex.sky.ephemeris.sun_earth_topocentric`,
so the Earth's parallax is exact), their local azimuth turned into grid azimuth, and compared
with the place's own horizon, interpolated linearly in azimuth. The horizon of a place is that
of the pixel whose centre is nearest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from lupex.errors import LupexError
from lupex.geo import local_to_grid_azimuth, xy_to_latlon
from lupex.limits import check_memory
from lupex.raster import pixel_of
from lupex.sky.ephemeris import parse_utc, sun_earth_topocentric
from lupex.sky.illumination import azimuth_split, disk_visible_fraction

__all__ = ["EPHEMERIS_BYTES_PER_EPOCH", "SERIES_BYTES_PER_ROW", "path_series", "point_series"]

EPHEMERIS_BYTES_PER_EPOCH = 256
"""Peak memory of the Sun and the Earth seen from one place, per epoch [bytes]. Measured: 248 B
(:func:`lupex.sky.ephemeris.sun_earth_topocentric`, 1.2 million epochs, tracemalloc)."""

SERIES_BYTES_PER_ROW = 224
"""Memory of a time series per place and epoch [bytes]: its 13 columns, about 100 B, twice (each
place's table and their concatenation). Measured: 220 B (``lupex timeseries``, 172,801 epochs at
one and four places, peak resident memory)."""


def _horizon_at(horizon_column: NDArray, grid_azimuth_deg: NDArray) -> NDArray:
    """Horizon angle [deg] at grid azimuths, linear between the cube's equally spaced azimuths."""
    n_az = horizon_column.size
    lower, w = azimuth_split(grid_azimuth_deg, n_az)
    return (1.0 - w) * horizon_column[lower] + w * horizon_column[(lower + 1) % n_az]


def _visibility(horizon, dem: xr.DataArray, x: float, y: float, times: NDArray, observer_height_m: float,
                earth_mask_deg: float) -> dict[str, NDArray]:
    row, col = pixel_of(dem, x, y)
    column = np.asarray(horizon[:, row, col], dtype=float)
    lat, lon = (float(v) for v in xy_to_latlon(x, y))
    ground = float(dem.values[row, col])
    sky = sun_earth_topocentric(lat, lon, times, (0.0 if np.isnan(ground) else ground) + observer_height_m)
    sun_h = _horizon_at(column, local_to_grid_azimuth(sky.sun.azimuth_deg, lon))
    earth_h = _horizon_at(column, local_to_grid_azimuth(sky.earth.azimuth_deg, lon))
    return {
        "lat": np.full(np.shape(times), lat),
        "lon": np.full(np.shape(times), lon),
        "sun_elevation_deg": sky.sun.elevation_deg,
        "sun_horizon_deg": sun_h,
        "sun_fraction": disk_visible_fraction(sky.sun.elevation_deg - sun_h, sky.sun.angular_radius_deg),
        "earth_elevation_deg": sky.earth.elevation_deg,
        "earth_horizon_deg": earth_h,
        "earth_fraction": disk_visible_fraction(sky.earth.elevation_deg - earth_h, sky.earth.angular_radius_deg),
        "earth_visible": sky.earth.elevation_deg - earth_h > earth_mask_deg,
    }


def point_series(horizon, dem: xr.DataArray, xs: ArrayLike, ys: ArrayLike, times: ArrayLike,
                 observer_height_m: float = 0.0, earth_mask_deg: float = 0.0) -> pd.DataFrame:
    """Sun and Earth visibility at fixed places over a series of epochs.

    Parameters
    ----------
    horizon : array-like, shape (A, ny, nx)
        Horizon angles [deg] on the DEM's grid (e.g. ``open_horizon(path, dem)``).
    dem : xarray.DataArray
        The DEM [m] (for the pixel grid and the ground height).
    xs, ys : array_like
        Map coordinates of the places [m].
    times : array_like
        UTC epochs (see :func:`lupex.sky.ephemeris.parse_utc`).
    observer_height_m : float
        Eye height above the ground [m] (as the cube was computed for).
    earth_mask_deg : float
        Clearance the Earth's centre needs above the horizon [deg].

    Returns
    -------
    pandas.DataFrame
        One row per place and epoch: ``time``, ``point`` (index of the place), ``x_m``,
        ``y_m``, ``lat``, ``lon``, ``sun_elevation_deg``, ``sun_horizon_deg``, ``sun_fraction``
        (visible fraction of the disk), ``earth_elevation_deg``, ``earth_horizon_deg``,
        ``earth_fraction`` (visible fraction of the Earth's disk), ``earth_visible`` (bool: the
        centre clears the horizon by the mask).
    """
    utc = np.atleast_1d(parse_utc(times))
    places = np.atleast_1d(xs).size
    check_memory(float(utc.size) * (EPHEMERIS_BYTES_PER_EPOCH + places * SERIES_BYTES_PER_ROW),
                 f"a time series of {places} places at {utc.size:,} epochs",
                 "choose a coarser time step, a shorter period or fewer places")
    frames = []
    for index, (x, y) in enumerate(zip(np.atleast_1d(xs), np.atleast_1d(ys), strict=True)):
        columns = _visibility(horizon, dem, float(x), float(y), utc, observer_height_m, earth_mask_deg)
        frames.append(pd.DataFrame({"time": utc, "point": index, "x_m": float(x), "y_m": float(y), **columns}))
    return pd.concat(frames, ignore_index=True)


def path_series(horizon, dem: xr.DataArray, xs: ArrayLike, ys: ArrayLike, times: ArrayLike,
                observer_height_m: float = 0.0, earth_mask_deg: float = 0.0) -> pd.DataFrame:
    """Sun and Earth visibility along a path, each vertex at its own epoch.

    Parameters are as :func:`point_series`, with ``xs``, ``ys`` and ``times`` of equal length
    (vertex ``i`` is at ``(xs[i], ys[i])`` at ``times[i]``).

    Returns
    -------
    pandas.DataFrame
        One row per vertex, the columns of :func:`point_series` (``point`` is the vertex index).
    """
    xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
    utc = np.atleast_1d(parse_utc(times))
    if not (xs.size == ys.size == utc.size):
        raise LupexError(f"a path needs as many times as vertices ({xs.size} x, {ys.size} y, {utc.size} times)")
    rows = [
        pd.DataFrame({"time": utc[i:i + 1], "point": i, "x_m": float(xs[i]), "y_m": float(ys[i]),
                      **_visibility(horizon, dem, float(xs[i]), float(ys[i]), utc[i:i + 1], observer_height_m,
                                    earth_mask_deg)})
        for i in range(xs.size)
    ]
    return pd.concat(rows, ignore_index=True)
