"""Lunar coordinates: south polar stereographic map, Moon-fixed vectors, local frames.

Conventions
-----------
* Latitude is planetocentric, longitude is east-positive in [0, 360) [deg].
* The map is the LOLA south polar stereographic projection on the 1737.4 km sphere,
  ``+proj=stere +lat_0=-90 +lon_0=0 +k=1 +R=1737400`` (PROJ ``IAU_2015:30135``), so
  ``x = rho sin(lon)``, ``y = rho cos(lon)``, ``rho = 2 R tan((90 deg + lat) / 2)``
  (Snyder 1987, USGS Prof. Paper 1395, eqs. 21-33 to 21-36, spherical form).
* Moon-fixed Cartesian vectors are in the body-fixed frame of the DEM (for LOLA,
  MOON_ME of DE421): +Z to the north pole, +X to (0 N, 0 E), +Y to (0 N, 90 E) [m].
* Grid azimuths are clockwise from grid north (+y) in the map plane; local azimuths are
  clockwise from local north (toward increasing latitude). Near the south pole local
  north points away from the pole, so ``local = grid - lon``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError

__all__ = [
    "enu_basis",
    "grid_to_local_azimuth",
    "latlon_to_xy",
    "local_to_grid_azimuth",
    "moon_fixed_xyz",
    "scale_factor",
    "validate_latlon",
    "xy_to_latlon",
    "xyz_to_latlon",
]


def validate_latlon(lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray, NDArray]:
    """Check latitudes and longitudes and return them as float arrays.

    Parameters
    ----------
    lat : array_like
        Latitude [deg], in [-90, 90).
    lon : array_like
        East longitude [deg], any finite value (wrapped into [0, 360)).

    Raises
    ------
    LupexError
        For non-finite values, a latitude outside [-90, 90], or the north pole, the one
        point the south polar projection cannot map.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise LupexError("latitude and longitude must be finite numbers")
    if np.any(np.abs(lat) > 90):
        raise LupexError(f"latitude must lie in [-90, 90] deg, got {lat.max() if lat.max() > 90 else lat.min():g}")
    if np.any(lat >= 90):
        raise LupexError("the north pole cannot be mapped by the south polar projection")
    return lat, np.mod(lon, 360.0)


def latlon_to_xy(
    lat: ArrayLike, lon: ArrayLike, radius: float = MOON_RADIUS_M
) -> tuple[NDArray, NDArray]:
    """Project latitude/longitude onto the south polar stereographic map.

    Parameters
    ----------
    lat : array_like
        Planetocentric latitude [deg].
    lon : array_like
        East longitude [deg].
    radius : float
        Sphere radius [m].

    Returns
    -------
    x, y : ndarray
        Map coordinates [m].
    """
    lat, lon = validate_latlon(lat, lon)
    rho = 2.0 * radius * np.tan(np.radians(90.0 + lat) / 2.0)
    lon_r = np.radians(lon)
    return rho * np.sin(lon_r), rho * np.cos(lon_r)


