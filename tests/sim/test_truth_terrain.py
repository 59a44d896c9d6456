"""The truth world against its laws: rock counts and sizes (Golombek & Rapp 1997), crater counts
(the project's crater model), the cell rule by brute force, determinism and order independence.

Counts are Poisson, so each check is a z-test with |z| < 4 (two-sided p = 6e-5); the seeds are
fixed, so outcomes are reproducible, and a wrong law moves them far beyond the threshold.
"""

import math

import numpy as np
import pytest
from affine import Affine
from pydantic import ValidationError

from lupex.errors import LupexError
from lupex.raster import grid_array, polar_crs
from lupex.sim.truth_terrain import TruthTerrain, TruthTerrainConfig
from lupex.terrain.craters import visible_density
from lupex.terrain.rocks import rock_density

Z_LIMIT = 4.0
NO_CRATERS = {"crater_equilibrium_fraction": 0.0}


def poisson_z(count: int, expected: float) -> float:
    return (count - expected) / math.sqrt(expected)


def rocks_inside(truth: TruthTerrain, x0, y0, x1, y1):
    found = truth.hazards(x0, y0, x1, y1)
    inside = (~found.is_crater) & (found.x >= x0) & (found.x < x1) & (found.y >= y0) & (found.y < y1)
    return 2.0 * found.outer_m[inside]


@pytest.mark.parametrize(("k", "side"), [(0.1, 300.0), (0.01, 1200.0)])
def test_rock_counts_and_sizes_follow_golombek_rapp(k, side):
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=k, **NO_CRATERS), seed=11)
    diameters = rocks_inside(truth, -side / 2, -side / 2, side / 2, side / 2)
    area = side * side
    for d_min in (0.3, 0.6, 1.0):
        expected = float(rock_density(d_min, k, 10.0)) * area
        if expected > 50:
            assert abs(poisson_z(int((diameters >= d_min).sum()), expected)) < Z_LIMIT, d_min
    assert diameters.min() >= 0.3
    assert diameters.max() <= 10.0


def test_rock_density_follows_the_rock_map_and_the_default_off_it():
    k_left, k_right, default = 0.02, 0.2, 0.05
    values = np.full((16, 16), k_left)
    values[:, 8:] = k_right
    values[0, 0] = np.nan  # nodata takes the default
    origin = (2000.0, -3000.0)
    rocks = grid_array(values, Affine(20.0, 0.0, origin[0], 0.0, -20.0, origin[1]), polar_crs(), "rocks", "1")
    truth = TruthTerrain(rocks, TruthTerrainConfig(default_rock_k=default, **NO_CRATERS), seed=5)
    x0, y_top = origin
    # left half without the nodata pixel's row, right half, and a square off the map
    for (a, b, c, d), k in (((x0, y_top - 320, x0 + 160, y_top - 20), k_left),
                            ((x0 + 160, y_top - 320, x0 + 320, y_top), k_right),
                            ((x0 - 400, y_top - 320, x0 - 80, y_top), default)):
        expected = float(rock_density(0.3, k, 10.0)) * (c - a) * (d - b)
        assert abs(poisson_z(rocks_inside(truth, a, b, c, d).size, expected)) < Z_LIMIT, k


def test_crater_counts_follow_the_visible_density():
    # With a near-zero slope limit every crater has a wall too steep, so every one is a hazard.
    config = TruthTerrainConfig(default_rock_k=0.0)
    truth = TruthTerrain(None, config, seed=3, max_slope_deg=1e-3)
    side = 2000.0
    found = truth.hazards(0.0, 0.0, side, side)
    inside = found.is_crater & (found.x >= 0) & (found.x < side) & (found.y >= 0) & (found.y < side)
    per_km2 = visible_density(np.array([2.0, 15.0]) / 1000.0, config.surface_age_gyr,
                              config.crater_equilibrium_fraction)
    expected = (per_km2[0] - per_km2[1]) * (side / 1000.0) ** 2
    assert abs(poisson_z(int(inside.sum()), expected)) < Z_LIMIT


def test_steep_wall_ring_matches_the_parabolic_bowl():
    """Pike (1977) fresh simple crater, z = d (r/R)^2: wall slope 2 d r / R^2 passes 25 deg at r_c."""
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.0), seed=8)
    craters = truth.hazards(0.0, 0.0, 2000.0, 2000.0)
    craters = craters.take(craters.is_crater)
    assert len(craters) > 100
    radius = craters.outer_m
    # Depth implied by each ring: d = tan(25 deg) R^2 / (2 r_c); it must lie between the worn
    # (0.04 D) and fresh (0.196 D^1.01, D in km) Pike depth-to-diameter of lupex.terrain.craters.
    depth = math.tan(math.radians(25.0)) * radius**2 / (2.0 * craters.inner_m)
    d_km = 2 * radius / 1000.0
    assert (depth <= 0.196 * d_km**1.010 * 1000.0 * (1 + 1e-9)).all()
    assert (depth >= math.tan(math.radians(25.0)) * radius / 2.0 * (1 - 1e-9)).all()  # r_c < R
    assert (craters.inner_m < radius).all()


