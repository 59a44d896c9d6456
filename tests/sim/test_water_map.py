"""The water belief against closed forms: dense Gaussian-process regression (Rasmussen & Williams 2006,
eqs. 2.22-2.24), the one-observation Bayesian update, precision-weighted merging, the normal CDF, the
Gaussian entropy reduction, calibration on fields drawn from the model itself, and the correlogram of
the ground truth that sets the correlation range.

Statistical checks use fixed seeds and 4-sigma bounds (or a KS significance of 0.001); a wrong model
moves them far beyond that.
"""

import copy
import math

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from scipy import stats

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.ice.truth import WaterTruth
from lupex.raster import grid_array, polar_crs
from lupex.sim.water_map import WaterBelief, WaterMapConfig, circular_correlation

PIXEL_M = 20.0
LEFT, TOP = 12_000.0, -30_000.0
RANGE_M = 10.0


def rho(r):
    """Circular correlation of range 10 m, written out from Chilès & Delfiner (1999), p. 82."""
    u = np.minimum(np.asarray(r, dtype=float) / RANGE_M, 1.0)
    return 2.0 / np.pi * (np.arccos(u) - u * np.sqrt(1.0 - u**2))


def prior_grids(mean, sd):
    transform = Affine(PIXEL_M, 0.0, LEFT, 0.0, -PIXEL_M, TOP)
    return (grid_array(np.asarray(mean, dtype=float), transform, polar_crs(), "weh_top1m_mean", "wt%"),
            grid_array(np.asarray(sd, dtype=float), transform, polar_crs(), "weh_top1m_std", "wt%"))


def random_prior(n_px, seed):
    rng = np.random.default_rng(seed)
    return prior_grids(rng.uniform(0.05, 3.0, (n_px, n_px)), rng.uniform(0.2, 3.0, (n_px, n_px)))


def prior_at(grids, x, y):
    """Prior mean and sd of the pixel holding each point."""
    col = np.floor((np.asarray(x) - LEFT) / PIXEL_M).astype(int)
    row = np.floor((TOP - np.asarray(y)) / PIXEL_M).astype(int)
    return grids[0].values[row, col], grids[1].values[row, col]


def dense_gp(grids, ox, oy, ov, osig, qx, qy):
    """Exact GP posterior with every observation, by numpy solves (Rasmussen & Williams 2006, eqs. 2.22-2.24)."""
    om, osd = prior_at(grids, ox, oy)
    qm, qsd = prior_at(grids, qx, qy)
    a = osd[:, None] * osd[None, :] * rho(np.hypot(ox[:, None] - ox, oy[:, None] - oy)) + np.diag(osig**2)
    k = qsd[:, None] * osd[None, :] * rho(np.hypot(qx[:, None] - ox, qy[:, None] - oy))
    mean = qm + k @ np.linalg.solve(a, ov - om)
    var = qsd**2 - np.einsum("ij,ji->i", k, np.linalg.solve(a, k.T))
    return mean, np.sqrt(var)


@pytest.fixture(scope="module")
def grids():
    return random_prior(10, seed=7)


def test_circular_correlation_closed_form_values():
    # rho(0) = 1, rho(c/2) = 2/3 - sqrt(3)/(2 pi), rho(c) = 0 (overlap of two discs of diameter c)
    np.testing.assert_allclose(circular_correlation([0.0, 5.0, 10.0, 25.0], 10.0),
                               [1.0, 2.0 / 3.0 - math.sqrt(3.0) / (2.0 * math.pi), 0.0, 0.0], atol=1e-15)


