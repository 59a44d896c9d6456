"""Loss of buried ice through a Knudsen barrier, and the ice-stability depth."""

import numpy as np
import pytest

from lupex.thermal.ice_stability import DiffusionBarrier, loss_rate_at_depth, stability_depth, vapour_table
from lupex.thermal.solver import VAPOUR_TABLE_START_K
from lupex.thermal.sublimation import BOLTZMANN, WATER_MOLECULE_KG, loss_rate_m_per_gyr, vapour_pressure_ice


def _u(temperature_k):
    return vapour_pressure_ice(temperature_k) / np.sqrt(temperature_k)


def test_exposed_ice_loses_what_free_sublimation_gives():
    t = np.array([95.0, 101.0, 110.0, 120.0])
    np.testing.assert_allclose(loss_rate_at_depth(_u(t), 0.0, DiffusionBarrier()), loss_rate_m_per_gyr(t), rtol=1e-12)


def test_knudsen_diffusivity_from_pore_geometry():
    # D = (2/3) r (phi/tau) sqrt(8 k T / (pi m)); 10 um, 0.5 / 2, 100 K: mean speed 342.8 m/s -> 5.71e-4 m^2/s
    barrier = DiffusionBarrier()
    mean_speed = np.sqrt(8 * BOLTZMANN * 100.0 / (np.pi * WATER_MOLECULE_KG))
    assert mean_speed == pytest.approx(342.8, abs=0.1)
    assert barrier.diffusivity_coefficient * 10.0 == pytest.approx(2 / 3 * 1e-5 * 0.25 * mean_speed, rel=1e-12)
    assert barrier.diffusivity_coefficient * 10.0 == pytest.approx(5.71e-4, rel=1e-3)


def test_a_dry_layer_divides_the_loss_by_one_plus_its_resistance():
    barrier = DiffusionBarrier()
    u = _u(110.0)
    ratio = loss_rate_at_depth(u, 0.0, barrier) / loss_rate_at_depth(u, 0.3, barrier)
    surface_resistance = np.sqrt(2 * np.pi * WATER_MOLECULE_KG / BOLTZMANN)  # 1/v_HK times sqrt(T) [s m^-1 K^1/2]
    assert ratio == pytest.approx(1 + 0.3 / (barrier.diffusivity_coefficient * surface_resistance), rel=1e-12)


def test_vapour_table_interpolates_to_1e_5():
    table, step = vapour_table()
    t = np.linspace(90.0, 300.0, 997)
    position = (t - VAPOUR_TABLE_START_K) / step
    m = position.astype(int)
    w = position - m
    interpolated = (1 - w) * table[m] + w * table[m + 1]
    np.testing.assert_allclose(interpolated, _u(t), rtol=1e-5)


def test_stability_depth_of_an_isothermal_column_is_the_closed_form():
    # At a uniform temperature the loss falls as L0 / (1 + z / z1); it reaches the limit at
    # z* = z1 (L0 / limit - 1).
    barrier = DiffusionBarrier()
    z = np.concatenate([[0.0], np.geomspace(1e-4, 1.6, 400)])
    z1 = barrier.diffusivity_coefficient * np.sqrt(2 * np.pi * WATER_MOLECULE_KG / BOLTZMANN)
    for t in (112.0, 118.0, 124.0):
        loss = loss_rate_at_depth(np.full(z.size, _u(t)), z, barrier)
        exact = z1 * (loss[0] / barrier.loss_limit_m_per_gyr - 1)
        assert stability_depth(loss, z) == pytest.approx(exact, rel=0.02)


def test_stability_depth_encodings():
    z = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    losses = np.array([
        [1e-4, 1e-5, 1e-6, 1e-7, 1e-8],  # stable at the surface
        [1e-1, 1e-2, 1e-3 / 10, 1e-5, 1e-6],  # crosses 1 mm/Gyr between 0.5 and 1.0 m
        [1.0, 1.0, 1.0, 1.0, 1e-6],  # only below the 1.5 m reach
    ])
    depth = stability_depth(losses, z)
    assert depth[0] == 0.0
    # log-linear between 1e-2 at 0.5 m and 1e-4 at 1.0 m: 1e-3 halfway
    assert depth[1] == pytest.approx(0.75)
    assert np.isnan(depth[2])


@pytest.mark.parametrize("field,value", [("porosity", 1.0), ("tortuosity", 0.5), ("pore_radius_m", -1e-5)])
def test_unphysical_barriers_are_refused(field, value):
    with pytest.raises(ValueError):
        DiffusionBarrier(**{field: value})
