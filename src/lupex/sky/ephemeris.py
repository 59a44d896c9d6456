"""The Sun and the Earth seen from the Moon, in the Moon-fixed MOON_ME frame of DE421.

Positions come from JPL DE421 (Folkner et al. 2008, JPL IOM 343R-08-003) and the Moon's
orientation from its principal-axis kernel ``moon_pa_de421_1900-2050.bpc`` turned into the
mean-Earth/polar-axis frame MOON_ME (= MOON_ME_DE421) by the fixed rotation of the NAIF frame
kernel ``moon_080317.tf``, the frame of the LOLA DEMs. Skyfield (Rhodes 2019, ASCL 1907.024)
evaluates them; ``de421.bsp`` comes from the ``skyfield-data`` package and the Moon kernels
from the ``lunarsky`` package (only its data files are read: importing lunarsky would load
astropy and fetch DE430), so everything works offline right after ``pip install``.

Corrections match SPICE's ``LT+S`` (NAIF ``spkcpo``/``spkpos``): the target's position is
taken one light time before the epoch, then corrected for stellar aberration by the
observer's barycentric velocity (including the Moon's rotation for a surface point); no
gravitational light deflection. The Moon-fixed frame is evaluated at the observer's epoch
(SPICE ``refloc = 'OBSERVER'``). ``tests/sky/test_ephemeris.py`` checks the result against
SPICE itself.

Times are UTC; leap seconds come from skyfield's built-in table (no downloads). The valid
span is that of both kernels, 1900-01-01 to 2051-01-01 TDB, less one hour at each end for
light time and TDB - UTC.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
from jplephem.pck import PCK
from numpy.typing import ArrayLike, NDArray
from skyfield.api import load
from skyfield.constants import AU_KM
from skyfield.jpllib import SpiceKernel
from skyfield.planetarylib import Frame, PlanetaryConstants, PlanetTopos
from skyfield.timelib import Time, Timescale

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.geo import enu_basis, moon_fixed_xyz

__all__ = [
    "BODY_RADII_KM",
    "EARTH_EQUATORIAL_RADIUS_KM",
    "SUN_RADIUS_KM",
    "SunEarthTopocentric",
    "Topocentric",
    "body_vectors_moon_fixed",
    "coverage",
    "horizontal",
    "kernel_paths",
    "parse_utc",
    "sun_earth_topocentric",
]

SUN_RADIUS_KM = 695_700.0
"""Nominal solar radius [km] (IAU 2015 Resolution B3; Prša et al. 2016, AJ 152, 41)."""

EARTH_EQUATORIAL_RADIUS_KM = 6378.137
"""Earth's equatorial radius [km] (IERS Conventions 2010, GRS80/WGS84), used for its
apparent angular radius: the disk seen from the Moon is within 0.34 % of it (polar radius
6356.752 km)."""

BODY_RADII_KM = {"sun": SUN_RADIUS_KM, "earth": EARTH_EQUATORIAL_RADIUS_KM}
"""Radii used for the apparent angular radius of each body lupex tracks [km]."""

_MOON_FRAME = "MOON_ME_DE421"
"""The skyfield frame name; MOON_ME is defined in ``moon_080317.tf`` as this frame exactly."""

_KERNELS = {
    "de421.bsp": ("skyfield_data", "data", "de421.bsp"),
    "moon_pa_de421_1900-2050.bpc": ("lunarsky", "data", "pck", "moon_pa_de421_1900-2050.bpc"),
    "moon_080317.tf": ("lunarsky", "data", "fk", "satellites", "moon_080317.tf"),
}
"""Kernel file name -> (installed package, path inside it)."""

MAX_SITE_HEIGHT_M = 60_000_000.0
"""Highest site above the 1737.4 km sphere [m]: 60,000 km, about the radius of the Moon's Hill
sphere (61,500 km against the Earth). Assumption: beyond it a place no longer belongs to the Moon's
sky, and heights toward 1e308 m push the light-time solution outside the ephemeris."""

_COVERAGE_MARGIN = np.timedelta64(1, "h")
"""Kept clear of each end of the kernels: the Sun's light time (500 s) plus TDB - UTC (< 70 s)."""

_CHUNK = 100_000
"""Epochs evaluated at once: bounds the temporaries (~ 1 kB per epoch) for long series."""

_J2000 = np.datetime64("2000-01-01T12:00:00", "us")
"""Julian date 2451545.0 as a datetime64 (used only to print the coverage in UTC)."""