def test_few_observations_equal_the_dense_gp(grids):
    rng = np.random.default_rng(1)
    # a cluster of 9 m diameter on a corner of four prior pixels: every reading within range of every query
    cx, cy = LEFT + 3 * PIXEL_M, TOP - 3 * PIXEL_M
    angle, radius = rng.uniform(0, 2 * np.pi, 8), 4.5 * np.sqrt(rng.uniform(0, 1, 8))
    ox, oy = cx + radius * np.cos(angle), cy + radius * np.sin(angle)
    ov, osig = rng.uniform(-0.5, 6.0, 8), rng.uniform(0.2, 1.5, 8)
    qx, qy = cx + rng.uniform(-0.5, 0.5, 20), cy + rng.uniform(-0.5, 0.5, 20)
    belief = WaterBelief(*grids, WaterMapConfig(cell_m=0.01))
    belief.add_neutron(ox[:5], oy[:5], ov[:5], osig[:5])
    belief.add_drill(ox[5:], oy[5:], ov[5:], osig[5:])
    mean, sd = belief.posterior(qx, qy)
    ref_mean, ref_sd = dense_gp(grids, ox, oy, ov, osig, qx, qy)
    np.testing.assert_allclose(mean, ref_mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sd, ref_sd, rtol=0, atol=1e-9)
    assert belief.n_observations == 8 and belief.n_cells == 8


def test_many_observations_equal_the_dense_gp_on_each_neighbourhood(grids):
    # the documented approximation: each query conditions exactly on the cells within 1.5 ranges (15 m)
    rng = np.random.default_rng(2)
    s = np.arange(150) * 2.5
    ox, oy = LEFT + 10.0 + s * 0.5, TOP - 10.0 - s * 0.4 - 3.0 * np.sin(s / 20.0)
    ov, osig = rng.uniform(0.0, 5.0, s.size), rng.uniform(0.3, 1.0, s.size)
    belief = WaterBelief(*grids)
    belief.add_neutron(ox, oy, ov, osig)
    qx, qy = ox[::7] + rng.uniform(-6, 6, ox[::7].size), oy[::7] + rng.uniform(-6, 6, ox[::7].size)
    mean, sd = belief.posterior(qx, qy)
    for k in range(qx.size):
        near = np.hypot(ox - qx[k], oy - qy[k]) < 15.0
        ref_mean, ref_sd = dense_gp(grids, ox[near], oy[near], ov[near], osig[near], qx[k:k + 1], qy[k:k + 1])
        assert mean[k] == pytest.approx(ref_mean[0], abs=1e-9)
        assert sd[k] == pytest.approx(ref_sd[0], abs=1e-9)


def test_beyond_the_range_the_posterior_is_the_prior_exactly(grids):
    belief = WaterBelief(*grids)
    x0, y0 = LEFT + 90.0, TOP - 90.0
    belief.add_neutron([x0, x0 + 3.0], [y0, y0], [8.0, 7.0], [0.1, 0.2])
    # 10.2 m and 12 m: inside the neighbourhood but uncorrelated; 40 m and 150 m: no cell near
    qx = np.array([x0 + 13.2, x0 - 12.0, x0 + 40.0, x0 - 70.0])
    qy = np.array([y0, y0, y0 + 5.0, y0 - 80.0])
    mean, sd = belief.posterior(qx, qy)
    prior_mean, prior_sd = prior_at(grids, qx, qy)
    np.testing.assert_array_equal(mean, prior_mean)
    np.testing.assert_array_equal(sd, prior_sd)


def test_one_observation_is_the_one_dimensional_bayesian_update():
    belief = WaterBelief(*prior_grids(np.full((5, 5), 0.5), np.full((5, 5), 2.0)))
    x0, y0 = LEFT + 50.0, TOP - 50.0
    belief.add_neutron(x0, y0, 4.5, 1.0)
    mean, sd = belief.posterior([x0, x0 + 5.0], [y0, y0])
    # at the reading: gain 4 / (4 + 1) = 0.8, mean 0.5 + 0.8 x 4 = 3.7, variance 4 x 1 / 5 = 0.8
    assert mean[0] == pytest.approx(3.7, abs=1e-12)
    assert sd[0] == pytest.approx(math.sqrt(0.8), abs=1e-12)
    # 5 m away, correlation r = 2/3 - sqrt(3)/(2 pi): mean 0.5 + 3.2 r, variance 4 - 16 r^2 / 5
    r = 2.0 / 3.0 - math.sqrt(3.0) / (2.0 * math.pi)
    assert mean[1] == pytest.approx(0.5 + 3.2 * r, abs=1e-12)
    assert sd[1] == pytest.approx(math.sqrt(4.0 - 3.2 * r * r), abs=1e-12)


