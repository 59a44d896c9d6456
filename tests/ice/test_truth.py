"""The ground-truth generator against its prior: statistics, physical bounds, determinism, tiling.

Statistical checks use points 11 m apart: farther than a patch diameter (10 m), so the Boolean
model makes their values independent, and each zone gives ~8,000 independent draws. Every
z-test uses |z| < 4 (two-sided p = 6e-5 each; about 100 of them give a family-wise false-alarm
rate below 1 %); the KS tests use a significance of 0.001. The seeds are fixed, so the outcome
is reproducible; a wrong model moves these figures far beyond the thresholds.
"""

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from scipy import stats

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.ice.streams import uniform
from lupex.ice.truth import WaterTruth
from lupex.raster import grid_array, polar_crs

PIXEL_M = 50.0
ZONE_PX = 20  # 1 km zones
ZONES = {"surface": 0.0, "shallow": 0.25, "deep": 0.8, "dry": np.nan}
ORIGIN = (12_000.0, -30_000.0)  # top-left corner [m]: negative y exercises negative tile indices
Z_LIMIT = 4.0


@pytest.fixture(scope="module")
def site():
    """A 2 x 2 km site of four 1 km zones with ice stable at 0 m, 0.25 m, 0.8 m and nowhere."""
    s = np.empty((2 * ZONE_PX, 2 * ZONE_PX), dtype=np.float32)
    for k, depth in enumerate(ZONES.values()):
        row, col = divmod(k, 2)
        s[row * ZONE_PX:(row + 1) * ZONE_PX, col * ZONE_PX:(col + 1) * ZONE_PX] = depth
    transform = Affine(PIXEL_M, 0.0, ORIGIN[0], 0.0, -PIXEL_M, ORIGIN[1])
    thermal = xr.Dataset({"ice_depth_m": grid_array(s, transform, polar_crs(), "ice_depth_m", "m")})
    params = IceParams()
    prior = water_prior(thermal, params)
    return prior, params, WaterTruth.from_prior(prior, params, seed=20240601)


def zone_points(name: str, spacing: float = 11.0) -> tuple[np.ndarray, np.ndarray]:
    """Lattice points inside one zone, ``spacing`` apart [m]."""
    row, col = divmod(list(ZONES).index(name), 2)
    size = ZONE_PX * PIXEL_M
    offsets = np.arange(spacing / 2, size, spacing)
    x, y = np.meshgrid(ORIGIN[0] + col * size + offsets, ORIGIN[1] - row * size - offsets)
    return x.ravel(), y.ravel()


def zone_prior(prior: xr.Dataset, name: str, variable: str) -> np.ndarray:
    row, col = divmod(list(ZONES).index(name), 2)
    return prior[variable].isel(y=row * ZONE_PX + 1, x=col * ZONE_PX + 1).values.astype(float)


@pytest.mark.parametrize("zone", ["surface", "shallow", "deep"])
def test_truth_reproduces_the_prior_mean_and_spread_per_depth_bin(site, zone):
    prior, _, truth = site
    x, y = zone_points(zone)
    values = truth.layers(x, y)  # (bins, points)
    n = values.shape[1]
    mu, sigma = zone_prior(prior, zone, "weh_mean_wt_pct"), zone_prior(prior, zone, "weh_std_wt_pct")
    wet = sigma > 0
    z_mean = (values.mean(axis=1)[wet] - mu[wet]) / (sigma[wet] / np.sqrt(n))
    variance = values.var(axis=1, ddof=1)
    fourth = ((values - values.mean(axis=1, keepdims=True)) ** 4).mean(axis=1)
    z_var = (variance[wet] - sigma[wet] ** 2) / np.sqrt((fourth[wet] - variance[wet] ** 2) / n)
    assert np.abs(z_mean).max() < Z_LIMIT, z_mean
    assert np.abs(z_var).max() < Z_LIMIT, z_var
    assert np.allclose(values[~wet], mu[~wet, None], rtol=1e-6)  # dry bins: the background everywhere


def test_patch_fraction_and_lognormal_concentration(site):
    _, params, truth = site
    found = [truth.sample(*zone_points(zone)) for zone in ("surface", "shallow", "deep")]
    concentration = np.concatenate([f.concentration_wt_pct for f in found])
    covered = np.isfinite(concentration)
    p, n = params.patch_fraction, covered.size
    assert abs(covered.mean() - p) / np.sqrt(p * (1 - p) / n) < Z_LIMIT, covered.mean()
    c = concentration[covered]
    # The median: the count below 5 wt% is Binomial(m, 1/2).
    below = (c < params.concentration_median_wt_pct).mean()
    assert abs(below - 0.5) / np.sqrt(0.25 / c.size) < Z_LIMIT, np.median(c)
    ks = stats.kstest(np.log(c), "norm", args=(np.log(params.concentration_median_wt_pct),
                                                 params.concentration_sigma))
    assert ks.pvalue > 1e-3, ks


