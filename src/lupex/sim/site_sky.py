"""The Sun and the Earth at the rover's true position, tick by tick, over a whole mission.

The ephemeris is evaluated once for every tick of the mission at the site's centre
(:func:`lupex.sky.tracks.sun_earth_tracks`); at a place the body's elevation gets the tilt of the
place's horizontal plane (:func:`lupex.sky.tracks.elevation_at`) and is compared with the place's
own horizon toward the body (:func:`lupex.sky.tracks.horizon_toward`), as the maps and the
planner's node sky do. Horizon columns are read from the cube once per pixel visited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from lupex.raster import clamped_pixels
from lupex.rover.model import RoverConfig
from lupex.sky.ephemeris import SUN_RADIUS_KM, parse_utc
from lupex.sky.horizon_store import read_columns
from lupex.sky.illumination import BodyTrack, disk_visible_fraction
from lupex.sky.tracks import elevation_at, horizon_toward, sun_earth_tracks

__all__ = ["SiteSky", "SkySample"]

WINDOW_PX = 128
"""Side of the square of pixels whose horizons are read together when the rover first visits one of them."""


@dataclass(frozen=True)
class SkySample:
    """The sky at one place over a run of ticks.

    Attributes
    ----------
    sun_fraction : ndarray
        Visible fraction of the solar disk [-].
    sun_elevation_deg : ndarray
        Elevation of the Sun's centre above the place's horizontal plane [deg].
    sun_azimuth_deg : ndarray
        Grid azimuth of the Sun, clockwise from grid north [deg].
    sun_distance_km : ndarray
        Distance to the Sun [km].
    earth_visible : ndarray of bool
        The Earth's centre clears the horizon by the antenna mask.
    """

    sun_fraction: NDArray
    sun_elevation_deg: NDArray
    sun_azimuth_deg: NDArray
    sun_distance_km: NDArray
    earth_visible: NDArray


def _slice(track: BodyTrack, first: int, last: int) -> BodyTrack:
    return BodyTrack(track.times[first:last], track.azimuth_deg[first:last], track.elevation_deg[first:last],
                     track.radius_deg[first:last], track.reference_xy, track.step_h)


class SiteSky:
    """Sun and Earth anywhere on a site at every tick of a mission.

    Parameters
    ----------
    horizon : array-like, shape (A, ny, nx)
        Horizon angles of the DEM [deg] (an array or ``open_horizon``'s lazy cube).
    dem : xarray.DataArray
        The DEM [m].
    start_utc : str or numpy.datetime64
        Time of tick 0 (UTC).
    ticks : int
        Ticks of the mission; the sky is sampled at ticks ``0 .. ticks``.
    tick_h : float
        Length of a tick [h].
    rover : RoverConfig
        The rover (antenna mask).
    around : tuple of float, optional
        ``(x, y, radius)`` [m]: the horizons of the pixels within ``radius`` of (x, y) are read into
        memory at once (where the rover will roam); others are read when first visited.
    """

    def __init__(self, horizon, dem: xr.DataArray, start_utc, ticks: int, tick_h: float, rover: RoverConfig,
                 around: tuple[float, float, float] | None = None):
        self.dem = dem
        self._transform = dem.rio.transform()
        self.tick_h = float(tick_h)
        self.start = parse_utc(start_utc)
        self.times = self.start + (np.arange(ticks + 1) * tick_h * 3600.0).astype("timedelta64[s]")
        x, y = dem["x"].values, dem["y"].values
        self.reference = (float(x.mean()), float(y.mean()))
        tracks = sun_earth_tracks(self.reference, float(np.nanmedian(dem.values)), self.times, self.tick_h)
        self.sun, self.earth = tracks["sun"], tracks["earth"]
        self.earth_mask_deg = rover.comms.earth_mask_deg
        self._horizon = horizon
        self._columns: dict[tuple[int, int], NDArray] = {}
        if around is not None:
            cx, cy, radius = around
            t = self._transform
            r0, r1 = sorted(int((v - t.f) // t.e) for v in (cy + radius, cy - radius))
            c0, c1 = sorted(int((v - t.c) // t.a) for v in (cx - radius, cx + radius))
            self._load_window(r0, r1 + 1, c0, c1 + 1)

    def _load_window(self, r0: int, r1: int, c0: int, c1: int) -> None:
        """Read the horizons of the pixels in rows ``r0:r1`` and columns ``c0:c1`` (clipped to the grid)
        into memory at once: the cube is stored in planes of azimuths, so a read costs about the same
        for one pixel as for many."""
        ny, nx = self.dem.shape
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, ny), min(c1, nx)
        rows, cols = (g.ravel() for g in np.mgrid[r0:r1, c0:c1])
        block = read_columns(self._horizon, rows, cols).astype(np.float32)
        self._columns.update({(int(r), int(c)): block[:, k:k + 1]
                              for k, (r, c) in enumerate(zip(rows, cols, strict=True))})

    @property
    def ticks(self) -> int:
        """Ticks of the mission [-]."""
        return self.times.size - 1

    def _column(self, x: float, y: float) -> tuple[NDArray, float, float]:
        """The horizon of the pixel holding (x, y); a place just off the grid takes the nearest edge pixel's."""
        row, col = (int(v) for v in clamped_pixels(self._transform, self.dem.shape, x, y))
        if (row, col) not in self._columns:  # the rover has roamed off what is in memory: read around it
            half = WINDOW_PX // 2
            self._load_window(row - half, row + half, col - half, col + half)
        return self._columns[(row, col)], x - self.reference[0], y - self.reference[1]

    def at(self, x: float, y: float, first_tick: int, last_tick: int | None = None) -> SkySample:
        """The sky at map point (x, y) [m] over ticks ``first_tick .. last_tick`` (inclusive; one tick by
        default)."""
        last = first_tick if last_tick is None else last_tick
        first, last = max(0, first_tick), min(self.ticks, last)
        column, dx, dy = self._column(x, y)
        sun, earth = _slice(self.sun, first, last + 1), _slice(self.earth, first, last + 1)
        dx, dy = np.array([dx]), np.array([dy])
        elevation = elevation_at(dx, dy, sun)[:, 0]
        fraction = disk_visible_fraction(elevation - horizon_toward(column, sun)[:, 0], np.asarray(sun.radius_deg))
        earth_clear = elevation_at(dx, dy, earth)[:, 0] - horizon_toward(column, earth)[:, 0]
        return SkySample(
            sun_fraction=np.asarray(fraction, dtype=float),
            sun_elevation_deg=elevation,
            sun_azimuth_deg=np.asarray(sun.azimuth_deg, dtype=float),
            sun_distance_km=SUN_RADIUS_KM / np.sin(np.radians(np.asarray(sun.radius_deg))),
            earth_visible=earth_clear > self.earth_mask_deg,
        )
