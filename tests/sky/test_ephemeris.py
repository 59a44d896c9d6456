"""Sun and Earth from the Moon against SPICE itself, and against the geometry's known bounds.

The SPICE reference (NAIF toolkit through spiceypy) loads DE421, moon_pa_de421_1900-2050.bpc,
moon_080317.tf, moon_assoc_me.tf, naif0012.tls and pck00010.tpc, and is called as

* ``spkcpo(body, et, "MOON_ME", "OBSERVER", "LT+S", site_km, "MOON", "MOON_ME")`` for a
  surface point fixed in MOON_ME,
* ``azlcpo("ELLIPSOID", body, et, "LT+S", False, True, site_km, "MOON", "MOON_ME")`` for its
  azimuth (clockwise from north) and elevation (positive up) on the 1737.4 km sphere,
* ``spkpos(body, et, "MOON_ME", "LT+S", "MOON")`` from the Moon's centre,

with ``et = str2et(utc)``, so SPICE's own leap seconds and TDB convert the times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lupex.errors import LupexError
from lupex.geo import moon_fixed_xyz, xyz_to_latlon
from lupex.sky.ephemeris import (
    EARTH_EQUATORIAL_RADIUS_KM,
    SUN_RADIUS_KM,
    body_vectors_moon_fixed,
    coverage,
    kernel_paths,
    parse_utc,
    sun_earth_topocentric,
)

SPICE_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "spice"

SITES = [  # (lat [deg], lon [deg E], height [m]): south-polar places and the pole itself
    (-89.45, 222.7, 0.0),  # Shackleton rim
    (-89.9, 0.0, 1500.0),
    (-87.18, 62.84, 530.0),  # Shoemaker site DEM (../shared/data/lola)
    (-85.5, 300.0, -2000.0),
]

MAX_ARCSEC = 0.01
"""Direction tolerance against SPICE [arcsec]: the requirement is 1; measured ~0.0006."""


def _angle_arcsec(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between vectors along the last axis [arcsec] (atan2 form, exact for small angles)."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(cross, np.sum(a * b, axis=-1))) * 3600.0


def _random_epochs(n: int = 60, seed: int = 2025) -> np.ndarray:
    """``n`` epochs uniformly in 2025-2045, to the microsecond, as ISO strings without a zone."""
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(0, 20 * 365.25 * 86_400e6, n).astype(np.int64).astype("timedelta64[us]")
    return np.datetime_as_string(np.datetime64("2025-01-01T00:00", "us") + offsets)


@pytest.fixture(scope="module")
def spice() -> Iterator[object]:
    """spiceypy with the reference kernels loaded; skips without spiceypy or ../shared/data/spice."""
    sp = pytest.importorskip("spiceypy", reason="spiceypy (test extra) is needed for the SPICE cross-check")
    if not SPICE_DIR.is_dir():
        pytest.skip("SPICE kernels not found at ../shared/data/spice (only in the full workspace)")
    kernels = kernel_paths()
    moon_fk = kernels["moon_080317.tf"]
    sp.kclear()
    sp.furnsh(
        [
            str(SPICE_DIR / "naif0012.tls"),
            str(SPICE_DIR / "pck00010.tpc"),
            str(kernels["de421.bsp"]),
            str(kernels["moon_pa_de421_1900-2050.bpc"]),
            str(moon_fk),
            str(moon_fk.with_name("moon_assoc_me.tf")),
        ]
    )
    yield sp
    sp.kclear()


@pytest.mark.parametrize("site", SITES)
def test_topocentric_matches_spice(spice, site):
    lat, lon, height = site
    epochs = _random_epochs()
    ets = np.array([spice.str2et(e) for e in epochs])
    site_km = moon_fixed_xyz(lat, lon, height) / 1000.0
    ours_vec = body_vectors_moon_fixed(epochs, observer_m=site_km * 1000.0)
    ours_sky = sun_earth_topocentric(lat, lon, epochs, height_m=height)
    for body, ours in (("sun", ours_sky.sun), ("earth", ours_sky.earth)):
        ref = np.array(
            [
                spice.spkcpo(body.upper(), et, "MOON_ME", "OBSERVER", "LT+S", site_km, "MOON", "MOON_ME")[0][:3]
                for et in ets
            ]
        )
        assert _angle_arcsec(ours_vec[body], ref).max() < MAX_ARCSEC, body
        np.testing.assert_allclose(np.linalg.norm(ours_vec[body], axis=-1), np.linalg.norm(ref, axis=-1), atol=0.05)

        azel = np.array(
            [
                spice.azlcpo("ELLIPSOID", body.upper(), et, "LT+S", False, True, site_km, "MOON", "MOON_ME")[0][:3]
                for et in ets
            ]
        )
        dist, az, el = azel[:, 0], np.degrees(azel[:, 1]), np.degrees(azel[:, 2])
        d_az = (ours.azimuth_deg - az + 180.0) % 360.0 - 180.0
        assert np.abs(d_az * np.cos(np.radians(el))).max() * 3600 < MAX_ARCSEC, body
        assert np.abs(ours.elevation_deg - el).max() * 3600 < MAX_ARCSEC, body
        np.testing.assert_allclose(ours.distance_km, dist, atol=0.05)


def test_moon_centred_vectors_match_spice(spice):
    epochs = _random_epochs(seed=7)
    ets = np.array([spice.str2et(e) for e in epochs])
    ours = body_vectors_moon_fixed(epochs)
    for body in ("sun", "earth"):
        ref, _ = spice.spkpos(body.upper(), ets, "MOON_ME", "LT+S", "MOON")
        assert _angle_arcsec(ours[body], ref).max() < MAX_ARCSEC, body
        np.testing.assert_allclose(np.linalg.norm(ours[body], axis=-1), np.linalg.norm(ref, axis=-1), atol=0.05)


@pytest.fixture(scope="module")
def twenty_years() -> np.ndarray:
    """2025-01-01 to 2044-12-31 every 6 h (29,220 epochs)."""
    return np.arange(np.datetime64("2025-01-01T00", "h"), np.datetime64("2045-01-01T00", "h"), 6)


@pytest.fixture(scope="module")
def centre_vectors(twenty_years) -> dict[str, np.ndarray]:
    return body_vectors_moon_fixed(twenty_years)


def test_sub_solar_and_sub_earth_latitudes(centre_vectors):
    """DE421, 2025-2044: |sub-solar lat| <= 1.59 deg, |sub-Earth lat| <= 6.9 deg (REFERENCES.md s. 2)."""
    sub_sun, _, _ = xyz_to_latlon(centre_vectors["sun"], radius=0.0)
    sub_earth, sub_earth_lon, _ = xyz_to_latlon(centre_vectors["earth"], radius=0.0)
    assert 1.50 < np.abs(sub_sun).max() < 1.60
    assert 6.5 < np.abs(sub_earth).max() < 6.9
    # Optical plus physical libration in longitude stays within about +-8.05 deg.
    assert 7.5 < np.abs((sub_earth_lon + 180.0) % 360.0 - 180.0).max() < 8.2


def test_pole_sun_earth_bounds(twenty_years, centre_vectors):
    sky = sun_earth_topocentric(-90.0, 0.0, twenty_years)
    # The Sun never stands higher than the sub-solar latitude's bound at the pole.
    assert sky.sun.elevation_deg.max() <= 1.6
    # At the pole (lon 0) local north is +X and east +Y, so the elevation is minus the
    # sub-solar latitude and the azimuth the sub-solar longitude (2.4 arcsec parallax).
    sub_lat, sub_lon, _ = xyz_to_latlon(centre_vectors["sun"], radius=0.0)
    np.testing.assert_allclose(sky.sun.elevation_deg, -sub_lat, atol=1e-3)
    np.testing.assert_allclose((sky.sun.azimuth_deg - sub_lon + 180) % 360 - 180, 0.0, atol=1e-2)
    # Sun: 0.2665 deg at 1 au, +-1.67 % from Earth's eccentricity and +-0.26 % from the Moon's orbit.
    one_au = np.degrees(SUN_RADIUS_KM / 149_597_870.7)
    assert np.abs(sky.sun.angular_radius_deg / one_au - 1.0).max() < 0.02
    assert sky.sun.angular_radius_deg.min() < one_au < sky.sun.angular_radius_deg.max()
    # Earth: perigee / apogee of the Moon, seen from the surface.
    assert 356_000 < sky.earth.distance_km.min() < 358_000
    assert 405_000 < sky.earth.distance_km.max() < 407_000
    np.testing.assert_allclose(
        sky.earth.angular_radius_deg, np.degrees(np.arcsin(EARTH_EQUATORIAL_RADIUS_KM / sky.earth.distance_km))
    )


def test_earth_near_zenith_at_sub_earth_point():
    """From (0 N, 0 E) on the near side the Earth stands within the libration of the zenith."""
    sky = sun_earth_topocentric(0.0, 0.0, ["2030-03-01T00:00", "2035-09-15T12:00"])
    assert np.all(sky.earth.elevation_deg > 80.0)


def test_input_forms_agree():
    iso = ["2031-05-06T07:08:09Z", "2031-05-06 09:08:09+02:00", "2031-05-06T07:08:09"]
    utc = dt.datetime(2031, 5, 6, 7, 8, 9)
    forms = [
        iso,
        np.array(["2031-05-06T07:08:09"] * 3, dtype="datetime64[s]"),
        [utc, utc.replace(tzinfo=dt.UTC), utc.replace(hour=9, tzinfo=dt.timezone(dt.timedelta(hours=2)))],
    ]
    expected = np.full(3, np.datetime64("2031-05-06T07:08:09", "ns"))
    for form in forms:
        np.testing.assert_array_equal(parse_utc(form), expected)
    sky = sun_earth_topocentric(-89.5, 45.0, forms[0])
    assert np.ptp(sky.sun.azimuth_deg) == 0.0 and np.ptp(sky.earth.elevation_deg) == 0.0


def test_shapes_follow_times():
    scalar = sun_earth_topocentric(-89.5, 45.0, "2030-01-01T00:00Z")
    assert scalar.sun.azimuth_deg.shape == () and scalar.times.shape == ()
    grid = np.datetime64("2030-01-01", "h") + np.arange(6).reshape(2, 3)
    vectors = body_vectors_moon_fixed(grid, bodies=("earth",))
    assert set(vectors) == {"earth"} and vectors["earth"].shape == (2, 3, 3)


def test_leap_second_is_applied():
    """2016-12-31 had a leap second: 1 s of UTC apart across it is 2 s of real time."""

    def sun(*utc):
        return body_vectors_moon_fixed(list(utc), ("sun",))["sun"]

    before, after = sun("2016-12-31T23:59:59Z", "2017-01-01T00:00:00Z")
    one_second = np.diff(sun("2016-12-31T23:59:57Z", "2016-12-31T23:59:58Z"), axis=0)[0]
    np.testing.assert_allclose(after - before, 2.0 * one_second, rtol=1e-3)


def test_coverage_is_named_when_exceeded():
    start, end = coverage()
    assert start == np.datetime64("1900-01-01T01:00") and end == np.datetime64("2050-12-31T23:00")
    for bad in ("2051-06-01T00:00Z", "1899-12-31T00:00Z", np.datetime64("1000-01-01")):
        with pytest.raises(LupexError, match=r"1900-01-01T01:00Z to 2050-12-31T23:00Z"):
            sun_earth_topocentric(-89.0, 0.0, bad)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"times": "next tuesday"}, "cannot read 'next tuesday'"),
        ({"times": ["2030-01-01", None]}, "cannot read 'None'"),
        ({"times": 2030.5}, "not numbers"),
        ({"lat_deg": -95.0}, "latitude must lie in [-90, 90] deg, got -95"),
        ({"lon_deg": np.nan}, "finite"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    args = {"lat_deg": -89.0, "lon_deg": 0.0, "times": "2030-01-01"} | kwargs
    with pytest.raises(LupexError) as info:
        sun_earth_topocentric(**args)
    assert message in str(info.value)


def test_unknown_body_is_refused():
    with pytest.raises(LupexError, match="unknown body 'mars'"):
        body_vectors_moon_fixed("2030-01-01", bodies=("sun", "mars"))
