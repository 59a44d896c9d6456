"""Thermal maps: every pixel equals its own column solved alone, terrain radiation only adds
heat, the maps' coarser grid stays within its stated error, and the ice layers follow."""

import numpy as np
import pytest

from lupex.errors import LupexError
from lupex.sky.horizon import DemHorizons
from lupex.sky.illumination import tilt_terms
from lupex.sky.tracks import epochs, sun_earth_tracks
from lupex.terrain.surface import slope_aspect
from lupex.terrain.synth import SynthConfig, synthesize
from lupex.thermal.forcing import SunForcing, absorbed_series, albedo_coefficients, facet_angles
from lupex.thermal.ice_stability import DiffusionBarrier, loss_rate_at_depth, stability_depth
from lupex.thermal.maps import LUNATION_S, MAP_REGOLITH, ThermalMapConfig, thermal_maps
from lupex.thermal.point import FacetConfig, absorbed_flux
from lupex.thermal.regolith import RegolithParams, run_to_equilibrium

STEP_H = 12.0


@pytest.fixture(scope="module")
def site():
    dem = synthesize(SynthConfig(size=24, resolution_m=60.0, center_lat=-89.6, center_lon=30.0, seed=5)).dem
    horizon = DemHorizons(dem).cube(np.arange(0.0, 360.0, 5.0)).values
    return dem, horizon


@pytest.fixture(scope="module")
def direct_only(site):
    dem, horizon = site
    config = ThermalMapConfig(step_h=STEP_H, terrain_cells=0, tolerance_k=0.01)
    return config, *thermal_maps(dem, horizon, config)


def _pixel_forcing(dem, horizon, config, row, col):
    x, y = dem["x"].values, dem["y"].values
    reference = (float(x.mean()), float(y.mean()))
    start = np.datetime64("2028-01-01T00:00:00", "ns")
    times = epochs(start, start + np.timedelta64(int(346.62 * 86400), "s"), STEP_H)[:-1]
    sun = SunForcing.from_track(sun_earth_tracks(reference, float(np.nanmedian(dem.values)), times, STEP_H)["sun"],
                                horizon.shape[0])
    dx, dy, cx, cy = tilt_terms(x, y, reference, horizon.shape[0])
    facets = facet_angles(*slope_aspect(dem))
    out = np.empty(times.size)
    absorbed_series(np.ascontiguousarray(horizon[:, row, col], dtype=np.float32), dx[col], dy[row], cx, cy,
                    facets[row, col], albedo_coefficients(config.regolith), *sun.kernel_args(), out)
    return out, sun.step_s


def test_each_pixel_is_its_own_column_solved_alone(site, direct_only):
    dem, horizon = site
    config, maps, subsurface = direct_only
    for row, col in [(0, 0), (5, 17), (12, 12), (23, 9)]:
        forcing, dt = _pixel_forcing(dem, horizon, config, row, col)
        alone = run_to_equilibrium(forcing, dt, config.regolith, period_s=LUNATION_S, tolerance_k=0.01,
                                   min_depth_m=1.5)
        # Both are converged to 0.01 K from different starting points.
        assert maps["tmax"].values[row, col] == pytest.approx(alone.surface_k.max(), abs=0.05)
        assert maps["tmean"].values[row, col] == pytest.approx(alone.surface_k.mean(), abs=0.05)
        n = subsurface.sizes["depth"]
        np.testing.assert_allclose(subsurface["t_mean"].values[:, row, col], alone.mean_profile_k[:n], atol=0.05)
        loss = loss_rate_at_depth(alone.vapour_mean[:n], alone.grid.z[:n], DiffusionBarrier())
        expected = stability_depth(loss, alone.grid.z[:n])
        got = maps["ice_depth_m"].values[row, col]
        assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, abs=0.01)


def test_ice_layers_follow_from_the_temperatures(direct_only):
    _, maps, subsurface = direct_only
    np.testing.assert_array_equal(maps["cold_trap"].values, (maps["tmax"].values < 110.0).astype(np.uint8))
    assert np.all(maps["tmin"].values <= maps["tmean"].values)
    assert np.all(maps["tmean"].values <= maps["tmax"].values)
    # Ice stable at the surface only where exposed ice loses < 1 mm/Gyr: never above ~101 K all season.
    surface_stable = maps["ice_depth_m"].values == 0
    assert np.all(maps["tmax"].values[surface_stable] < 115.0)
    depth = maps["ice_depth_m"].values
    assert np.nanmax(depth) <= 1.5
    loss = subsurface["ice_loss_m_per_gyr"].values
    assert np.all(np.diff(subsurface["depth"].values) > 0)
    # Where no depth keeps ice, every node down to 1.5 m loses more than the limit.
    none = np.isnan(depth)
    within = subsurface["depth"].values <= 1.5
    assert np.all(loss[within][:, none] >= 1e-3)


def test_terrain_radiation_only_adds_heat(site, direct_only):
    dem, horizon = site
    config, maps, _ = direct_only
    with_terrain, _ = thermal_maps(dem, horizon, config.model_copy(update={"terrain_cells": 6}))
    gain = with_terrain["tmean"].values - maps["tmean"].values
    assert gain.min() > -0.05
    assert gain.max() > 0.5  # the coldest pixels, lit only by their neighbours, warm most
    coldest = maps["tmean"].values < np.percentile(maps["tmean"].values, 10)
    assert gain[coldest].mean() > gain[~coldest].mean()


@pytest.mark.parametrize("lat,slope,aspect", [(-85.0, 0.0, 0.0), (-88.0, 20.0, 0.0), (-88.0, 20.0, 180.0)])
def test_the_maps_grid_stays_close_to_hayne_2017s(lat, slope, aspect):
    # MAP_REGOLITH's docstring: surface maximum and mean within 0.5 K, the 1.5 m mean within 1 K.
    forcing, dt = absorbed_flux(FacetConfig(lat=lat, slope_deg=slope, aspect_deg=aspect, step_h=4.0))
    fine = run_to_equilibrium(forcing, dt, RegolithParams(), period_s=LUNATION_S, tolerance_k=0.01, min_depth_m=1.5)
    coarse = run_to_equilibrium(forcing, dt, MAP_REGOLITH, period_s=LUNATION_S, tolerance_k=0.01, min_depth_m=1.5)
    assert coarse.surface_k.max() == pytest.approx(fine.surface_k.max(), abs=0.5)
    assert coarse.surface_k.mean() == pytest.approx(fine.surface_k.mean(), abs=0.5)
    at_fine = np.interp(1.5, fine.grid.z, fine.mean_profile_k)
    at_coarse = np.interp(1.5, coarse.grid.z, coarse.mean_profile_k)
    assert at_coarse == pytest.approx(at_fine, abs=1.0)


def test_a_partial_regolith_table_keeps_the_maps_grid():
    config = ThermalMapConfig(regolith={"albedo": 0.2})
    assert config.regolith.albedo == 0.2
    assert config.regolith.layers_per_skin == MAP_REGOLITH.layers_per_skin


def test_a_dem_with_holes_is_refused_before_any_work(site):
    dem, horizon = site
    holed = dem.copy()
    holed.values[3, 4] = np.nan
    with pytest.raises(LupexError, match="missing"):
        thermal_maps(holed, horizon, ThermalMapConfig(terrain_cells=0))
    with pytest.raises(LupexError, match="grid"):
        thermal_maps(dem, horizon[:, :10], ThermalMapConfig(terrain_cells=0))