def xy_to_latlon(x: ArrayLike, y: ArrayLike, radius: float = MOON_RADIUS_M) -> tuple[NDArray, NDArray]:
    """Invert the south polar stereographic map.

    Parameters
    ----------
    x, y : array_like
        Map coordinates [m].
    radius : float
        Sphere radius [m].

    Returns
    -------
    lat, lon : ndarray
        Planetocentric latitude [deg] and east longitude in [0, 360) [deg]; the pole
        itself gets longitude 0.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise LupexError("map coordinates must be finite numbers")
    rho = np.hypot(x, y)
    lat = 2.0 * np.degrees(np.arctan(rho / (2.0 * radius))) - 90.0
    lon = np.mod(np.degrees(np.arctan2(x, y)), 360.0)
    return lat, lon


def scale_factor(lat: ArrayLike) -> NDArray:
    """Point scale factor of the south polar stereographic map (map length / true length).

    ``k = 2 / (1 - sin(lat))``: 1 at the pole, 1.0077 at 80 deg S (Snyder 1987, eq. 21-4
    with k0 = 1). Divide map distances by ``k`` to get distances on the sphere.

    Parameters
    ----------
    lat : array_like
        Latitude [deg].
    """
    return 2.0 / (1.0 - np.sin(np.radians(np.asarray(lat, dtype=float))))


def moon_fixed_xyz(
    lat: ArrayLike, lon: ArrayLike, height: ArrayLike = 0.0, radius: float = MOON_RADIUS_M
) -> NDArray:
    """Moon-fixed Cartesian position of points given by latitude, longitude and height.

    Parameters
    ----------
    lat, lon : array_like
        Planetocentric latitude and east longitude [deg].
    height : array_like
        Height above the reference sphere [m].
    radius : float
        Reference sphere radius [m].

    Returns
    -------
    ndarray
        Positions with a trailing axis of 3 (X, Y, Z) [m].
    """
    lat_r = np.radians(np.asarray(lat, dtype=float))
    lon_r = np.radians(np.asarray(lon, dtype=float))
    r = radius + np.asarray(height, dtype=float)
    return np.stack(
        np.broadcast_arrays(
            r * np.cos(lat_r) * np.cos(lon_r), r * np.cos(lat_r) * np.sin(lon_r), r * np.sin(lat_r)
        ),
        axis=-1,
    )


def xyz_to_latlon(xyz: ArrayLike, radius: float = MOON_RADIUS_M) -> tuple[NDArray, NDArray, NDArray]:
    """Invert :func:`moon_fixed_xyz`.

    Parameters
    ----------
    xyz : array_like
        Moon-fixed positions with a trailing axis of 3 [m].
    radius : float
        Reference sphere radius [m].

    Returns
    -------
    lat, lon, height : ndarray
        Latitude [deg], east longitude in [0, 360) [deg], height above the sphere [m].
    """
    xyz = np.asarray(xyz, dtype=float)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    r = np.sqrt(x * x + y * y + z * z)
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.mod(np.degrees(np.arctan2(y, x)), 360.0)
    return lat, lon, r - radius


def enu_basis(lat: ArrayLike, lon: ArrayLike) -> NDArray:
    """Local east, north and up unit vectors in the Moon-fixed frame.

    Up is the sphere's radial direction (the plane normal to it is the local horizontal
    used for elevation angles).

    Parameters
    ----------
    lat, lon : array_like
        Planetocentric latitude and east longitude [deg].

    Returns
    -------
    ndarray
        Shape ``(..., 3, 3)``: rows are east, north, up; columns X, Y, Z. A Moon-fixed
        vector ``v`` has local components ``basis @ v``.
    """
    lat_r = np.radians(np.asarray(lat, dtype=float))
    lon_r = np.radians(np.asarray(lon, dtype=float))
    lat_r, lon_r = np.broadcast_arrays(lat_r, lon_r)
    sl, cl = np.sin(lat_r), np.cos(lat_r)
    so, co = np.sin(lon_r), np.cos(lon_r)
    zero = np.zeros_like(sl)
    east = np.stack([-so, co, zero], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([east, north, up], axis=-2)


def grid_to_local_azimuth(grid_azimuth: ArrayLike, lon: ArrayLike) -> NDArray:
    """Convert a grid azimuth (clockwise from +y) to a local one (clockwise from local north).

    On the south polar map local north at longitude ``lon`` points along grid azimuth
    ``lon``, so the local azimuth is ``grid - lon`` (mod 360).

    Parameters
    ----------
    grid_azimuth : array_like
        Azimuth clockwise from grid north [deg].
    lon : array_like
        East longitude of the place [deg].
    """
    return np.mod(np.asarray(grid_azimuth, dtype=float) - np.asarray(lon, dtype=float), 360.0)


def local_to_grid_azimuth(local_azimuth: ArrayLike, lon: ArrayLike) -> NDArray:
    """Inverse of :func:`grid_to_local_azimuth` [deg]."""
    return np.mod(np.asarray(local_azimuth, dtype=float) + np.asarray(lon, dtype=float), 360.0)