def test_colocated_readings_merge_exactly_by_precision(grids):
    x0, y0 = LEFT + 70.3, TOP - 110.6
    values, sigmas = np.array([1.0, 3.5, 2.2, -0.4, 5.0]), np.array([0.5, 1.0, 0.8, 2.0, 0.3])
    ox, oy = np.append(np.full(5, x0), x0 + 4.0), np.append(np.full(5, y0), y0 - 2.0)
    ov, osig = np.append(values, 2.0), np.append(sigmas, 0.7)
    qx, qy = x0 + np.array([0.0, 2.0, -6.0, 9.0]), y0 + np.array([0.0, 1.0, 3.0, -1.0])

    together = WaterBelief(*grids)
    together.add_neutron(ox, oy, ov, osig)
    one_by_one = WaterBelief(*grids)
    for k in (3, 0, 5, 2, 4, 1):  # with queries in between, so later readings join cells that exist
        one_by_one.add_neutron(ox[k], oy[k], ov[k], osig[k])
        one_by_one.posterior(qx, qy)
    weights = sigmas**-2
    merged = WaterBelief(*grids)
    merged.add_neutron([x0, x0 + 4.0], [y0, y0 - 2.0], [weights @ values / weights.sum(), 2.0],
                       [weights.sum() ** -0.5, 0.7])

    ref_mean, ref_sd = dense_gp(grids, ox, oy, ov, osig, qx, qy)
    for belief in (together, one_by_one, merged):
        mean, sd = belief.posterior(qx, qy)
        np.testing.assert_allclose(mean, ref_mean, rtol=0, atol=1e-9)
        np.testing.assert_allclose(sd, ref_sd, rtol=0, atol=1e-9)
    assert (together.n_cells, together.n_observations) == (2, 6)


def test_z_scores_on_fields_drawn_from_the_model_are_standard_normal():
    # 2500 sites 40 m apart (farther than the 10 m range, so the field is independent between them), each
    # with 15 readings (two of them at one spot) and one hidden test point in a 12 m box
    sites, per_site = 2500, 16
    grids = random_prior(100, seed=11)
    rng = np.random.default_rng(12)
    i, j = np.divmod(np.arange(sites), 50)
    px = LEFT + 14.0 + 40.0 * i[:, None] + rng.uniform(0, 12, (sites, per_site))
    py = TOP - 14.0 - 40.0 * j[:, None] - rng.uniform(0, 12, (sites, per_site))
    px[:, 1], py[:, 1] = px[:, 0], py[:, 0]
    m, s = prior_at(grids, px, py)
    cov = s[:, :, None] * s[:, None, :] * rho(np.hypot(px[:, :, None] - px[:, None, :],
                                                       py[:, :, None] - py[:, None, :]))
    field = m + np.einsum("nij,nj->ni", np.linalg.cholesky(cov + 1e-9 * np.eye(per_site)),
                          rng.standard_normal((sites, per_site)))
    sigma = rng.uniform(0.3, 1.5, (sites, per_site - 1))
    readings = field[:, :-1] + sigma * rng.standard_normal(sigma.shape)

    belief = WaterBelief(*grids)
    belief.add_neutron(px[:, :-1], py[:, :-1], readings, sigma)
    mean, sd = belief.posterior(px[:, -1], py[:, -1])
    z = (field[:, -1] - mean) / sd
    assert abs(z.mean()) < 4.0 / math.sqrt(sites)
    assert abs(z.std() - 1.0) < 4.0 / math.sqrt(2 * sites)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert (sd < prior_at(grids, px[:, -1], py[:, -1])[1]).mean() > 0.9  # the readings did inform


