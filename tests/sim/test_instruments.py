"""The instrument models against closed forms, published numbers and their own statistics.

Statistical checks use fixed seeds and |z| < 4 (two-sided p = 6e-5 each), so a correct model
passes reproducibly while a wrong mean, spread or rate moves z far beyond the limit.
"""

import math

import numpy as np
import pytest
from affine import Affine
from scipy import integrate

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.ice.truth import WaterTruth
from lupex.raster import grid_array, polar_crs
from lupex.rover.model import RoverConfig
from lupex.rover.power import drill_energy_wh, drill_time_h
from lupex.sim.instruments import (
    AnalysisConfig,
    GprConfig,
    InstrumentModels,
    NeutronConfig,
    analyse_samples,
    depth_weighted_weh,
    drill_hole,
    gpr_detection_probability,
    gpr_interface_depth,
    gpr_range_resolution_m,
    neutron_counts,
    neutron_estimate,
    neutron_rate_cps,
    refusal_rate_per_m,
    sample_analysis_cost,
    sensed_weh_wt_pct,
)

ORIGIN = (12_000.0, -30_000.0)  # top-left corner [m]
SIZE_PX, PIXEL_M = 8, 50.0
Z_LIMIT = 4.0
# Patches cover all but 1e-6 of the ground, so every point sees the same fixed column.
EVERYWHERE = {"patch_fraction": 0.999999, "concentration_sigma": 0.0}


def make_truth(ice_depth_m: float, seed: int = 11, **overrides) -> WaterTruth:
    """A 400 x 400 m site with ice stable from ``ice_depth_m`` everywhere (NaN: nowhere)."""
    params = IceParams(**overrides)
    s = np.full((SIZE_PX, SIZE_PX), ice_depth_m, dtype=np.float32)
    p = np.where(np.isfinite(s), params.patch_fraction, 0.0).astype(np.float32)
    transform = Affine(PIXEL_M, 0.0, ORIGIN[0], 0.0, -PIXEL_M, ORIGIN[1])
    return WaterTruth(grid_array(p, transform, polar_crs(), "patch_fraction", "1"),
                      grid_array(s, transform, polar_crs(), "ice_depth_m", "m"), params, seed)