@dataclass(frozen=True)
class Topocentric:
    """Where a body stands in the sky of a place on the Moon.

    Attributes
    ----------
    azimuth_deg : ndarray
        Azimuth clockwise from local north (toward increasing latitude) [deg], in [0, 360).
    elevation_deg : ndarray
        Elevation of the body's centre above the plane normal to the sphere's radius at the
        place [deg]; no refraction (the Moon has no atmosphere).
    distance_km : ndarray
        Light-time-corrected distance from the place to the body's centre [km].
    angular_radius_deg : ndarray
        Apparent angular radius ``asin(R / distance)`` [deg], with ``R`` from
        :data:`BODY_RADII_KM`.
    """

    azimuth_deg: NDArray
    elevation_deg: NDArray
    distance_km: NDArray
    angular_radius_deg: NDArray


@dataclass(frozen=True)
class SunEarthTopocentric:
    """The Sun and the Earth in the sky of one place, at an array of epochs.

    Attributes
    ----------
    times : ndarray of datetime64[ns]
        Epochs (UTC), in the shape of the input times.
    sun, earth : Topocentric
        The two bodies, each array in the shape of ``times``.
    """

    times: NDArray
    sun: Topocentric
    earth: Topocentric


@dataclass(frozen=True)
class _Ephemeris:
    """The loaded kernels (read once, never changed)."""

    timescale: Timescale
    planets: SpiceKernel
    moon_frame: Frame
    start: np.datetime64
    end: np.datetime64


