"""Tracks of the Sun and the Earth across the sky of a tile's reference point."""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import NDArray

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.geo import local_to_grid_azimuth, xy_to_latlon
from lupex.limits import MAX_EPOCHS, check_count
from lupex.sky.ephemeris import coverage, parse_utc, sun_earth_topocentric
from lupex.sky.illumination import BodyTrack, azimuth_split

__all__ = ["LUNAR_NODAL_CYCLE_H", "elevation_at", "epochs", "horizon_toward", "parse_step_hours", "sun_earth_tracks"]

LUNAR_NODAL_CYCLE_H = 18.61 * 8766.0
"""The 18.61-year cycle of the Moon's orbital node, after which the Sun's and Earth's
tracks in the lunar sky repeat [h]; the span over which a region must stay dark to be
called permanently shadowed (Mazarico et al. 2011)."""

_STEP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|hr|d|day)s?\s*$", re.IGNORECASE)
_UNIT_HOURS = {"s": 1 / 3600, "sec": 1 / 3600, "min": 1 / 60, "m": 1 / 60, "h": 1.0, "hr": 1.0, "d": 24.0, "day": 24.0}


def parse_step_hours(text: str) -> float:
    """Read a duration such as ``30min``, ``1h``, ``6h`` or ``1d`` [h].

    Raises
    ------
    LupexError
        For text that is not a positive duration.
    """
    match = _STEP.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise LupexError(f"cannot read the time step {text!r}; write it like 30min, 1h, 6h or 1d")
    return float(match.group(1)) * _UNIT_HOURS[match.group(2).lower()]


def epochs(start, end, step_h: float) -> NDArray:
    """Equally spaced UTC epochs from ``start`` up to and including ``end`` [datetime64[ns]].

    Raises
    ------
    LupexError
        When the end is not after the start, the period lies outside the ephemeris, or it
        holds more than :data:`lupex.limits.MAX_EPOCHS` epochs.
    """
    t0, t1 = parse_utc([start, end])
    if t1 <= t0:
        raise LupexError(f"the end {t1} must come after the start {t0}")
    first, last = coverage()
    if t0 < first or t1 > last:
        raise LupexError(f"the period {t0} - {t1} lies outside the ephemeris ({first} - {last})")
    step_ns = int(round(step_h * 3.6e12))
    if step_ns <= 0:
        raise LupexError("the time step must be positive")
    count = int((t1 - t0) / np.timedelta64(step_ns, "ns")) + 1
    span = " to ".join(np.datetime_as_string(t, unit="s") for t in (t0, t1))
    check_count(count, MAX_EPOCHS, f"the epochs from {span} every {_duration(step_h)}",
                "choose a coarser time step or a shorter period")
    return t0 + np.arange(count) * np.timedelta64(step_ns, "ns")


def _duration(hours: float) -> str:
    """A time step for people: ``6 h``, ``30 min``, ``1 s``."""
    if hours >= 1.0:
        return f"{hours:g} h"
    return f"{hours * 60:g} min" if hours >= 1 / 60 else f"{hours * 3600:g} s"


def sun_earth_tracks(reference_xy: tuple[float, float], height_m: float, times: NDArray,
                     step_h: float) -> dict[str, BodyTrack]:
    """The Sun's and the Earth's tracks seen from a reference point of the map.

    Parameters
    ----------
    reference_xy : tuple of float
        Map coordinates of the reference point (the tile centre) [m].
    height_m : float
        Height of the observer above the 1737.4 km sphere [m].
    times : ndarray of datetime64
        Epochs (UTC), equally spaced by ``step_h``.
    step_h : float
        Time between epochs [h].

    Returns
    -------
    dict
        ``{"sun": BodyTrack, "earth": BodyTrack}`` with grid azimuths (clockwise from grid
        north), elevations above the reference point's horizontal plane and apparent radii,
        light time and aberration applied (:func:`lupex.sky.ephemeris.sun_earth_topocentric`).
        The Earth's parallax differs across a tile by less than its size over 384,000 km
        (0.003 deg for 20 km) and is taken at the reference point.
    """
    lat, lon = xy_to_latlon(*reference_xy)
    sky = sun_earth_topocentric(float(lat), float(lon), times, height_m)
    return {
        name: BodyTrack(
            times=sky.times,
            azimuth_deg=local_to_grid_azimuth(body.azimuth_deg, float(lon)),
            elevation_deg=np.asarray(body.elevation_deg, dtype=float),
            radius_deg=np.asarray(body.angular_radius_deg, dtype=float),
            reference_xy=(float(reference_xy[0]), float(reference_xy[1])),
            step_h=step_h,
        )
        for name, body in (("sun", sky.sun), ("earth", sky.earth))
    }


def elevation_at(dx: NDArray, dy: NDArray, track: BodyTrack) -> NDArray:
    """Elevation of the body's centre above the horizontal plane of places offset from the
    track's reference point, shape (S, N) [deg].

    A place ``(dx, dy)`` [m] from the reference is tilted toward it by ``d / R``, which raises the
    body by ``(dx sin a + dy cos a) / R`` [rad] at grid azimuth ``a``.
    """
    a = np.radians(track.azimuth_deg)[:, None]
    tilt = np.degrees((np.asarray(dx)[None, :] * np.sin(a) + np.asarray(dy)[None, :] * np.cos(a)) / MOON_RADIUS_M)
    return np.asarray(track.elevation_deg)[:, None] + tilt


def horizon_toward(columns: NDArray, track: BodyTrack) -> NDArray:
    """Each place's horizon toward the body, linear between the cube's azimuths, shape (S, N) [deg].

    ``columns`` holds the places' horizons at A equally spaced grid azimuths, shape (A, N) [deg].
    """
    n_az = columns.shape[0]
    lower, w = azimuth_split(track.azimuth_deg, n_az)
    return (1.0 - w)[:, None] * columns[lower] + w[:, None] * columns[(lower + 1) % n_az]
