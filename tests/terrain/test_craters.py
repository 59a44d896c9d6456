"""Crater population and morphology against the papers they come from."""

import numpy as np
import pytest

from lupex.terrain.craters import (
    CraterSet,
    crater_shape,
    neukum_n1,
    neukum_production,
    render_craters,
    sample_craters,
    visible_density,
)


def test_neukum_chronology_values():
    # Neukum et al. 2001 eq. 5: N(1 km) at 1 Gyr is 8.38e-4 + 5.44e-14 (e^6.93 - 1) km^-2.
    assert neukum_n1(1.0) == pytest.approx(8.38e-4 + 5.44e-14 * (np.exp(6.93) - 1), rel=1e-12)
    # At 3.9 Gyr the exponential term dominates: ~0.033 km^-2.
    assert neukum_n1(3.9) == pytest.approx(0.0329, rel=0.01)


def test_production_function_normalised_at_one_km():
    assert neukum_production(np.array([1.0]), 1.0)[0] == pytest.approx(neukum_n1(1.0), rel=1e-9)
    # Cumulative: strictly decreasing with diameter, steeper than D^-2 below 1 km (NPF slope ~ -3).
    d = np.geomspace(0.01, 300, 50)
    n = neukum_production(d, 3.9)
    assert np.all(np.diff(n) < 0)
    slope = np.log10(n[10] / n[0]) / np.log10(d[10] / d[0])
    assert -3.8 < slope < -2.8


def test_sampled_population_follows_the_visible_density():
    rng = np.random.default_rng(0)
    side = 20_000.0
    craters = sample_craters((0, 0, side, side), 40.0, 4000.0, 3.9, 0.03, rng)
    inside = (craters.x >= 0) & (craters.x < side) & (craters.y >= 0) & (craters.y < side)
    for d in (40.0, 100.0, 300.0):
        observed = np.count_nonzero(inside & (craters.diameter >= d))
        expected = (visible_density(np.array([d / 1000]), 3.9, 0.03)[0]
                    - visible_density(np.array([4.0]), 3.9, 0.03)[0]) * (side / 1000) ** 2
        assert observed == pytest.approx(expected, abs=4 * np.sqrt(expected))  # Poisson, 4 sigma
    assert np.all(np.diff(craters.age) <= 0)  # oldest first
    assert ((craters.degradation >= 0) & (craters.degradation <= 1)).all()


def test_fresh_shapes_follow_pike_1977():
    depth, rim, floor, peak = crater_shape(np.array([1000.0, 30_000.0]), np.zeros(2))
    assert depth[0] == pytest.approx(196.0, rel=1e-9)        # d = 0.196 D^1.010, D = 1 km
    assert rim[0] == pytest.approx(36.0, rel=1e-9)           # h = 0.036 D^1.014
    assert floor[0] == 0 and peak[0] == 0                   # simple bowl
    assert depth[1] == pytest.approx(1044.0 * 30**0.301, rel=1e-9)
    assert floor[1] == pytest.approx(0.187 * 30**1.249 / 30, rel=1e-9)
    assert peak[1] > 0
    worn_depth, worn_rim, _, _ = crater_shape(np.array([1000.0]), np.ones(1))
    assert worn_depth[0] / 1000 == pytest.approx(0.04 * 0.196 / 0.2, rel=1e-9)  # d/D 0.2 -> 0.04
    assert worn_rim[0] == 0


def test_rendered_fresh_bowl_has_the_paper_depth_and_rim():
    pixel = 2.0
    n = 401
    height = np.zeros((n, n))
    rocks = np.zeros((n, n))
    centre = n * pixel / 2
    one = CraterSet(np.array([centre]), np.array([-centre]), np.array([400.0]), np.zeros(1), np.zeros(1))
    render_craters(height, rocks, (0.0, 0.0), pixel, one, 1e9, 0.0)
    depth, rim, _, _ = crater_shape(one.diameter, one.degradation)
    assert height.min() == pytest.approx(rim[0] - depth[0], abs=0.05)   # floor below the plain
    assert height.max() == pytest.approx(rim[0], rel=0.02)             # rim crest
    assert abs(height[0, 0]) < 1e-9                                    # beyond 2.5 R: untouched
    row = height[n // 2, n // 2:]
    r = np.arange(row.size) * pixel / 200.0
    ejecta = (r > 1.2) & (r < 2.0)
    expected = rim[0] * (r[ejecta] ** -3 - 2.5**-3) / (1 - 2.5**-3)     # McGetchin 1973, tapered
    np.testing.assert_allclose(row[ejecta], expected, rtol=1e-9)
