"""Horizon kernels: analytic cases, the fast kernel against the exact march, the far field
against a brute-force great-circle march, invariants and the georeferenced wrapper."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from scipy import ndimage

from lupex.constants import MOON_RADIUS_M
from lupex.errors import LupexError
from lupex.raster import grid_array, ground_pixel_m, polar_crs
from lupex.sky.horizon import (
    NO_HORIZON_DEG,
    DemHorizons,
    FarField,
    _atan,
    horizon_angles,
    tan_elevation,
)
from lupex.sky.horizon_reference import far_field_reference_at, horizon_reference, horizon_reference_at
from lupex.terrain.readers import open_dem, read_dem
from lupex.terrain.reproject import crop_to_polar
from lupex.terrain.synth import SynthConfig, synthesize

R = MOON_RADIUS_M
AZIMUTHS = np.arange(36) * 10.0 + 3.7  # off the grid axes, all octants

# The accuracy requirement against the exact march.
MEDIAN_DEG = 0.01
P99_DEG = 0.1


def exact_elevation_deg(dz, d, h0=0.0):
    """Elevation of a target dz above the eye at ground distance d, straight line on the sphere [deg]."""
    r0 = R + h0
    r1 = r0 + dz
    theta = d / R
    return np.degrees(np.arctan2(r1 * np.cos(theta) - r0, r1 * np.sin(theta)))


def polar_dem(heights, pixel_m, center=(0.0, 60_000.0)):
    """A DEM on the south polar map with its centre at ``center`` (x, y) [m] (60 km: 88 S)."""
    ny, nx = heights.shape
    transform = Affine(pixel_m, 0.0, center[0] - nx * pixel_m / 2, 0.0, -pixel_m, center[1] + ny * pixel_m / 2)
    return grid_array(np.asarray(heights, dtype=np.float32), transform, polar_crs(), "height", "m")


def errors(fast, reference):
    """Median and 99th percentile of |fast - reference| [deg]."""
    e = np.abs(np.asarray(fast, dtype=float) - reference)
    return float(np.median(e)), float(np.percentile(e, 99))


# --- the geometry ------------------------------------------------------------------------


def test_tan_elevation_is_the_straight_line_of_sight():
    rng = np.random.default_rng(0)
    for _ in range(100):
        h0, dz, d = rng.uniform(-5e3, 5e3), rng.uniform(-5e3, 5e3), rng.uniform(1.0, 3e5)
        theta = d / R
        t = tan_elevation(dz, R + h0, np.cos(theta), np.sin(theta), 2 * np.sin(theta / 2) ** 2)
        assert np.degrees(np.arctan(t)) == pytest.approx(exact_elevation_deg(dz, d, h0), abs=1e-10)


def test_parabolic_form_is_within_0_02_deg_of_the_exact_one_at_200_km():
    """tan(e) ~ (h1 - h0 - d^2/(2R)) / d, the form that makes a convex hull in (d, H) exact,
    against the exact straight line: the lupex kernels use the exact form (in the plane of
    the great circle), so this difference is what they do not make."""
    d = 200e3
    dz = np.linspace(-8e3, 8e3, 33)
    parabolic = np.degrees(np.arctan((dz - d**2 / (2 * R)) / d))
    difference = np.abs(parabolic - exact_elevation_deg(dz, d))
    assert np.all(parabolic > exact_elevation_deg(dz, d))  # always too high,
    assert difference.max() < 0.02  # by 0.003 deg (dz = 2 km) to 0.019 deg (dz = -8 km):
    assert difference.min() > 0.003  # not negligible against the 0.01 deg median requirement
    # Equal heights: the chord dips by exactly half the central angle (3.3 deg at 200 km).
    assert exact_elevation_deg(0.0, d) == pytest.approx(-np.degrees(d / R) / 2, abs=1e-12)


def test_fast_arctangent_matches_numpy():
    special = [0.0, 1.0, 0.66, 2.414213562373095]
    x = np.concatenate([np.linspace(-50, 50, 20001), np.geomspace(1e-9, 1e9, 1000), special])
    got = np.array([_atan(v) for v in x])
    assert np.max(np.abs(got - np.arctan(x))) < 1e-15


# --- analytic cases ----------------------------------------------------------------------


def test_flat_sphere_observer_on_the_ground_sees_the_nearest_sample():
    """On a flat sphere the ground falls away: the horizon of a ground observer is the chord
    to the nearest sample, half a pixel out: -d/(2R), about 0; edge pixels facing out of the
    tile see nothing."""
    h = np.zeros((40, 40))
    az = np.arange(8) * 45.0
    got = horizon_angles(h, 20.0, az)
    ref = horizon_reference(h, 20.0, az)
    assert np.array_equal(got, ref)
    nearest = exact_elevation_deg(0.0, 10.0)  # half of a 20 m pixel
    assert got[0, 1:, :] == pytest.approx(nearest, abs=1e-9)  # azimuth 0 (+y) from all rows but the top
    assert np.all(got[0, 0, :] == NO_HORIZON_DEG)  # the top row faces out of the tile
    assert np.all(got[2, :, -1] == NO_HORIZON_DEG)  # azimuth 90 (+x) from the last column


def test_flat_sphere_observer_on_a_mast_sees_the_dip_of_the_tangent_line():
    """From 10 m up, the horizon is the dip -acos(R / (R + 10 m)) of the line tangent to the
    sphere 5.9 km away; pixels 8 km from every edge see it inside a 16 km tile."""
    h = np.zeros((160, 160))
    az = np.arange(8) * 45.0 + 10.0
    got = horizon_angles(h, 100.0, az, observer_height_m=10.0)
    dip = -np.degrees(np.arccos(R / (R + 10.0)))
    assert got[:, 75:85, 75:85] == pytest.approx(dip, abs=2e-4)
    ref = horizon_reference_at(h, 100.0, az, [80, 80], [80, 82], observer_height_m=10.0)
    assert ref == pytest.approx(dip, abs=2e-4)


def test_inclined_plane_upslope_downslope_and_across():
    """A plane rising toward +y at 10 deg: upslope the horizon is the slope (less the
    curvature over half a pixel), downslope minus the slope, across it about 0."""
    slope = np.tan(np.radians(10.0))
    pixel = 5.0
    rows = np.arange(128)
    h = np.repeat(((127 - rows) * pixel * slope)[:, None], 128, axis=1)
    got = horizon_angles(h, pixel, [0.0, 90.0, 180.0, 270.0])
    inner = (slice(20, 100), slice(20, 100))
    h0 = h[inner]
    assert got[0][inner] == pytest.approx(exact_elevation_deg(0.5 * pixel * slope, 0.5 * pixel, h0), abs=1e-5)
    assert got[2][inner] == pytest.approx(exact_elevation_deg(-0.5 * pixel * slope, 0.5 * pixel, h0), abs=1e-5)
    assert got[1][inner] == pytest.approx(exact_elevation_deg(0.0, 0.5 * pixel, h0), abs=1e-5)
    assert got[0][inner] == pytest.approx(10.0, abs=1e-3)


def test_inclined_plane_from_a_mast_is_decided_far_away_by_the_hull():
    """From 2 m up a 1 deg upslope, tan(e) = s - m/d - d/(2R) peaks at d = sqrt(2 R m) = 2.6 km,
    far beyond the near field: the convex-hull sweep must find it."""
    slope, mast, pixel = np.tan(np.radians(1.0)), 2.0, 20.0
    h = np.repeat(((255 - np.arange(256)) * pixel * slope)[:, None], 64, axis=1)
    got = horizon_angles(h, pixel, [0.0], observer_height_m=mast, near_field_px=8)[0]
    distance = np.arange(1, 4000) * pixel / 2
    expected = exact_elevation_deg(slope * distance - mast, distance).max()
    assert got[240:250, 20:40] == pytest.approx(expected, abs=2e-4)


def test_wall_of_known_height_at_known_distance():
    """A 100 m wall whose face begins 40 pixels north of the observers' row (bilinear: the
    full height is reached one pixel further, 41 pixels out)."""
    pixel = 10.0
    h = np.zeros((120, 60))
    h[:30, :] = 100.0  # rows 0..29 are the wall top; the observers sit on row 70
    expected = exact_elevation_deg(100.0, (70 - 29) * pixel)
    for near in (8, 32, 200):
        got = horizon_angles(h, pixel, [0.0], near_field_px=near)[0]
        assert got[70, 10:50] == pytest.approx(expected, abs=1e-4)


def test_spherical_bowl_rim_seen_from_the_centre():
    """From the floor of a spherical bowl of radius a and depth D, the rim stands at
    atan(D / a) (minus a / (2R) of curvature, and the rim lies between samples)."""
    pixel, radius_px, depth = 10.0, 40.0, 80.0
    y, x = np.mgrid[0:121, 0:121] - 60.0
    r = np.hypot(x, y) * pixel
    a = radius_px * pixel
    curvature_radius = (a**2 + depth**2) / (2 * depth)
    bowl = curvature_radius - np.sqrt(np.clip(curvature_radius**2 - r**2, 0, None))
    h = np.where(r < a, bowl, depth)
    az = np.arange(16) * 22.5 + 1.0
    got = horizon_angles(h, pixel, az)[:, 60, 60]
    expected = exact_elevation_deg(depth, a)
    # The highest sample is the first beyond the rim, up to half a pixel further out.
    assert np.all(got <= expected + 1e-6)
    assert np.all(got >= exact_elevation_deg(depth, a + pixel) - 1e-6)
    # Both sample the rim differently (the sweep where lines cross grid lines, the march
    # every half pixel): a sample half a pixel further lowers the rim by up to 0.07 deg here.
    assert got == pytest.approx(horizon_reference_at(h, pixel, az, [60], [60])[:, 0], abs=0.05)


# --- the fast kernel against the exact march -------------------------------------------


def test_fast_kernel_with_a_long_near_field_is_the_exact_march():
    h = ndimage.gaussian_filter(np.random.default_rng(1).normal(size=(48, 48)), 2) * 50
    got = horizon_angles(h, 5.0, AZIMUTHS, observer_height_m=2.0, near_field_px=100)
    assert np.max(np.abs(got - horizon_reference(h, 5.0, AZIMUTHS, observer_height_m=2.0))) < 1e-5


@pytest.mark.parametrize("mast", [0.0, 2.0, 10.0])
def test_fast_kernel_on_a_synthetic_site(mast):
    h = synthesize(SynthConfig(size=160, resolution_m=5.0, seed=3)).dem.values
    median, p99 = errors(horizon_angles(h, 5.0, AZIMUTHS, mast), horizon_reference(h, 5.0, AZIMUTHS, mast))
    assert median <= MEDIAN_DEG
    assert p99 <= P99_DEG


@pytest.mark.parametrize("smoothing_px", [2.0, 4.0])
def test_fast_kernel_on_random_terrain(smoothing_px):
    """Gaussian-smoothed white noise, 20 m rms on 20 m pixels: median slopes of 21 deg
    (smoothing 2 px) and 11 deg (4 px). Rougher ground needs a longer near field
    (docs/horizons.md)."""
    rng = np.random.default_rng(7)
    h = ndimage.gaussian_filter(rng.normal(size=(128, 128)), smoothing_px)
    h *= 20.0 / h.std()
    median, p99 = errors(horizon_angles(h, 20.0, AZIMUTHS, 2.0), horizon_reference(h, 20.0, AZIMUTHS, 2.0))
    assert median <= MEDIAN_DEG
    assert p99 <= P99_DEG


@pytest.mark.parametrize("mast", [0.0, 2.0])
def test_fast_kernel_on_the_lola_shoemaker_tile(shoemaker_tif, mast):
    dem = read_dem(shoemaker_tif)
    pixel = ground_pixel_m(dem)
    az = AZIMUTHS[::2] + 5.0 * (mast > 0)  # 18 of them, different ones per observer height
    got = horizon_angles(dem.values, pixel, az, mast)
    median, p99 = errors(got, horizon_reference(dem.values, pixel, az, mast))
    assert median <= MEDIAN_DEG
    assert p99 <= P99_DEG


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (60, 150), (150, 60)])
def test_fast_kernel_on_tiles_that_are_not_square(shape):
    h = ndimage.gaussian_filter(np.random.default_rng(3).normal(size=shape), 2) * 30
    got = horizon_angles(h, 10.0, AZIMUTHS, 2.0)
    median, p99 = errors(got, horizon_reference(h, 10.0, AZIMUTHS, 2.0))
    assert median <= MEDIAN_DEG
    assert p99 <= P99_DEG


@pytest.mark.slow
def test_fast_kernel_on_a_large_synthetic_site():
    """1024 x 1024 at 20 m: most horizons come from far beyond the near field."""
    h = synthesize(SynthConfig(size=1024, resolution_m=20.0, seed=4)).dem.values
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 1024, 4000), rng.integers(0, 1024, 4000)
    for mast in (0.0, 10.0):
        got = horizon_angles(h, 20.0, AZIMUTHS, mast)[:, rows, cols]
        median, p99 = errors(got, horizon_reference_at(h, 20.0, AZIMUTHS, rows, cols, mast))
        assert median <= MEDIAN_DEG
        assert p99 <= P99_DEG


# --- invariants ----------------------------------------------------------------------------


def test_azimuth_zero_looks_to_plus_y_and_ninety_to_plus_x():
    h = np.zeros((41, 41))
    h[10, 20] = 50.0  # 10 rows above (north of, +y) the centre pixel (20, 20)
    h[20, 35] = 50.0  # 15 columns east of it (+x)
    got = horizon_angles(h, 10.0, [0.0, 90.0, 180.0, 270.0])[:, 20, 20]
    assert got[0] == pytest.approx(exact_elevation_deg(50.0, 100.0), abs=1e-4)
    assert got[1] == pytest.approx(exact_elevation_deg(50.0, 150.0), abs=1e-4)
    assert got[2] < 0.0 and got[3] < 0.0


def test_rotating_the_dem_rotates_the_horizons():
    """A quarter turn of the grid (np.rot90, counter-clockwise) maps azimuth a to a - 90:
    every octant of the sweep agrees with the others."""
    h = synthesize(SynthConfig(size=96, resolution_m=5.0, seed=5)).dem.values
    az = np.array([3.7, 33.0, 77.0, 101.0, 150.0, 200.0, 260.0, 333.0])
    original = horizon_angles(h, 5.0, az, 2.0)
    turned = horizon_angles(np.rot90(h), 5.0, np.mod(az - 90.0, 360.0), 2.0)
    assert np.max(np.abs(np.rot90(original, axes=(1, 2)) - turned)) < 1e-3


def test_adding_a_constant_height_changes_horizons_only_through_the_radius():
    """Raising the whole DEM by 100 m moves every point 100 m further from the Moon's centre:
    horizontal distances grow by 100 m / R = 6e-5, so tan(e) changes by that fraction only."""
    h = synthesize(SynthConfig(size=96, resolution_m=5.0, seed=6)).dem.values.astype(float)
    base = horizon_angles(h, 5.0, AZIMUTHS)
    raised = horizon_angles(h + 100.0, 5.0, AZIMUTHS)
    valid = base > NO_HORIZON_DEG
    t = np.tan(np.radians(base[valid]))
    bound = np.degrees(np.abs(t) * 100.0 / R / (1 + t**2)) * 1.01 + 1e-5
    assert np.all(np.abs(raised[valid] - base[valid]) <= bound)
    assert np.array_equal(raised[~valid], base[~valid])


# --- the far field -----------------------------------------------------------------------


def coarsened(dem, factor):
    """``dem`` block-averaged by ``factor`` (a far-field DEM that agrees with the tile)."""
    ny, nx = dem.shape
    values = dem.values.reshape(ny // factor, factor, nx // factor, factor).mean(axis=(1, 3))
    t = dem.rio.transform()
    return grid_array(values, Affine(t.a * factor, 0, t.c, 0, t.e * factor, t.f), polar_crs(), "height", "m")


@pytest.fixture(scope="module")
def site_with_far_field():
    """A 51 km synthetic site at 100 m, its central 12.8 km as the tile and the whole,
    averaged to 1.6 km pixels, as the far field."""
    big = synthesize(SynthConfig(size=512, resolution_m=100.0, seed=3, center_lat=-87.0)).dem
    return big[192:320, 192:320], coarsened(big, 16)


@pytest.mark.parametrize("mast", [0.0, 10.0])
def test_far_field_merge_against_brute_force(site_with_far_field, mast):
    tile, far = site_with_far_field
    az = np.arange(24) * 15.0 + 2.0
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 128, 300), rng.integers(0, 128, 300)
    got = DemHorizons(tile, mast, far_dem=far)(az)[:, rows, cols]
    near = horizon_reference_at(tile.values, ground_pixel_m(tile), az, rows, cols, mast)
    beyond = far_field_reference_at(tile, far, az, rows, cols, mast, step_px=0.05)
    assert np.mean(beyond > near) > 0.15  # the far field matters here
    median, p99 = errors(got, np.maximum(near, beyond))
    assert median <= MEDIAN_DEG
    assert p99 <= P99_DEG


def test_far_field_from_lola_4ppd_around_the_shoemaker_tile(lola_dir, shoemaker_tif):
    """The real case: the 5 m Shoemaker tile in the global 4 px/deg LOLA DEM, reprojected to
    a 600 km polar tile at 2.5 km; the crater's far walls rise above the tile's horizon."""
    tile = read_dem(shoemaker_tif)
    far = crop_to_polar(open_dem(lola_dir / "LDEM_4.LBL"), -87.1835, 62.835, 600.0, 2500.0)
    az = np.arange(18) * 20.0 + 5.0
    got = DemHorizons(tile, 2.0, far_dem=far)(az)
    rng = np.random.default_rng(1)
    rows, cols = rng.integers(0, 256, 120), rng.integers(0, 256, 120)
    near = horizon_reference_at(tile.values, ground_pixel_m(tile), az, rows, cols, 2.0)
    beyond = far_field_reference_at(tile, far, az, rows, cols, 2.0, step_px=0.05)
    assert np.mean(beyond > near) > 0.3
    median, p99 = errors(got[:, rows, cols], np.maximum(near, beyond))
    assert median <= MEDIAN_DEG
    assert p99 <= P99_DEG


def test_far_field_shows_the_dip_beyond_a_small_flat_tile():
    """A 1.3 km flat tile in a flat far field: from 10 m up the tangent point (5.9 km) lies in
    the far field, which must give the dip -acos(R / (R + 10 m))."""
    tile = polar_dem(np.zeros((64, 64)), 20.0)
    far = polar_dem(np.zeros((64, 64)), 500.0)
    got = DemHorizons(tile, 10.0, far_dem=far)(np.arange(8) * 45.0 + 5.0)
    assert got == pytest.approx(-np.degrees(np.arccos(R / (R + 10.0))), abs=1e-3)
    assert np.all(DemHorizons(tile, 10.0)(np.arange(8) * 45.0 + 5.0) < got)


def test_far_field_sees_a_distant_massif():
    """A 2 km high, 10 km wide plateau 50 km north of a flat tile rises at the exact angle of
    its near edge (including the 0.8 deg of curvature drop at 50 km)."""
    far_h = np.zeros((80, 80))
    far_h[10:14, 35:45] = 2000.0  # 1 km pixels; the tile sits at the centre (rows 39..40)
    far = polar_dem(far_h, 1000.0)
    tile = polar_dem(np.zeros((50, 50)), 20.0)
    got = DemHorizons(tile, 0.0, far_dem=far)([0.0])[0, 25, 25]
    edge_distance = float(far["y"][13] - tile["y"][25])  # to the plateau's near edge
    # Far samples every eighth of a far pixel may miss the sharp edge by up to 63 m.
    assert got == pytest.approx(exact_elevation_deg(2000.0, edge_distance), abs=0.05)


# --- the georeferenced wrapper ------------------------------------------------------------


def test_cube_is_a_georeferenced_dataarray_and_chunks_cover_it():
    dem = polar_dem(synthesize(SynthConfig(size=48, resolution_m=20.0, seed=1)).dem.values, 20.0)
    horizons = DemHorizons(dem, observer_height_m=2.0)
    az = np.arange(12) * 30.0
    cube = horizons.cube(az)
    assert cube.name == "horizon_deg" and cube.dims == ("azimuth", "y", "x")
    assert cube.dtype == np.float32
    assert np.array_equal(cube["azimuth"].values, az)
    assert np.array_equal(cube["x"].values, dem["x"].values) and cube.rio.crs == dem.rio.crs
    parts = list(horizons.chunks(az, size=5))
    assert [p.indices(12) for p, _ in parts] == [(0, 5, 1), (5, 10, 1), (10, 12, 1)]
    assert np.array_equal(np.concatenate([block for _, block in parts]), cube.values)
    assert horizons.cube().sizes["azimuth"] == 360


def test_ground_pixel_divides_by_the_polar_scale_factor():
    dem = polar_dem(np.zeros((4, 4)), 20.0, center=(0.0, 300_000.0))  # about 80.1 S
    assert ground_pixel_m(dem) == pytest.approx(20.0 / (1 + 300_000.0**2 / (4 * R**2)), rel=1e-6)
    assert ground_pixel_m(dem) > 20.0 / 1.0077


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: horizon_angles(np.full((8, 8), np.nan), 5.0, [0.0]), "NaN"),
        (lambda: horizon_angles(np.zeros(8), 5.0, [0.0]), "2-D"),
        (lambda: horizon_angles(np.zeros((8, 8)), -5.0, [0.0]), "pixel size"),
        (lambda: horizon_angles(np.zeros((8, 8)), 5.0, [0.0], observer_height_m=-1.0), "observer height"),
        (lambda: horizon_angles(np.zeros((8, 8)), 5.0, [0.0], near_field_px=0), "near_field_px"),
        (lambda: DemHorizons(polar_dem(np.zeros((8, 8)), 5.0)).cube([0.0, 90.0]), "at least 8"),
        (lambda: DemHorizons(polar_dem(np.zeros((8, 8)), 5.0).rio.write_crs("EPSG:4326"))([0.0]), "polar"),
        (lambda: FarField.around(polar_dem(np.zeros((8, 8)), 5.0), polar_dem(np.full((8, 8), np.nan), 500.0)),
         "some heights"),
    ],
)
def test_bad_input_is_a_lupex_error(call, fragment):
    with pytest.raises(LupexError, match=fragment):
        call()