def test_information_gain_is_the_entropy_reduction_of_a_drill_update(grids):
    belief = WaterBelief(*grids)
    x0, y0 = LEFT + 30.0, TOP - 50.0
    belief.add_neutron(x0 + np.arange(5) * 2.0, np.full(5, y0), [0.5, 2.0, 4.0, 3.0, 1.0], 0.8)
    cx, cy = np.array([x0 + 3.5, x0 + 20.0]), np.array([y0 + 1.5, y0 - 30.0])
    score = belief.drill_score(cx, cy, threshold_wt_pct=1.0, drill_sigma_wt_pct=0.25)
    _, sd = belief.posterior(cx, cy)
    np.testing.assert_allclose(score.information_gain_bits, 0.5 * np.log2(1.0 + sd**2 / 0.25**2), rtol=1e-12)
    for k in range(cx.size):  # the same figure from the variance after really adding the hole
        drilled = copy.deepcopy(belief)
        drilled.add_drill(cx[k], cy[k], 2.0, 0.25)
        after = drilled.posterior(cx[k], cy[k])[1]
        assert score.information_gain_bits[k] == pytest.approx(0.5 * math.log2(sd[k] ** 2 / after**2), abs=1e-9)
    # with no reading nearby: prior sd s, 0.5 log2(1 + s^2 / 0.25^2)
    s_prior = prior_at(grids, cx[1], cy[1])[1]
    assert score.information_gain_bits[1] == pytest.approx(0.5 * math.log2(1.0 + s_prior**2 / 0.0625), rel=1e-12)


def test_default_drill_sigma_adds_absolute_and_relative_parts_in_quadrature(grids):
    belief = WaterBelief(*grids)
    np.testing.assert_allclose(belief.drill_sigma([0.0, 4.0, -1.0]), [0.1, math.hypot(0.1, 0.3), 0.1], rtol=1e-12)
    x, y = LEFT + 55.0, TOP - 75.0
    score = belief.drill_score(x, y)
    mean, sd = belief.posterior(x, y)
    assert score.information_gain_bits == pytest.approx(0.5 * math.log2(1.0 + sd**2 / belief.drill_sigma(mean) ** 2))