def site_points(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Random points at least 5 m inside the site."""
    u = np.random.default_rng(seed).uniform(5.0, SIZE_PX * PIXEL_M - 5.0, size=(2, n))
    return ORIGIN[0] + u[0], ORIGIN[1] - u[1]


@pytest.fixture(scope="module")
def surface_ice():
    return make_truth(0.0, exposed_frost_probability=1.0, **EVERYWHERE)


@pytest.fixture(scope="module")
def buried_ice():
    """Ice of 5 wt% everywhere under exactly 0.5 m of dry lag."""
    return make_truth(0.0, exposed_frost_probability=0.0, dry_layer_min_m=0.5, dry_layer_max_m=0.5, **EVERYWHERE)


@pytest.fixture(scope="module")
def no_ice():
    return make_truth(np.nan)


# --- neutron spectrometer -------------------------------------------------------------------------------------


def test_rate_law_reproduces_the_lend_suppression():
    # LEND (Mitrofanov et al. 2010; REFERENCES.md section 5): ~2 % epithermal suppression for ~125 ppm H,
    # i.e. 0.1125 wt% WEH with WEH = 9e-4 x H [ppm] (NSS PDS description: 1500 ppm H = 1.35 wt%).
    config = NeutronConfig()
    weh = 9e-4 * 125.0
    assert neutron_rate_cps(0.0, config) == pytest.approx(config.dry_rate_cps)
    assert 1.0 - neutron_rate_cps(weh, config) / config.dry_rate_cps == pytest.approx(0.02, abs=5e-4)
    assert np.all(np.diff(neutron_rate_cps(np.linspace(0.0, 30.0, 50), config)) < 0)


def test_depth_weighting_closed_forms():
    # b + (c - b) exp(-d / L): c = 5, b = 0.05, L = 0.2 m.
    assert depth_weighted_weh(5.0, 0.0, 0.05, 0.2) == pytest.approx(5.0)
    assert depth_weighted_weh(5.0, 0.3, 0.05, 0.2) == pytest.approx(0.05 + 4.95 * 0.22313016015, rel=1e-9)
    assert depth_weighted_weh(np.nan, np.nan, 0.05, 0.2) == pytest.approx(0.05)


@pytest.mark.parametrize(("truth_name", "expected"), [
    ("surface_ice", 5.0),  # ice at the surface: the concentration itself
    ("buried_ice", 0.05 + 4.95 * math.exp(-0.5 / 0.2)),  # under a 0.5 m lag
    ("no_ice", 0.05),  # the background
])
def test_sensed_weh_over_the_footprint_equals_the_closed_form(request, truth_name, expected):
    truth = request.getfixturevalue(truth_name)
    sensed = sensed_weh_wt_pct(truth, *site_points(500), NeutronConfig())
    np.testing.assert_allclose(sensed, expected, rtol=1e-12)


def test_sensed_weh_equals_the_brute_force_depth_integral():
    # Point sensor over the default random truth (lags of 0.1-0.5 m, lognormal WEH): the weight
    # exp(-z/L)/L integrated cell by cell over truth.weh at 0.25 mm steps to 6 m (30 L).
    truth = make_truth(0.0)
    config = NeutronConfig(footprint_radius_m=0.0, footprint_points=1)
    x, y = site_points(60)
    edges = np.arange(0.0, 6.0 + 1e-9, 2.5e-4)
    weights = np.exp(-edges[:-1] / config.leakage_depth_m) - np.exp(-edges[1:] / config.leakage_depth_m)
    profile = truth.weh(x[:, None], y[:, None], 0.5 * (edges[:-1] + edges[1:]))
    reference = profile @ weights
    # One cell straddles the ice top: its error is at most its weight (dz/L) times the jump (< 25 wt%).
    np.testing.assert_allclose(sensed_weh_wt_pct(truth, x, y, config), reference, atol=2.5e-4 / 0.2 * 25)
    assert np.ptp(reference) > 1.0  # the sites differ: the test is not about a constant


def test_footprint_averaging_keeps_the_mean_and_lowers_the_spread():
    truth = make_truth(0.0)
    x, y = site_points(4000)
    point = sensed_weh_wt_pct(truth, x, y, NeutronConfig(footprint_radius_m=0.0, footprint_points=1))
    disc = sensed_weh_wt_pct(truth, x, y, NeutronConfig())
    difference = disc - point
    assert abs(difference.mean()) / (difference.std() / math.sqrt(x.size)) < Z_LIMIT
    assert disc.std() < point.std()


def test_counts_are_poisson_with_mean_rate_times_time(buried_ice):
    config = NeutronConfig()
    n, seconds = 20_000, 30.0
    x, y = np.full(n, ORIGIN[0] + 200.0), np.full(n, ORIGIN[1] - 200.0)
    counts = neutron_counts(buried_ice, x, y, seconds, config, np.random.default_rng(5))
    mu = float(neutron_rate_cps(0.05 + 4.95 * math.exp(-2.5), config)) * seconds
    assert abs(counts.mean() - mu) / math.sqrt(mu / n) < Z_LIMIT
    # Variance of the sample variance of a Poisson variable: (mu + 2 mu^2) / n.
    assert abs(counts.var(ddof=1) - mu) / math.sqrt((mu + 2 * mu**2) / n) < Z_LIMIT


def test_estimate_is_unbiased_to_second_order_and_its_sigma_is_the_spread():
    config = NeutronConfig()
    weh, seconds, n = 2.0, 100.0, 40_000
    mu = float(neutron_rate_cps(weh, config)) * seconds
    counts = np.random.default_rng(8).poisson(mu, size=n)
    estimate, sigma = neutron_estimate(counts, seconds, config)
    a = config.suppression_per_wt_pct
    bias = (1.0 + a * weh) / (a * mu)  # second-order delta method, 0.005 wt% here
    assert abs(estimate.mean() - (weh + bias)) / (estimate.std() / math.sqrt(n)) < Z_LIMIT
    assert abs(estimate.std() / sigma.mean() - 1.0) < Z_LIMIT / math.sqrt(2 * n)


def test_estimate_is_clipped_at_zero_and_infinite_without_counts():
    config = NeutronConfig()
    estimate, sigma = neutron_estimate([2100, 0], 100.0, config)  # more than the dry rate, then nothing
    assert estimate[0] == 0.0 and sigma[0] > 0
    assert np.isinf(estimate[1]) and np.isinf(sigma[1])


# --- ground-penetrating radar ---------------------------------------------------------------------------------


def test_range_resolution_is_c_over_two_n_b():
    # eps = 1.919^1.5 = 2.6584 (Olhoeft & Strangway 1975), B = 500 MHz (Chang'e-3/4 LPR channel 2).
    assert gpr_range_resolution_m(GprConfig()) == pytest.approx(299_792_458.0 / (2 * math.sqrt(2.65835) * 5e8),
                                                                rel=1e-5)


def test_detection_probability_follows_crim_and_swerling():
    config = GprConfig()
    n_dry = math.sqrt(1.919**1.5)

    def n(weh):  # ice of 917 kg/m^3 and eps 3.15 fills vacuum pores of 1500 kg/m^3 regolith
        return n_dry + 1500.0 * weh / ((100.0 - weh) * 917.0) * (math.sqrt(3.15) - 1.0)

    gamma = (n(5.0) - n(0.05)) / (n(5.0) + n(0.05))
    expected = 0.01 ** (1.0 / (1.0 + (gamma / 0.002) ** 2))
    assert gpr_detection_probability(0.05, 5.0, config) == pytest.approx(expected, rel=1e-12)
    assert gpr_detection_probability(0.05, 0.05, config) == pytest.approx(0.01)  # no contrast: false alarms only
    assert np.all(np.diff(gpr_detection_probability(0.05, np.linspace(0.05, 20.0, 40), config)) > 0)


def test_buried_interface_is_found_at_the_configured_rate(buried_ice):
    config = GprConfig()
    n = 20_000
    depth = gpr_interface_depth(buried_ice, *site_points(n), config, np.random.default_rng(13))
    p_d = float(gpr_detection_probability(0.05, 5.0, config))
    expected = p_d + (1 - p_d) * config.false_alarm_probability  # a missed interface may still raise a false alarm
    found = np.isfinite(depth).mean()
    assert abs(found - expected) / math.sqrt(expected * (1 - expected) / n) < Z_LIMIT


def test_picked_depths_scatter_with_the_configured_sigma(buried_ice):
    config = GprConfig(false_alarm_probability=1e-6)  # keeps false alarms out of the depth statistics
    depth = gpr_interface_depth(buried_ice, *site_points(20_000), config, np.random.default_rng(21))
    picks = depth[np.isfinite(depth)]
    sigma = config.depth_sigma_fraction * gpr_range_resolution_m(config)
    assert abs(picks.mean() - 0.5) / (sigma / math.sqrt(picks.size)) < Z_LIMIT
    assert abs(picks.std(ddof=1) / sigma - 1.0) / math.sqrt(1 / (2 * picks.size)) < Z_LIMIT


@pytest.mark.parametrize("truth_name", ["no_ice", "surface_ice", "shallow_lag"])
def test_without_a_resolvable_interface_only_false_alarms_remain(request, truth_name):
    # No ice, exposed ice and a 0.1 m lag (above the 0.18 m resolution) give no interface.
    if truth_name == "shallow_lag":
        truth = make_truth(0.0, exposed_frost_probability=0.0, dry_layer_min_m=0.1, dry_layer_max_m=0.1,
                           **EVERYWHERE)
    else:
        truth = request.getfixturevalue(truth_name)
    config, n = GprConfig(), 40_000
    depth = gpr_interface_depth(truth, *site_points(n), config, np.random.default_rng(34))
    p = config.false_alarm_probability
    alarms = depth[np.isfinite(depth)]
    assert abs(alarms.size / n - p) / math.sqrt(p * (1 - p) / n) < Z_LIMIT
    low, high = gpr_range_resolution_m(config), config.window_m
    assert alarms.min() >= low and alarms.max() <= high
    assert abs(alarms.mean() - (low + high) / 2) / ((high - low) / math.sqrt(12 * alarms.size)) < Z_LIMIT


# --- drill and sample analysis --------------------------------------------------------------------------------


def test_refusal_rate_is_the_golombek_rapp_integral():
    # Rocks of D >= D_min cross a vertical line 1.5 dphi / D times per metre, dphi = k q exp(-q D) dD.
    config = InstrumentModels().drill
    for k in (0.01, 0.1, 0.3):
        q = 1.79 + 0.152 / k  # Golombek & Rapp 1997, eq. 2
        reference = integrate.quad(lambda d, k=k, q=q: 1.5 / d * k * q * math.exp(-q * d),
                                   config.refusal_rock_diameter_m, np.inf)[0]
        assert refusal_rate_per_m(k, config) == pytest.approx(reference, rel=1e-7)
    assert refusal_rate_per_m(0.0, config) == 0.0


def test_rock_free_hole_reaches_full_depth_at_the_rover_cost(buried_ice):
    rover, models = RoverConfig(), InstrumentModels()
    x, y = ORIGIN[0] + 100.0, ORIGIN[1] - 100.0
    hole = drill_hole(buried_ice, x, y, 0.0, rover, models, np.random.default_rng(2))
    assert hole.depth_reached_m == 1.5 and not hole.stopped_on_rock
    assert hole.time_h == pytest.approx(float(drill_time_h(rover, 1.5))) == pytest.approx(1.5)
    assert hole.energy_wh == pytest.approx(float(drill_energy_wh(rover, 1.5))) == pytest.approx(225.0)
    np.testing.assert_allclose(hole.bin_top_m, np.arange(15) * 0.1, atol=1e-12)
    np.testing.assert_allclose(hole.true_weh_wt_pct, buried_ice.bin_means(buried_ice.sample(x, y)), rtol=1e-12)
    np.testing.assert_allclose(hole.true_weh_wt_pct, [0.05] * 5 + [5.0] * 10, rtol=1e-12)  # 0.5 m lag over 5 wt%
    assert (hole.analysis_time_h, hole.analysis_energy_wh) == pytest.approx(sample_analysis_cost(15, rover))
    assert hole.analysis_energy_wh == pytest.approx(15 * 2.0 * 100.0)


def test_refusal_depths_follow_the_exponential_law(buried_ice):
    rover, models, k, n = RoverConfig(), InstrumentModels(), 0.1, 1500
    rng = np.random.default_rng(17)
    holes = [drill_hole(buried_ice, ORIGIN[0] + 50.0, ORIGIN[1] - 50.0, k, rover, models, rng) for _ in range(n)]
    depth = np.array([h.depth_reached_m for h in holes])
    stopped = np.array([h.stopped_on_rock for h in holes])
    rate, full = float(refusal_rate_per_m(k, models.drill)), rover.drill.max_depth_m
    p_stop = 1.0 - math.exp(-rate * full)
    assert abs(stopped.mean() - p_stop) / math.sqrt(p_stop * (1 - p_stop) / n) < Z_LIMIT
    assert abs(depth.mean() - p_stop / rate) / (depth.std() / math.sqrt(n)) < Z_LIMIT  # E[min(Z, T)]
    assert np.all(stopped == (depth < full))
    for hole in holes[:200]:  # the samples cover the hole: whole bins plus a partial one of >= 2 cm
        assert hole.bin_bottom_m.size == hole.true_weh_wt_pct.size == hole.measured_weh_wt_pct.size
        assert hole.depth_reached_m - (hole.bin_bottom_m[-1] if hole.bin_bottom_m.size else 0.0) < 0.02 + 1e-9
        assert hole.time_h == pytest.approx(hole.depth_reached_m * rover.drill.time_per_m_h)


@pytest.mark.parametrize("true_wt_pct", [0.5, 5.0])
def test_analysis_noise_matches_the_configured_sigma(true_wt_pct):
    config, n = AnalysisConfig(), 40_000
    measured = analyse_samples(np.full(n, true_wt_pct), config, np.random.default_rng(4))
    sigma = math.hypot(config.absolute_sigma_wt_pct, config.relative_sigma * true_wt_pct)
    assert abs(measured.mean() - true_wt_pct) / (sigma / math.sqrt(n)) < Z_LIMIT
    assert abs(measured.std(ddof=1) / sigma - 1.0) / math.sqrt(1 / (2 * n)) < Z_LIMIT


def test_analysis_never_reports_negative_water():
    measured = analyse_samples(np.zeros(10_000), AnalysisConfig(), np.random.default_rng(6))
    assert measured.min() == 0.0 and 0.4 < (measured == 0.0).mean() < 0.6


# --- determinism and bad input --------------------------------------------------------------------------------


def test_same_seed_gives_the_same_measurements(buried_ice):
    rover, models = RoverConfig(), InstrumentModels()
    x, y = site_points(300)

    def measure(seed):
        rng = np.random.default_rng(seed)
        counts = neutron_counts(buried_ice, x, y, 10.0, models.neutron, rng)
        depth = gpr_interface_depth(buried_ice, x, y, models.gpr, rng)
        hole = drill_hole(buried_ice, x[0], y[0], 0.2, rover, models, rng)
        return counts, depth, hole.depth_reached_m, hole.measured_weh_wt_pct

    first, again, other = measure(99), measure(99), measure(100)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_bad_input_is_refused(buried_ice):
    rover, models, rng = RoverConfig(), InstrumentModels(), np.random.default_rng(0)
    inside = (ORIGIN[0] + 100.0, ORIGIN[1] - 100.0)
    with pytest.raises(LupexError, match="rock fractions"):
        drill_hole(buried_ice, *inside, 1.2, rover, models, rng)
    with pytest.raises(LupexError, match="off the water truth's grid"):
        drill_hole(buried_ice, ORIGIN[0] - 10.0, ORIGIN[1], 0.0, rover, models, rng)
    with pytest.raises(LupexError, match="off the water truth's grid"):
        neutron_counts(buried_ice, ORIGIN[0] - 10.0, ORIGIN[1] + 10.0, 10.0, models.neutron, rng)
    with pytest.raises(LupexError, match="integration times"):
        neutron_counts(buried_ice, *inside, -1.0, models.neutron, rng)
    with pytest.raises(LupexError, match="integration times"):
        neutron_estimate(100, 0.0, models.neutron)
    with pytest.raises(LupexError, match="off the water truth's grid"):
        gpr_interface_depth(buried_ice, ORIGIN[0] - 1.0, ORIGIN[1], models.gpr, rng)
    with pytest.raises(LupexError, match=">= 0"):
        analyse_samples([-0.1], models.analysis, rng)
    with pytest.raises(ValueError, match="window_m"):
        GprConfig(window_m=0.1)
    with pytest.raises(ValueError, match="extra"):
        InstrumentModels(neutron={"dry_rate": 20.0})
