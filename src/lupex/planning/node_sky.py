"""The Sun and the Earth at the planning lattice's nodes, one sample per sky step.

Each node sees the Sun's and the Earth's tracks of the tile's reference point
(:func:`lupex.sky.tracks.sun_earth_tracks`) over its own horizon, lowered by its tilt
relative to the reference as in :mod:`lupex.sky.illumination`. From them:

* ``sun_fraction``: visible fraction of the solar disk [-];
* ``solar_w``: power the array would give with a panel square to the Sun's azimuth,
  ``S0 (1 au / d)^2 f eta A cos(e)`` [W] (:func:`lupex.rover.power.solar_power_w` with one
  tracking panel); multiplied by a *facing factor* it gives the fixed array's power for a
  heading: the sum over panels of ``max(0, cos(sun azimuth - heading - panel azimuth))``;
* ``earth_visible``: the Earth's centre clears the horizon by the rover's antenna mask.

A parked rover turns to the heading that makes the most of the Sun (``facing_parked``); a
driving rover faces along its move (``facing_moves``, one per move and sky step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from lupex.planning.lattice import Lattice, move_headings_deg
from lupex.rover.model import RoverConfig
from lupex.rover.power import panel_facing, solar_power_w
from lupex.sky.ephemeris import SUN_RADIUS_KM
from lupex.sky.horizon_store import read_columns
from lupex.sky.illumination import disk_visible_fraction
from lupex.sky.tracks import elevation_at, horizon_toward, sun_earth_tracks

__all__ = ["NodeSky", "node_sky"]



@dataclass(frozen=True)
class NodeSky:
    """Sun and Earth at every lattice node and sky step.

    Attributes
    ----------
    times : ndarray of datetime64[ns], shape (S,)
        Start of each sky step (UTC).
    step_h : float
        Length of a sky step [h].
    sun_fraction : ndarray of float32, shape (S, N)
        Visible fraction of the solar disk [-].
    solar_w : ndarray, shape (S, N)
        Array power with a panel square to the Sun's azimuth [W].
    earth_visible : ndarray of bool, shape (S, N)
        The Earth's centre above the horizon plus the antenna mask.
    facing_moves : ndarray, shape (S, 16)
        Facing factor of the array while driving each move [-].
    facing_parked : float
        Facing factor at the best heading [-].
    """

    times: NDArray
    step_h: float
    sun_fraction: NDArray
    solar_w: NDArray
    earth_visible: NDArray
    facing_moves: NDArray
    facing_parked: float


def node_sky(horizon, dem: xr.DataArray, lattice: Lattice, times: NDArray, step_h: float,
             rover: RoverConfig) -> NodeSky:
    """Sample the Sun and the Earth at every node of a lattice.

    Parameters
    ----------
    horizon : array-like, shape (A, ny, nx)
        Horizon angles [deg] on the DEM's grid (an array or ``open_horizon``'s lazy cube).
    dem : xarray.DataArray
        The DEM [m] (grid coordinates and the reference height).
    lattice : Lattice
        The planning lattice.
    times : ndarray of datetime64
        Start of each sky step (UTC), equally spaced by ``step_h``.
    step_h : float
        Sky step [h].
    rover : RoverConfig
        The rover (solar array, antenna mask).

    Returns
    -------
    NodeSky
    """
    x, y = dem["x"].values, dem["y"].values
    reference = (float(x.mean()), float(y.mean()))
    tracks = sun_earth_tracks(reference, float(np.nanmedian(dem.values)), times, step_h)
    columns = read_columns(horizon, lattice.pixel[:, 0], lattice.pixel[:, 1])
    dx = x[lattice.pixel[:, 1]] - reference[0]
    dy = y[lattice.pixel[:, 0]] - reference[1]
    sun, earth = tracks["sun"], tracks["earth"]
    elevation = elevation_at(dx, dy, sun)
    fraction = disk_visible_fraction(elevation - horizon_toward(columns, sun), np.asarray(sun.radius_deg)[:, None])
    distance_km = SUN_RADIUS_KM / np.sin(np.radians(np.asarray(sun.radius_deg)))
    tracking = rover.model_copy(update={"solar": rover.solar.model_copy(update={"orientation": "tracking"})})
    solar = solar_power_w(tracking, fraction, elevation, 0.0, 0.0, distance_km[:, None] * np.ones_like(fraction))
    earth_clear = elevation_at(dx, dy, earth) - horizon_toward(columns, earth)
    earth_visible = earth_clear > rover.comms.earth_mask_deg
    relative = np.asarray(sun.azimuth_deg)[:, None] - move_headings_deg()[None, :]
    headings = np.arange(0.0, 360.0, 0.5)
    return NodeSky(
        times=np.asarray(sun.times),
        step_h=float(step_h),
        sun_fraction=fraction.astype(np.float32),
        solar_w=solar,
        earth_visible=earth_visible,
        facing_moves=panel_facing(rover, relative),
        facing_parked=float(np.max(panel_facing(rover, headings))),
    )