def test_probability_above_is_the_normal_survival_function(grids):
    belief = WaterBelief(*grids)
    belief.add_neutron(LEFT + 45.0 + np.arange(4) * 1.5, TOP - 62.0, [3.0, 4.0, 2.5, 6.0], 0.5)
    x, y = LEFT + 40.0 + np.arange(10) * 2.0, np.full(10, TOP - 60.0)
    mean, sd = belief.posterior(x, y)
    for threshold in (0.5, 1.0, 3.0):
        expected = stats.norm.sf(threshold, loc=mean, scale=sd)
        np.testing.assert_allclose(belief.probability_above(x, y, threshold), expected, rtol=1e-12, atol=1e-15)
        score = belief.drill_score(x, y, threshold_wt_pct=threshold)
        np.testing.assert_allclose(score.probability_above, expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(score.expected_weh_wt_pct, mean)
        np.testing.assert_array_equal(score.sd_wt_pct, sd)


def test_dry_ground_with_zero_spread_is_certain_and_undefined_pixels_are_nan():
    mean, sd = np.full((3, 3), 0.05), np.zeros((3, 3))
    mean[0, 0] = sd[0, 0] = np.nan
    belief = WaterBelief(*prior_grids(mean, sd))
    belief.add_neutron(LEFT + 30.0, TOP - 30.0, 2.0, 0.5)
    m, s = belief.posterior([LEFT + 31.0, LEFT + 5.0], [TOP - 31.0, TOP - 5.0])
    np.testing.assert_array_equal(m[:1], [0.05])
    np.testing.assert_array_equal(s[:1], [0.0])
    assert np.isnan(m[1]) and np.isnan(s[1])
    assert belief.probability_above(LEFT + 31.0, TOP - 31.0, 0.04) == 1.0
    assert belief.probability_above(LEFT + 31.0, TOP - 31.0, 0.06) == 0.0
    assert np.isnan(belief.drill_score(LEFT + 5.0, TOP - 5.0).probability_above)


def test_mean_map_holds_the_posterior_at_its_pixel_centres(grids):
    belief = WaterBelief(*grids)
    belief.add_neutron(LEFT + 60.0 + np.arange(10) * 3.0, TOP - 80.0, np.linspace(0, 5, 10), 0.5)
    snapshot = belief.mean_map(resolution_m=2.0)
    assert snapshot["weh_mean_wt_pct"].rio.crs == grids[0].rio.crs
    x, y = snapshot.x.values, snapshot.y.values
    # default bounds: the readings' extent (x 60..87 m, y -80 m) plus the 10 m range, in whole 2 m pixels
    assert (x[0], x[-1], x.size) == (pytest.approx(LEFT + 51.0), pytest.approx(LEFT + 95.0), 23)
    assert (y[0], y[-1], y.size) == (pytest.approx(TOP - 71.0), pytest.approx(TOP - 89.0), 10)
    mean, sd = belief.posterior(x[None, :], y[:, None])
    np.testing.assert_array_equal(snapshot["weh_mean_wt_pct"].values, mean)
    np.testing.assert_array_equal(snapshot["weh_sd_wt_pct"].values, sd)


def test_bad_input_names_the_problem(grids):
    belief = WaterBelief(*grids)
    inside = LEFT + 10.0, TOP - 10.0
    with pytest.raises(LupexError, match="sigma_wt_pct must be finite and > 0"):
        belief.add_neutron(*inside, 1.0, 0.0)
    with pytest.raises(LupexError, match="outside the prior grid"):
        belief.add_drill(LEFT - 1.0, TOP - 10.0, 1.0, 0.1)
    with pytest.raises(LupexError, match="outside the prior grid"):
        belief.posterior(LEFT + 10.0, TOP + 1.0)
    with pytest.raises(LupexError, match="do not broadcast"):
        belief.add_neutron([1.0, 2.0], [1.0, 2.0, 3.0], 1.0, 0.5)
    with pytest.raises(LupexError, match="finite"):
        belief.add_neutron(*inside, np.nan, 0.5)
    with pytest.raises(LupexError, match="no observations yet"):
        belief.mean_map()
    with pytest.raises(LupexError, match="same shape and transform"):
        WaterBelief(grids[0], grids[1].isel(x=slice(1, None)))
    with pytest.raises(LupexError, match="negative"):
        WaterBelief(grids[0], -grids[1])
    nan_sd = grids[1].copy(data=np.where(np.arange(10)[None, :] == 0, np.nan, grids[1].values))
    with pytest.raises(LupexError, match="without a value"):
        WaterBelief(grids[0], nan_sd).add_neutron(*inside, 1.0, 0.5)


def test_circular_correlation_matches_the_ground_truths_correlogram():
    # the truth's patches are discs of radius 5 m (IceParams default): the correlation of the column WEH of two
    # points r apart should follow the circular function of range 2 x 5 m = WaterMapConfig's default
    params = IceParams()
    assert WaterMapConfig().correlation_range_m == 2 * params.patch_radius_m
    transform = Affine(50.0, 0.0, LEFT, 0.0, -50.0, TOP)
    thermal = xr.Dataset({"ice_depth_m": grid_array(np.zeros((40, 40), np.float32), transform, polar_crs(),
                                                    "ice_depth_m", "m")})
    truth = WaterTruth.from_prior(water_prior(thermal, params), params, seed=5)
    rng = np.random.default_rng(6)
    n = 40_000
    x, y, angle = LEFT + rng.uniform(20, 1980, n), TOP - rng.uniform(20, 1980, n), rng.uniform(0, 2 * np.pi, n)
    here = truth.column(x, y)
    for r in (2.0, 5.0, 8.0):
        there = truth.column(x + r * np.cos(angle), y + r * np.sin(angle))
        assert np.corrcoef(here, there)[0, 1] == pytest.approx(circular_correlation(r, 10.0), abs=0.04)
