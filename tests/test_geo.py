"""Coordinates: closed forms against PROJ, round trips, scale factor, local frames."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from lupex.constants import MOON_GEOGRAPHIC_CRS, MOON_RADIUS_M, SOUTH_POLAR_STEREOGRAPHIC_CRS
from lupex.errors import LupexError
from lupex.geo import (
    enu_basis,
    grid_to_local_azimuth,
    latlon_to_xy,
    local_to_grid_azimuth,
    moon_fixed_xyz,
    scale_factor,
    xy_to_latlon,
    xyz_to_latlon,
)

latitudes = st.floats(-90.0, -30.0, allow_nan=False)
longitudes = st.floats(0.0, 359.999, allow_nan=False)


def test_known_point_from_the_projection_formula():
    # rho = 2 R tan((90 + lat)/2); at lat -80, lon 90 the point lies on +x.
    x, y = latlon_to_xy(-80.0, 90.0)
    assert x == pytest.approx(2 * MOON_RADIUS_M * np.tan(np.radians(5.0)), rel=1e-12)
    assert y == pytest.approx(0.0, abs=1e-6)


def test_matches_proj_iau_south_polar_crs():
    rng = np.random.default_rng(1)
    lat = rng.uniform(-90, -60, 500)
    lon = rng.uniform(0, 360, 500)
    proj = Transformer.from_crs(MOON_GEOGRAPHIC_CRS, SOUTH_POLAR_STEREOGRAPHIC_CRS, always_xy=True)
    px, py = proj.transform(lon, lat)
    x, y = latlon_to_xy(lat, lon)
    np.testing.assert_allclose(x, px, atol=1e-6)
    np.testing.assert_allclose(y, py, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(latitudes, longitudes)
def test_latlon_round_trip(lat, lon):
    x, y = latlon_to_xy(lat, lon)
    lat2, lon2 = xy_to_latlon(x, y)
    assert lat2 == pytest.approx(lat, abs=1e-9)
    if lat > -89.9999:
        assert abs((lon2 - lon + 180) % 360 - 180) < 1e-7


@settings(max_examples=100, deadline=None)
@given(latitudes, longitudes, st.floats(-10_000, 10_000))
def test_moon_fixed_round_trip(lat, lon, height):
    xyz = moon_fixed_xyz(lat, lon, height)
    assert np.linalg.norm(xyz) == pytest.approx(MOON_RADIUS_M + height, rel=1e-12)
    lat2, lon2, h2 = xyz_to_latlon(xyz)
    assert lat2 == pytest.approx(lat, abs=1e-9)
    assert h2 == pytest.approx(height, abs=1e-6)
    if lat > -89.9999:
        assert abs((lon2 - lon + 180) % 360 - 180) < 1e-7


def test_scale_factor_equals_numerical_derivative():
    # Along a meridian, map distance / ground distance = d(rho)/(R d(lat)).
    lat = np.array([-89.0, -85.0, -80.0, -70.0])
    dlat = 1e-6
    rho = lambda la: np.hypot(*latlon_to_xy(la, 30.0))  # noqa: E731
    numeric = (rho(lat + dlat) - rho(lat - dlat)) / (MOON_RADIUS_M * np.radians(2 * dlat))
    np.testing.assert_allclose(np.abs(numeric), scale_factor(lat), rtol=1e-7)
    assert scale_factor(-90.0) == pytest.approx(1.0)
    assert scale_factor(-80.0) == pytest.approx(1.0077, abs=1e-4)


def test_enu_basis_is_orthonormal_and_up_is_radial():
    basis = enu_basis([-89.5, -45.0], [10.0, 200.0])
    for b in basis:
        np.testing.assert_allclose(b @ b.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(b) == pytest.approx(1.0)  # right-handed east, north, up
    up = moon_fixed_xyz(-45.0, 200.0) / MOON_RADIUS_M
    np.testing.assert_allclose(basis[1][2], up, atol=1e-12)


def test_local_north_points_to_increasing_latitude():
    lat, lon = -88.0, 63.0
    north_step = moon_fixed_xyz(lat + 1e-4, lon) - moon_fixed_xyz(lat, lon)
    north = enu_basis(lat, lon)[1]
    assert np.dot(north_step / np.linalg.norm(north_step), north) == pytest.approx(1.0, abs=1e-6)
    # On the map local north is along grid azimuth = lon (away from the pole).
    x0, y0 = latlon_to_xy(lat, lon)
    x1, y1 = latlon_to_xy(lat + 1e-4, lon)
    grid_az = np.degrees(np.arctan2(x1 - x0, y1 - y0)) % 360
    local = grid_to_local_azimuth(grid_az, lon)
    assert min(local, 360.0 - local) == pytest.approx(0.0, abs=1e-6)
    assert local_to_grid_azimuth(90.0, lon) == pytest.approx((90.0 + lon) % 360)


@pytest.mark.parametrize("lat", [91.0, -90.5, 90.0, float("nan")])
def test_bad_latitudes_are_refused(lat):
    with pytest.raises(LupexError):
        latlon_to_xy(lat, 0.0)