def brute_force_blocked(truth, x0, y0, x1, y1, clearance):
    """The cell rule written out plainly: a footprint overlaps the square, or (with a clearance)
    the cell centre lies within ``clearance`` of the footprint."""
    cell = truth.cell_m
    cols = np.arange(math.floor(x0 / cell), math.ceil(x1 / cell))
    rows = np.arange(math.ceil(y1 / cell) - 1, math.floor(y0 / cell) - 1, -1)
    xa, ya = np.meshgrid(cols * cell, rows * cell)
    out = np.zeros(xa.shape, dtype=bool)
    found = truth.hazards(x0 - clearance - cell, y0 - clearance - cell, x1 + clearance + cell, y1 + clearance + cell)
    for hx, hy, inner, outer in zip(found.x, found.y, found.inner_m, found.outer_m, strict=True):
        near = np.hypot(np.clip(hx, xa, xa + cell) - hx, np.clip(hy, ya, ya + cell) - hy)
        far = np.hypot(np.maximum(abs(hx - xa), abs(hx - xa - cell)), np.maximum(abs(hy - ya), abs(hy - ya - cell)))
        out |= (near < outer) & (far > inner)
        if clearance > 0:
            centre = np.hypot(xa + cell / 2 - hx, ya + cell / 2 - hy)
            out |= (centre < outer + clearance) & ((inner - clearance <= 0) | (centre > inner - clearance))
    return out


@pytest.mark.parametrize("clearance", [0.0, 0.75])
def test_blocked_cells_match_the_brute_force_rule(clearance):
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.05), seed=21)
    window = (-31.3, 12.2, 9.9, 47.6)
    grid, transform = truth.blocked(*window, clearance_m=clearance)
    assert transform.a == 0.5 and transform.c == -31.5 and transform.f == 48.0
    expected = brute_force_blocked(truth, *window, clearance)
    assert grid.shape == expected.shape
    assert 0.05 < grid.mean() < 0.9
    np.testing.assert_array_equal(grid, expected)


def test_every_rock_blocks_the_cell_it_lies_in_even_when_smaller_than_a_cell():
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.1, **NO_CRATERS), seed=2)
    found = truth.hazards(0.0, 0.0, 100.0, 100.0)
    assert (2 * found.outer_m < truth.cell_m).sum() > 1000
    assert truth.is_blocked(found.x, found.y).all()


def test_windows_are_order_independent_and_agree_where_they_overlap():
    config = TruthTerrainConfig(default_rock_k=0.05)
    a_window, b_window = (-150.0, -90.0, 40.0, 60.0), (-20.0, -10.0, 170.0, 130.0)
    first, second = TruthTerrain(None, config, seed=99), TruthTerrain(None, config, seed=99)
    a1, ta = first.blocked(*a_window)
    b1, tb = first.blocked(*b_window)
    b2, _ = second.blocked(*b_window)
    a2, _ = second.blocked(*a_window)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    # the overlap x in [-20, 40), y in [-10, 60): rows from the top of each window, columns from its left
    cell = config.cell_m
    overlap_a = a1[int((ta.f - 60) / cell):int((ta.f + 10) / cell), int((-20 - ta.c) / cell):int((40 - ta.c) / cell)]
    overlap_b = b1[int((tb.f - 60) / cell):int((tb.f + 10) / cell), int((-20 - tb.c) / cell):int((40 - tb.c) / cell)]
    assert overlap_a.shape == (140, 120)
    np.testing.assert_array_equal(overlap_a, overlap_b)
    assert overlap_a.any()
    other, _ = TruthTerrain(None, config, seed=100).blocked(*a_window)
    assert (other != a1).any()


def test_points_agree_with_the_grid():
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.05), seed=4)
    grid, t = truth.blocked(300.0, -500.0, 340.0, -470.0)
    rows, cols = np.indices(grid.shape)
    x = t.c + (cols + 0.3) * t.a
    y = t.f + (rows + 0.8) * t.e
    fresh = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.05), seed=4)
    np.testing.assert_array_equal(fresh.is_blocked(x, y), grid)


def test_no_rocks_and_no_craters_means_no_hazards():
    truth = TruthTerrain(None, TruthTerrainConfig(default_rock_k=0.0, **NO_CRATERS), seed=1)
    grid, _ = truth.blocked(-500.0, -500.0, 500.0, 500.0, clearance_m=1.0)
    assert not grid.any()
    assert len(truth.hazards(-500.0, -500.0, 500.0, 500.0)) == 0


def test_bad_input_is_refused():
    truth = TruthTerrain(None, seed=0)
    with pytest.raises(LupexError, match="not a rectangle"):
        truth.blocked(10.0, 0.0, 0.0, 10.0)
    with pytest.raises(LupexError, match="clearance_m"):
        truth.blocked(0.0, 0.0, 10.0, 10.0, clearance_m=-1.0)
    with pytest.raises(LupexError, match="too large"):
        truth.blocked(0.0, 0.0, 1e5, 1e5)
    with pytest.raises(LupexError, match="seed"):
        TruthTerrain(None, seed=-1)
    bad = grid_array(np.full((4, 4), 1.5), Affine(20.0, 0, 0, 0, -20.0, 0), polar_crs(), "rocks", "1")
    with pytest.raises(LupexError, match="0 <= k < 1"):
        TruthTerrain(bad)
    with pytest.raises(ValidationError, match="whole number of cells"):
        TruthTerrainConfig(tile_m=64.3)
    with pytest.raises(ValidationError, match="largest hazard radius"):
        TruthTerrainConfig(tile_m=5.0)
