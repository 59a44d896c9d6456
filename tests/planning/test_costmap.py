"""Costmaps from terrain: the energy per metre in closed form, the slope and rock limits, and
the PSR entry rule against distances measured by hand."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from lupex.constants import MOON_GRAVITY_M_S2
from lupex.planning.costmap import CostmapConfig, costmap, forbidden_reason, psr_reach_m
from lupex.raster import centered_polar_transform, grid_array, polar_crs
from lupex.rover.model import RoverConfig
from lupex.terrain.derive import HazardConfig

ROVER = RoverConfig()


def layers(slope, roughness=0.0, hazard=0.0, shape=(20, 30), pixel_m=20.0) -> xr.Dataset:
    def grid(value, name):
        transform = centered_polar_transform(-89.5, 0.0, shape[1], pixel_m)
        values = np.broadcast_to(np.asarray(value, dtype=np.float32), shape).copy()
        return grid_array(values, transform, polar_crs(), name, "1")
    return xr.Dataset({"slope": grid(slope, "slope"), "roughness": grid(roughness, "roughness"),
                       "hazard": grid(hazard, "hazard")})


def flat_energy_j_per_m(rover: RoverConfig) -> float:
    """``(m g v C_rr / eta + P_avionics) / v`` on level ground, written out by hand [J/m]."""
    m = rover.mobility
    return (rover.mass_kg * MOON_GRAVITY_M_S2 * m.nominal_speed_m_s * m.rolling_resistance / m.drive_efficiency
            + m.avionics_w) / m.nominal_speed_m_s


def test_level_ground_costs_the_driving_energy_per_metre():
    cost = costmap(layers(0.0), ROVER)
    assert cost.attrs["units"] == "J/m"
    np.testing.assert_allclose(cost.values, flat_energy_j_per_m(ROVER), rtol=1e-12)
    assert flat_energy_j_per_m(ROVER) == pytest.approx(1970.6, abs=0.1)  # 98.53 W at 0.05 m/s


def test_slope_cost_averages_up_and_down_the_fall_line():
    m = ROVER.mobility
    s = np.radians(10.0)
    weight = ROVER.mass_kg * MOON_GRAVITY_M_S2 * m.nominal_speed_m_s
    up = weight * (m.rolling_resistance * np.cos(s) + np.sin(s)) / m.drive_efficiency + m.avionics_w
    down = max(weight * (m.rolling_resistance * np.cos(s) - np.sin(s)), 0.0) / m.drive_efficiency + m.avionics_w
    cost = costmap(layers(10.0), ROVER)
    np.testing.assert_allclose(cost.values, (up + down) / 2 / m.nominal_speed_m_s, rtol=1e-6)


def test_penalties_double_the_cost_at_their_scales():
    hazards = HazardConfig()
    cost = costmap(layers(0.0, roughness=1.0, hazard=hazards.max_rock_density_per_100m2), ROVER, hazards)
    np.testing.assert_allclose(cost.values, 4 * flat_energy_j_per_m(ROVER), rtol=1e-6)


def test_slope_beyond_the_planning_limit_and_rocks_beyond_the_hazard_limit_are_forbidden():
    slope = np.zeros((20, 30))
    slope[:, 10] = ROVER.mobility.planning_slope_deg  # at the limit: allowed
    slope[:, 11] = ROVER.mobility.planning_slope_deg + 0.01
    hazard = np.zeros((20, 30))
    hazard[5, :] = HazardConfig().max_rock_density_per_100m2 + 0.1
    slope[7, 3] = np.nan
    cost = costmap(layers(slope, hazard=hazard), ROVER).values
    assert np.isfinite(cost[:, 10][np.arange(20) != 5]).all() and np.isfinite(cost[0, 10])
    assert np.isinf(cost[:, 11]).all()
    assert np.isinf(cost[5]).all()
    assert np.isinf(cost[7, 3])
    assert np.isfinite(cost).sum() == 20 * 30 - 20 - 29 - 1
    grid = layers(slope, hazard=hazard)
    assert forbidden_reason(grid, (0, 10), ROVER) is None
    assert forbidden_reason(grid, (0, 11), ROVER).startswith("its slope 20.0 deg exceeds the rover's planning limit 20")
    assert forbidden_reason(grid, (5, 0), ROVER).startswith("it has 5.1 obstacle rocks per 100 m^2")
    assert forbidden_reason(grid, (7, 3), ROVER) == "it is nodata"


def test_psr_cells_beyond_the_shadow_reach_are_forbidden():
    pixel_m = 20.0
    reach = psr_reach_m(ROVER, CostmapConfig())
    assert reach == pytest.approx(0.05 * 24 * 3600 / 2)  # 2160 m in and out within 24 h
    shape = (301, 301)
    psr = np.zeros(shape, dtype=np.uint8)
    psr[:, 50:] = 1  # a shadowed half-plane; the lit ground ends at column 49
    grid = layers(0.0, shape=shape, pixel_m=pixel_m)
    cost = costmap(grid, ROVER, psr=grid["slope"].copy(data=psr)).values
    depth_m = (np.arange(301) - 49) * pixel_m  # distance to the nearest lit pixel centre
    expected = (depth_m <= reach) | (np.arange(301) < 50)
    np.testing.assert_array_equal(np.isfinite(cost[150]), expected)
    closed = costmap(grid, ROVER, psr=grid["slope"].copy(data=psr), config=CostmapConfig(psr_reach_fraction=0.0))
    assert np.isinf(closed.values[:, 50:]).all() and np.isfinite(closed.values[:, :50]).all()
    shadow = grid["slope"].copy(data=psr)
    assert forbidden_reason(grid, (150, 49 + 108), ROVER, psr=shadow, pixel_m=pixel_m) is None  # 2160 m deep
    assert "more than 2160 m from sunlit ground" in forbidden_reason(grid, (150, 49 + 109), ROVER, psr=shadow,
                                                                      pixel_m=pixel_m)
