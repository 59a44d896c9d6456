"""Slope, aspect and roughness against analytic surfaces and a brute-force plane fit."""

import numpy as np
import pytest
from affine import Affine

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.raster import grid_array, polar_crs
from lupex.terrain.derive import HazardConfig, derive_layers
from lupex.terrain.surface import ground_spacing, roughness, slope_aspect


def _grid(values, pixel=5.0, left=0.0, top=1000.0):
    return grid_array(values, Affine(pixel, 0, left, 0, -pixel, top), polar_crs(), "height", "m")


def test_plane_slope_and_aspect_are_exact_near_the_pole():
    rows, cols = np.mgrid[0:40, 0:50]
    # Heights rise 0.1 m/m toward +x and 0.2 m/m toward +y (up the grid = decreasing row).
    z = 0.1 * cols * 5.0 + 0.2 * (-rows) * 5.0
    s, a = slope_aspect(_grid(z))
    k = 1 + (25.0**2 + 900.0**2) / (4 * MOON_RADIUS_M**2)  # essentially 1 at the pole
    expected = np.degrees(np.arctan(np.hypot(0.1, 0.2) * k))
    np.testing.assert_allclose(s[1:-1, 1:-1], expected, rtol=1e-6)
    np.testing.assert_allclose(a[1:-1, 1:-1], np.degrees(np.arctan2(-0.1, -0.2)) % 360, atol=1e-4)


def test_slopes_use_ground_distance_far_from_the_pole():
    # At 80 deg S the map stretches lengths by k = 1.0077: a map-plane gradient g is a
    # ground gradient g k. Put the tile around rho = 2 R tan(5 deg).
    rho = 2 * MOON_RADIUS_M * np.tan(np.radians(5.0))
    dem = _grid(np.zeros((20, 20)), pixel=20.0, left=rho - 200, top=200)
    dx, dy = ground_spacing(dem)
    np.testing.assert_array_equal(dx, dy)  # conformal map: one scale factor both ways
    assert np.median(20.0 / dx) == pytest.approx(2 / (1 - np.sin(np.radians(-80.0))), rel=1e-5)
    cols = np.arange(20)[None, :].repeat(20, 0)
    s, _ = slope_aspect(_grid(0.1 * cols * 20.0, pixel=20.0, left=rho - 200, top=200))
    assert np.median(s) == pytest.approx(np.degrees(np.arctan(0.1 * 1.0077)), abs=2e-3)


def test_roughness_equals_brute_force_plane_fit():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(12, 14)).cumsum(axis=1)
    r = roughness(_grid(z), radius=2)
    u, v = np.meshgrid(np.arange(-2, 3), np.arange(-2, 3))
    design = np.column_stack([np.ones(25), u.ravel(), v.ravel()])
    for i in range(2, 10):
        for j in range(2, 12):
            window = z[i - 2:i + 3, j - 2:j + 3].ravel()
            residual = window - design @ np.linalg.lstsq(design, window, rcond=None)[0]
            assert r[i, j] == pytest.approx(np.sqrt(np.mean(residual**2)), rel=1e-4, abs=1e-5)


def test_roughness_of_a_plane_is_zero():
    rows, cols = np.mgrid[0:30, 0:30]
    assert roughness(_grid(3.0 * rows - 2.0 * cols)).max() < 1e-6


def test_traversable_needs_gentle_slope_and_few_rocks():
    cols = np.arange(60)[None, :].repeat(30, 0).astype(float)
    # Left half: 10 deg; right half: 40 deg.
    z = np.where(cols < 30, np.tan(np.radians(10)) * cols * 5, np.tan(np.radians(10)) * 150
                 + np.tan(np.radians(40)) * (cols - 30) * 5)
    rocks = np.full(z.shape, 0.01)
    rocks[:15] = 0.3  # fresh-ejecta rock cover on the top half
    layers = derive_layers(_grid(z), _grid(rocks), HazardConfig(max_slope_deg=25))
    mask = layers["traversable"].values
    assert mask[20:, 2:28].all()            # gentle, few rocks
    assert not mask[20:, 32:58].any()       # too steep
    assert not mask[:15, 2:28].any()        # too rocky: Golombek-Rapp k = 0.3
    assert layers["hazard"].values[0, 0] > 50 > 0.1 > layers["hazard"].values[-1, 0]


def test_rock_map_must_share_the_grid_and_gaps_use_the_background():
    z = np.zeros((10, 10))
    rocks = np.full((10, 10), 0.3)
    rocks[2, 3] = np.nan
    layers = derive_layers(_grid(z), _grid(rocks), HazardConfig(background_rock_k=0.01))
    background = derive_layers(_grid(z), None, HazardConfig(background_rock_k=0.01))["hazard"].values
    assert layers["hazard"].values[2, 3] == pytest.approx(background[2, 3])
    assert layers["hazard"].values[5, 5] > 10 * background[5, 5]
    with pytest.raises(LupexError, match="grid"):
        derive_layers(_grid(z), _grid(rocks, left=5.0), HazardConfig())