def _package_file(package: str, *parts: str) -> Path:
    """Path of a data file inside an installed package, found without importing it."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LupexError(f"the Python package {package!r} is missing; install it with: pip install {package}")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise LupexError(f"kernel file {path} is missing; reinstall it with: pip install --force-reinstall {package}")
    return path


def kernel_paths() -> dict[str, Path]:
    """The kernel files lupex reads, by name (for cross-checks with SPICE).

    Returns
    -------
    dict of str to Path
        ``de421.bsp`` (from ``skyfield-data``), ``moon_pa_de421_1900-2050.bpc`` and
        ``moon_080317.tf`` (from ``lunarsky``).
    """
    return {name: _package_file(*where) for name, where in _KERNELS.items()}


def _jd_to_datetime64(jd: float) -> np.datetime64:
    """A Julian date as a datetime64 on the same time scale [us]."""
    return _J2000 + np.timedelta64(round((jd - 2451545.0) * 86_400e6), "us")


@functools.cache
def _ephemeris() -> _Ephemeris:
    """Open the kernels once per process (memory-mapped, read-only)."""
    paths = kernel_paths()
    planets = SpiceKernel(str(paths["de421.bsp"]))
    constants = PlanetaryConstants()
    with open(paths["moon_080317.tf"], "rb") as text:
        constants.read_text(text)
    # The orientation kernel stays open: skyfield reads its segments lazily.
    constants.read_binary(open(paths["moon_pa_de421_1900-2050.bpc"], "rb"))
    pck = PCK.open(str(paths["moon_pa_de421_1900-2050.bpc"]))
    spans = [(s.initial_jd, s.final_jd) for s in pck.segments]
    pck.close()
    spans += [(s.start_jd, s.end_jd) for s in planets.spk.segments]
    start = max(first for first, _ in spans)
    end = min(last for _, last in spans)
    return _Ephemeris(
        timescale=load.timescale(builtin=True),
        planets=planets,
        moon_frame=constants.build_frame_named(_MOON_FRAME),
        start=_jd_to_datetime64(start) + _COVERAGE_MARGIN,
        end=_jd_to_datetime64(end) - _COVERAGE_MARGIN,
    )


def coverage() -> tuple[np.datetime64, np.datetime64]:
    """First and last epochs the ephemeris accepts (UTC, inclusive).

    Returns
    -------
    start, end : numpy.datetime64
        1900-01-01T01:00 and 2050-12-31T23:00 for DE421 with ``moon_pa_de421_1900-2050.bpc``.
    """
    eph = _ephemeris()
    return eph.start, eph.end


def parse_utc(times: ArrayLike) -> NDArray:
    """Read UTC epochs given as ISO 8601 strings, datetimes or datetime64 values.

    Parameters
    ----------
    times : array_like
        A scalar or array of ISO 8601 strings (``2030-01-01T12:00:00Z``; an offset such as
        ``+02:00`` is honoured, a time without one is UTC), :class:`datetime.datetime` objects
        (naive ones are UTC, aware ones are converted) or ``numpy.datetime64`` values (UTC).

    Returns
    -------
    ndarray of datetime64[ns]
        The epochs in UTC, in the shape of ``times``.

    Raises
    ------
    LupexError
        For numbers, missing values or text that is not a date, naming the first bad value.
    """
    values = np.asarray(times)
    if values.dtype.kind in "biufc":
        raise LupexError("times must be ISO 8601 strings, datetimes or datetime64 values, not numbers")
    flat = values.ravel()
    parsed = pd.to_datetime(flat, utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(pd.isna(parsed))
    if bad.size:
        raise LupexError(
            f"cannot read {str(flat[bad[0]])!r} as a UTC time; write it in ISO 8601, e.g. 2030-01-01T12:00:00Z"
        )
    utc = parsed.tz_convert(None).to_numpy().astype("datetime64[us]").reshape(values.shape)
    _check_coverage(utc)
    return utc.astype("datetime64[ns]")


def _check_coverage(utc: NDArray) -> None:
    """Refuse epochs outside both kernels, naming the valid range."""
    start, end = coverage()
    outside = (utc < start) | (utc > end)
    if np.any(outside):
        first = np.datetime_as_string(utc[outside][0], unit="s")
        raise LupexError(
            f"time {first}Z is outside the ephemeris (DE421 with the Moon orientation kernel "
            f"moon_pa_de421_1900-2050.bpc): use times from {np.datetime_as_string(start, unit='m')}Z "
            f"to {np.datetime_as_string(end, unit='m')}Z"
        )


def _skyfield_time(timescale: Timescale, utc: NDArray) -> Time:
    """Skyfield times for UTC datetime64 values (1-D).

    Leap seconds depend only on the UTC day, so the day and the seconds into it are passed
    separately and skyfield applies its built-in leap-second table.
    """
    days = utc.astype("datetime64[D]")
    seconds = (utc - days) / np.timedelta64(1, "s")
    return timescale.utc(1970, 1, 1 + days.astype(np.int64), 0, 0, seconds)


def _check_bodies(bodies: tuple[str, ...]) -> None:
    unknown = [b for b in bodies if b not in BODY_RADII_KM]
    if unknown:
        raise LupexError(f"unknown body {unknown[0]!r}; choose from {', '.join(BODY_RADII_KM)}")


def _apparent_moon_fixed(eph: _Ephemeris, t: Time, bodies: tuple[str, ...], observer_km: NDArray | None) -> list:
    """LT+S positions of ``bodies`` in MOON_ME for one chunk of times [km], each (n, 3)."""
    moon = eph.planets["moon"]
    observer = moon if observer_km is None else moon + PlanetTopos(eph.moon_frame, observer_km / AU_KM)
    at = observer.at(t)
    rotation = eph.moon_frame.rotation_at(t)
    vectors = []
    for body in bodies:
        icrf = at.observe(eph.planets[body]).apparent(deflectors=()).xyz.km
        vectors.append(np.einsum("ijn,jn->ni", rotation, icrf))
    return vectors


def body_vectors_moon_fixed(
    times: ArrayLike, bodies: tuple[str, ...] = ("sun", "earth"), observer_m: ArrayLike | None = None
) -> dict[str, NDArray]:
    """Apparent positions of the Sun and/or the Earth in the Moon-fixed MOON_ME frame.

    The equivalent of SPICE ``spkpos(body, et, "MOON_ME", "LT+S", "MOON")`` or, with an
    observer, ``spkcpo(body, et, "MOON_ME", "OBSERVER", "LT+S", observer, "MOON", "MOON_ME")``.

    Parameters
    ----------
    times : array_like
        UTC epochs, any shape (see :func:`parse_utc`).
    bodies : tuple of str
        Names among ``"sun"`` and ``"earth"``.
    observer_m : array_like of shape (3,), optional
        Moon-fixed position of an observer rotating with the Moon [m] (for a place, see
        :func:`lupex.geo.moon_fixed_xyz`); the Moon's centre when omitted. From the centre, the
        Sun's direction differs from that seen at the surface by at most 2.4 arcsec
        (parallax), the Earth's by up to 0.26 deg.

    Returns
    -------
    dict of str to ndarray
        Per body, vectors from the observer to the body with a trailing axis of 3 (X, Y, Z)
        in MOON_ME [km], in the shape of ``times`` plus that axis.

    Raises
    ------
    LupexError
        For unreadable times, times outside :func:`coverage` or an unknown body.
    """
    bodies = tuple(bodies)
    _check_bodies(bodies)
    return _vectors(parse_utc(times), bodies, observer_m)


def _vectors(utc: NDArray, bodies: tuple[str, ...], observer_m: ArrayLike | None) -> dict[str, NDArray]:
    """:func:`body_vectors_moon_fixed` for epochs already parsed and checked."""
    eph = _ephemeris()
    observer_km = None if observer_m is None else np.asarray(observer_m, dtype=float).reshape(3) / 1000.0
    flat = utc.ravel()
    out = {body: np.empty((flat.size, 3)) for body in bodies}
    for lo in range(0, flat.size, _CHUNK):
        t = _skyfield_time(eph.timescale, flat[lo : lo + _CHUNK])
        for body, vec in zip(bodies, _apparent_moon_fixed(eph, t, bodies, observer_km), strict=True):
            out[body][lo : lo + _CHUNK] = vec
    return {body: vec.reshape((*utc.shape, 3)) for body, vec in out.items()}


def horizontal(vectors_km: ArrayLike, lat_deg: float, lon_deg: float, radius_km: float) -> Topocentric:
    """Azimuth, elevation, distance and angular radius of Moon-fixed topocentric vectors.

    Parameters
    ----------
    vectors_km : array_like
        Vectors from the place to the body in the Moon-fixed frame, trailing axis of 3 [km].
    lat_deg, lon_deg : float
        Planetocentric latitude and east longitude of the place [deg]. At a pole, local
        north is taken along the meridian ``lon_deg`` (as :func:`lupex.geo.enu_basis`).
    radius_km : float
        Radius of the body [km].

    Returns
    -------
    Topocentric
        Azimuth clockwise from local north and elevation above the plane normal to the
        sphere's radius [deg], distance [km], angular radius [deg].
    """
    east, north, up = np.moveaxis(np.asarray(vectors_km, dtype=float) @ enu_basis(lat_deg, lon_deg).T, -1, 0)
    distance = np.sqrt(east * east + north * north + up * up)
    return Topocentric(
        azimuth_deg=np.mod(np.degrees(np.arctan2(east, north)), 360.0),
        elevation_deg=np.degrees(np.arctan2(up, np.hypot(east, north))),
        distance_km=distance,
        angular_radius_deg=np.degrees(np.arcsin(radius_km / distance)),
    )


def _check_site(lat_deg: float, lon_deg: float, height_m: float) -> None:
    values = np.asarray([lat_deg, lon_deg, height_m], dtype=float)
    if not np.all(np.isfinite(values)):
        raise LupexError("latitude, longitude and height must be finite numbers")
    if abs(values[0]) > 90.0:
        raise LupexError(f"latitude must lie in [-90, 90] deg, got {values[0]:g}")
    if values[2] <= -MOON_RADIUS_M:
        raise LupexError(f"height must be above the Moon's centre ({-MOON_RADIUS_M:g} m), got {values[2]:g} m")
    if values[2] > MAX_SITE_HEIGHT_M:
        raise LupexError(f"height must be at most {MAX_SITE_HEIGHT_M:g} m (60,000 km, the Moon's Hill sphere), "
                         f"got {values[2]:g} m")


def sun_earth_topocentric(
    lat_deg: float, lon_deg: float, times: ArrayLike, height_m: float = 0.0
) -> SunEarthTopocentric:
    """The Sun and the Earth in the sky of a place on the Moon, at an array of epochs.

    The site is ``height_m`` above the 1737.4 km sphere (:func:`lupex.geo.moon_fixed_xyz`) in
    MOON_ME; positions are apparent (``LT+S``) from the site itself, so the Earth's
    parallax (up to 0.26 deg) is exact.

    Parameters
    ----------
    lat_deg : float
        Planetocentric latitude of the place [deg], in [-90, 90].
    lon_deg : float
        East longitude of the place [deg].
    times : array_like
        UTC epochs, any shape (see :func:`parse_utc`).
    height_m : float
        Height of the observer above the 1737.4 km sphere [m].

    Returns
    -------
    SunEarthTopocentric
        Azimuth clockwise from local north (toward increasing latitude), elevation, distance
        and angular radius of the Sun (radius 695,700 km) and the Earth (equatorial radius
        6378.137 km), each in the shape of ``times``.

    Raises
    ------
    LupexError
        For a latitude outside [-90, 90], a non-finite site, unreadable times or times
        outside :func:`coverage`.
    """
    _check_site(lat_deg, lon_deg, height_m)
    utc = parse_utc(times)
    site_m = moon_fixed_xyz(lat_deg, lon_deg, height_m)
    vectors = _vectors(utc, ("sun", "earth"), site_m)
    sky = {body: horizontal(vec, lat_deg, lon_deg, BODY_RADII_KM[body]) for body, vec in vectors.items()}
    return SunEarthTopocentric(times=utc, sun=sky["sun"], earth=sky["earth"])
