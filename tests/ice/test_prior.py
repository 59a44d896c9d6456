"""The water prior against hand-computed moments and the Lunar Prospector average."""

import numpy as np
import pytest
import xarray as xr
from affine import Affine

from lupex.errors import LupexError
from lupex.ice.params import IceParams
from lupex.ice.prior import water_prior
from lupex.raster import grid_array, polar_crs

STABILITY_M = [0.0, 0.1, 0.25, 0.4, 0.8, np.nan]


def thermal_row(depths) -> xr.Dataset:
    """A one-row thermal dataset whose pixels have the given ice-stability depths [m]."""
    s = np.array([depths], dtype=np.float32)
    grid = grid_array(s, Affine(20.0, 0.0, 0.0, 0.0, -20.0, 20.0), polar_crs(), "ice_depth_m", "m")
    return xr.Dataset({"ice_depth_m": grid})


@pytest.fixture(scope="module")
def prior():
    return water_prior(thermal_row(STABILITY_M), IceParams())


def test_partial_bin_against_a_hand_integral(prior):
    # s = 0.25 m, bin [0.2, 0.3), d ~ U(0.1, 0.5), t = max(d, s): P(t = 0.25) = 0.375 leaves half the
    # bin below the ice; t ~ U(0.25, 0.5) adds int_0.25^0.3 (0.3 - t) / 0.1 dt / 0.4 = 0.03125.
    params = IceParams()
    mean_c, _ = params.concentration_moments()
    expected = params.background_wt_pct + params.patch_fraction * (mean_c - params.background_wt_pct) * 0.21875
    assert float(prior["weh_mean_wt_pct"].isel(depth=2, x=2, y=0)) == pytest.approx(expected, rel=1e-5)


def test_deep_bins_carry_the_full_mixture(prior):
    params = IceParams()
    mean_c, mean_c2 = params.concentration_moments()
    b, p = params.background_wt_pct, params.patch_fraction
    deep = prior.isel(depth=-1, y=0, x=slice(0, 5))
    np.testing.assert_allclose(deep["weh_mean_wt_pct"], b + p * (mean_c - b), rtol=1e-6)
    variance = p * (mean_c2 - 2 * b * mean_c + b * b) - (p * (mean_c - b)) ** 2
    np.testing.assert_allclose(deep["weh_std_wt_pct"], np.sqrt(variance), rtol=1e-5)


def test_no_ice_above_the_stability_depth_or_where_none_is_stable(prior):
    background = np.float32(IceParams().background_wt_pct)  # the prior is stored as float32
    above = prior["depth_bottom"] <= 0.8
    np.testing.assert_array_equal(prior["weh_mean_wt_pct"].isel(y=0, x=4).where(above, drop=True), background)
    np.testing.assert_array_equal(prior["weh_std_wt_pct"].isel(y=0, x=4).where(above, drop=True), 0.0)
    dry = prior.isel(y=0, x=5)
    np.testing.assert_array_equal(dry["weh_mean_wt_pct"], background)
    np.testing.assert_array_equal(dry["weh_std_wt_pct"], 0.0)
    assert float(dry["ice_probability"]) == 0.0 and np.isnan(float(dry["ice_top_mean_m"]))


def test_surface_bin_is_wet_only_through_exposed_frost():
    params = IceParams(exposed_frost_probability=0.0)
    surface = water_prior(thermal_row([0.0]), params)["weh_mean_wt_pct"].isel(depth=0)
    assert float(surface.squeeze()) == pytest.approx(params.background_wt_pct)  # the lag is >= 10 cm thick
    frosty = water_prior(thermal_row([0.0]), IceParams())["weh_mean_wt_pct"].isel(depth=0)
    assert float(frosty.squeeze()) > params.background_wt_pct + 0.1


def test_lunar_prospector_average_over_ice_stable_ground(prior):
    # Feldman et al. 2001: 1.5 +- 0.8 wt% WEH over south-polar PSRs, ice within ~0.5 m of the surface.
    shallow = prior["weh_top1m_mean"].isel(y=0, x=slice(0, 4)).values
    assert ((shallow > 0.5) & (shallow < 1.5)).all(), shallow
    assert float(prior["weh_top1m_mean"].isel(y=0, x=4)) < float(shallow.min())  # ice at 0.8 m is mostly unseen


def test_ice_probability_and_ice_top(prior):
    params = IceParams()
    np.testing.assert_allclose(prior["ice_probability"].isel(y=0, x=slice(0, 5)), params.patch_fraction, rtol=1e-6)
    tops = prior["ice_top_mean_m"].isel(y=0).values
    # s = 0.8 m: the lag is always thinner, the ice top sits at the stability depth.
    assert tops[4] == pytest.approx(0.8)
    # s = 0.1 m: E[max(d, s)] = E[d] = 0.3 m.
    assert tops[1] == pytest.approx(0.3)
    assert tops[0] == pytest.approx((1 - params.exposed_frost_probability) * 0.3)


def test_damaged_stability_maps_are_refused():
    with pytest.raises(LupexError, match="ice_depth_m"):
        water_prior(thermal_row([-0.5, 0.2]), IceParams())
