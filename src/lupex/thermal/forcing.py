"""Direct sunlight on every facet of a DEM at every epoch, from its horizons and the Sun's track.

At each epoch a pixel receives ``S (1 AU / d)^2 f cos(i)`` [W m^-2]: the solar constant at
the Sun's distance, the visible fraction ``f`` of the solar disk above the pixel's horizon
(interpolated between horizon azimuths and lowered by the pixel's tilt, as in
:mod:`lupex.sky.illumination`), and the cosine of the incidence on the sloped facet, with the
Sun's elevation raised by the same tilt. It absorbs ``1 - A(i)`` of it, the albedo following
the incidence law of Keihm (1984) (:func:`lupex.thermal.regolith.albedo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from lupex.constants import AU_KM, MOON_RADIUS_M, SOLAR_CONSTANT_W_M2
from lupex.sky.ephemeris import SUN_RADIUS_KM
from lupex.sky.illumination import BodyTrack, azimuth_split, disk_fraction_at
from lupex.thermal.regolith import RegolithParams

__all__ = ["SunForcing", "absorbed_series", "albedo_coefficients", "direct_flux",
           "facet_angles"]

@dataclass(frozen=True)
class SunForcing:
    """The Sun's track in the arrays the compiled kernels read, one entry per epoch.

    Attributes
    ----------
    lower : ndarray of int64
        Horizon azimuth index just below the Sun's grid azimuth.
    upper_weight : ndarray
        Linear weight of the next horizon azimuth [-].
    elevation_deg, radius_deg : ndarray
        Elevation of the disk's centre at the track's reference point and its apparent
        radius [deg].
    sin_elevation, cos_elevation : ndarray
        Of the reference elevation [-].
    tilt_x, tilt_y : ndarray
        Elevation gained per metre of map offset along x and y [deg m^-1]
        (``sin(azimuth) / R`` and ``cos(azimuth) / R`` in degrees).
    sin_azimuth, cos_azimuth : ndarray
        Of the Sun's grid azimuth [-].
    irradiance_w_m2 : ndarray
        Solar irradiance at the Sun's distance [W m^-2].
    step_s : float
        Time between epochs [s].
    """

    lower: NDArray
    upper_weight: NDArray
    elevation_deg: NDArray
    radius_deg: NDArray
    sin_elevation: NDArray
    cos_elevation: NDArray
    tilt_x: NDArray
    tilt_y: NDArray
    sin_azimuth: NDArray
    cos_azimuth: NDArray
    irradiance_w_m2: NDArray
    step_s: float

    @classmethod
    def from_track(cls, track: BodyTrack, n_azimuths: int) -> SunForcing:
        """Build from a Sun track (:func:`lupex.sky.tracks.sun_earth_tracks`) for a cube of
        ``n_azimuths`` horizon azimuths."""
        lower, weight = azimuth_split(track.azimuth_deg, n_azimuths)
        azimuth = np.radians(np.asarray(track.azimuth_deg, dtype=float))
        elevation = np.asarray(track.elevation_deg, dtype=float)
        radius = np.asarray(track.radius_deg, dtype=float)
        to_deg = np.degrees(1.0 / MOON_RADIUS_M)
        distance_km = SUN_RADIUS_KM / np.sin(np.radians(radius))
        return cls(lower, weight, elevation, radius, np.sin(np.radians(elevation)), np.cos(np.radians(elevation)),
                   np.sin(azimuth) * to_deg, np.cos(azimuth) * to_deg, np.sin(azimuth), np.cos(azimuth),
                   SOLAR_CONSTANT_W_M2 * (AU_KM / distance_km) ** 2, track.step_h * 3600.0)

    def kernel_args(self) -> tuple:
        """The per-epoch arrays in the order :func:`direct_flux` takes them."""
        return (self.lower, self.upper_weight, self.elevation_deg, self.radius_deg, self.sin_elevation,
                self.cos_elevation, self.tilt_x, self.tilt_y, self.sin_azimuth, self.cos_azimuth,
                self.irradiance_w_m2)


def facet_angles(slope_deg: NDArray, aspect_deg: NDArray) -> NDArray:
    """``(sin slope, cos slope, sin aspect, cos aspect)`` stacked on a last axis of 4 [-]."""
    s, a = np.radians(slope_deg), np.radians(aspect_deg)
    return np.ascontiguousarray(np.stack([np.sin(s), np.cos(s), np.sin(a), np.cos(a)], axis=-1), dtype=np.float64)


def albedo_coefficients(params: RegolithParams) -> NDArray:
    """``(A0, a, b)`` of the incidence law, for the kernels."""
    return np.array([params.albedo, params.albedo_a, params.albedo_b])


@numba.njit(cache=True, inline="always")
def direct_flux(horizon, dx, dy, cx, cy, facet, albedo, k, lower, upper_weight, elevation, radius, sin_e, cos_e,
                tilt_x, tilt_y, sin_az, cos_az, irradiance):
    """Sunlight incident on and absorbed by one pixel at epoch ``k`` [W m^-2].

    ``horizon`` is the pixel's horizon (A,) [deg]; ``dx, dy`` its offset from the track's
    reference point [m]; ``cx, cy`` the tilt coefficients per horizon azimuth
    (:func:`lupex.sky.illumination.tilt_terms`); ``facet`` from :func:`facet_angles`.
    Returns ``(incident, absorbed)``.
    """
    n_az = horizon.size
    a0 = lower[k]
    a1 = (a0 + 1) % n_az
    w = upper_weight[k]
    h = (1.0 - w) * (horizon[a0] - (dx * cx[a0] + dy * cy[a0])) + w * (horizon[a1] - (dx * cx[a1] + dy * cy[a1]))
    visible = disk_fraction_at(elevation[k] - h, radius[k])
    if visible <= 0.0:
        return 0.0, 0.0
    tilt = np.radians(dx * tilt_x[k] + dy * tilt_y[k])
    sin_tilt = np.sin(tilt)
    cos_tilt = np.cos(tilt)
    sin_el = sin_e[k] * cos_tilt + cos_e[k] * sin_tilt
    cos_el = cos_e[k] * cos_tilt - sin_e[k] * sin_tilt
    cos_i = sin_el * facet[1] + cos_el * facet[0] * (cos_az[k] * facet[3] + sin_az[k] * facet[2])
    if cos_i <= 0.0:
        return 0.0, 0.0
    incident = irradiance[k] * visible * min(cos_i, 1.0)
    theta = np.degrees(np.arccos(min(cos_i, 1.0)))
    reflectance = albedo[0] + albedo[1] * (theta / 45.0) ** 3 + albedo[2] * (theta / 90.0) ** 8
    return incident, incident * (1.0 - reflectance)


@numba.njit(cache=True)
def absorbed_series(horizon, dx, dy, cx, cy, facet, albedo, lower, upper_weight, elevation, radius, sin_e, cos_e,
                    tilt_x, tilt_y, sin_az, cos_az, irradiance, out):
    """Direct sunlight absorbed by one pixel at every epoch into ``out`` [W m^-2]
    (arguments of :func:`direct_flux`, the per-epoch ones from :meth:`SunForcing.kernel_args`)."""
    for k in range(out.size):
        out[k] = direct_flux(horizon, dx, dy, cx, cy, facet, albedo, k, lower, upper_weight, elevation, radius,
                             sin_e, cos_e, tilt_x, tilt_y, sin_az, cos_az, irradiance)[1]