def test_footprint_averages_match_lunar_prospector(site):
    # Feldman et al. 2001: 1.5 +- 0.8 wt% WEH over south-polar PSRs; the suggested prior puts
    # footprint averages over ice-stable ground at 0.5-1.5 wt%.
    prior, _, truth = site
    averages = {}
    for zone in ("surface", "shallow", "deep"):
        x, y = zone_points(zone)
        column = truth.column(x, y)
        mu, sigma = float(zone_prior(prior, zone, "weh_top1m_mean")), float(zone_prior(prior, zone, "weh_top1m_std"))
        assert abs(column.mean() - mu) / (sigma / np.sqrt(column.size)) < Z_LIMIT, (zone, column.mean(), mu)
        averages[zone] = column.mean()
    assert 0.5 < averages["surface"] < 1.5 and 0.5 < averages["shallow"] < 1.5
    assert 0.5 < np.mean(list(averages.values())) < 1.5  # the whole ice-stable area


def test_ice_never_above_its_stability_depth(site):
    _, params, truth = site
    for zone, depth in ZONES.items():
        s = np.float32(depth)  # the thermal maps are float32
        x, y = zone_points(zone, spacing=3.0)
        found = truth.sample(x, y)
        top = found.ice_top_m[np.isfinite(found.ice_top_m)]
        if np.isnan(s):
            assert top.size == 0
            np.testing.assert_array_equal(truth.weh(x, y, 1.4), params.background_wt_pct)
            continue
        assert (top >= s).all()
        bare = top == 0.0
        assert (top[~bare] >= params.dry_layer_min_m).all() and (top <= max(s, params.dry_layer_max_m)).all()
        if s == 0:
            assert 0.1 < bare.mean() < 0.25  # exposed frost: 0.175 of the patches
        else:
            assert not bare.any()
            np.testing.assert_array_equal(truth.weh(x, y, s - 0.01), params.background_wt_pct)


def test_same_seed_same_truth_other_seed_other_truth(site):
    prior, params, truth = site
    x, y = zone_points("shallow", spacing=2.0)
    again = WaterTruth.from_prior(prior, params, seed=20240601)
    np.testing.assert_array_equal(truth.layers(x, y), again.layers(x, y))
    other = WaterTruth.from_prior(prior, params, seed=20240602).layers(x, y)
    assert not np.array_equal(truth.layers(x, y), other)


def test_any_split_or_order_of_a_query_gives_the_same_values(site):
    _, _, truth = site
    x, y = np.meshgrid(np.arange(12_400.5, 12_640.0, 1.0), np.arange(-30_400.5, -30_480.0, -1.0))
    whole = truth.layers(x, y)
    halves = np.concatenate([truth.layers(x[:, :117], y[:, :117]), truth.layers(x[:, 117:], y[:, 117:])], axis=2)
    np.testing.assert_array_equal(whole, halves)
    order = np.random.default_rng(1).permutation(x.size)
    shuffled = truth.layers(x.ravel()[order], y.ravel()[order])
    np.testing.assert_array_equal(whole.reshape(whole.shape[0], -1)[:, order], shuffled)
    single = np.array([truth.layers(x[7, k], y[7, k]) for k in range(0, x.shape[1], 13)]).T
    np.testing.assert_array_equal(whole[:, 7, ::13], single)


def test_tiled_lookup_equals_brute_force_over_all_discs(site):
    # Every disc of a block of tiles, checked against every point: patches cross tile borders.
    _, params, truth = site
    x, y = np.meshgrid(np.arange(12_020.25, 12_180.0, 0.5), np.arange(-30_020.25, -30_180.0, -0.5))
    x, y = x.ravel(), y.ravel()
    discs = truth._discs(x, y)
    inside = (x[:, None] - discs.x) ** 2 + (y[:, None] - discs.y) ** 2 <= params.patch_radius_m**2
    counted = inside & (discs.thin < 1.0)  # this zone has the full patch fraction, q = 1
    rank = np.where(counted, discs.rank, np.inf)
    expected = np.where(counted.any(axis=1), discs.concentration[np.argmin(rank, axis=1)], np.nan)
    np.testing.assert_array_equal(truth.sample(x, y).concentration_wt_pct, expected)
    tile_of_disc = np.floor(discs.x[np.argmin(rank, axis=1)] / truth.tile_m)
    assert (counted.any(axis=1) & (tile_of_disc != np.floor(x / truth.tile_m))).any()


def test_points_off_the_grid_are_undefined(site):
    _, _, truth = site
    assert np.isnan(truth.weh(ORIGIN[0] - 1.0, ORIGIN[1] - 10.0, 0.5))
    assert np.isnan(truth.column(ORIGIN[0] + 10.0, ORIGIN[1] + 1.0))


def test_counter_random_numbers_are_uniform_and_addressed():
    u = uniform(5, np.arange(-20_000, 20_000), 3)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(u[::-1], uniform(5, np.arange(19_999, -20_001, -1), 3))
    assert not np.array_equal(u, uniform(6, np.arange(-20_000, 20_000), 3))


def test_inconsistent_generator_inputs_are_refused(site):
    prior, params, _ = site
    with pytest.raises(LupexError, match="seed"):
        WaterTruth.from_prior(prior, params, seed=-1)
    wet_everywhere = prior["patch_fraction"].copy(data=np.full(prior["patch_fraction"].shape, 0.2, np.float32))
    with pytest.raises(LupexError, match="patch_fraction"):
        WaterTruth(wet_everywhere, prior["ice_depth_m"], params, 1)
