"""The Hayne et al. (2017) regolith model against their published equatorial temperatures."""

import numpy as np
import pytest

from lupex.errors import LupexError
from lupex.thermal.regolith import STEFAN_BOLTZMANN, RegolithParams, albedo, heat_capacity, run_to_equilibrium

LUNATION_S = 29.530589 * 86400.0


@pytest.fixture(scope="module")
def equator():
    """Flat regolith on the equator at 1 au, 2880 steps per lunation, spun up to 1 mK."""
    steps = 2880
    hour_angle = 2 * np.pi * (np.arange(steps) + 0.5) / steps  # 0 at noon
    cos_i = np.cos(hour_angle)
    incidence = np.degrees(np.arccos(np.clip(cos_i, 0.0, 1.0)))
    params = RegolithParams()
    absorbed = np.where(cos_i > 0, 1361.0 * cos_i * (1 - albedo(incidence, params)), 0.0)
    run = run_to_equilibrium(absorbed, LUNATION_S / steps, params, tolerance_k=1e-3)
    return hour_angle, absorbed, params, run


def _at(hour_angle, surface, angle):
    return surface[np.argmin(np.abs(np.angle(np.exp(1j * (hour_angle - angle)))))]


def test_equatorial_temperatures_of_hayne_2017_table_a2(equator):
    hour_angle, _, _, run = equator
    # Hayne et al. 2017, Table A2: noon 385 K, midnight 101 K, pre-dawn 95 K (+-5 K).
    assert _at(hour_angle, run.surface_k, 0.0) == pytest.approx(385.0, abs=5.0)
    assert _at(hour_angle, run.surface_k, np.pi) == pytest.approx(101.0, abs=5.0)
    assert _at(hour_angle, run.surface_k, -np.pi / 2 - 0.01) == pytest.approx(95.0, abs=5.0)


def test_surface_energy_balance_over_a_cycle(equator):
    # At equilibrium, what the surface absorbs plus the geothermal flux is radiated away.
    _, absorbed, params, run = equator
    emitted = params.emissivity * STEFAN_BOLTZMANN * np.mean(run.surface_k**4)
    assert emitted == pytest.approx(absorbed.mean() + params.geothermal_flux, rel=2e-3)


def test_deep_temperature_rises_with_the_geothermal_gradient(equator):
    _, _, params, run = equator
    profile = run.mean_profile_k  # cycle means: the diurnal wave averages out
    deep = run.grid.z > 0.3
    gradient = np.polyfit(run.grid.z[deep], profile[deep], 1)[0]
    k_deep = run.grid.contact_conductivity[deep].mean() * (1 + params.chi * (profile[deep].mean() / 350) ** 3)
    assert gradient == pytest.approx(params.geothermal_flux / k_deep, rel=0.1)
    assert 240 < run.mean_profile_k[-1] < 265  # Hayne 2017 Fig. A3: ~250 K at depth on the equator


def test_grid_follows_the_skin_depth():
    run_grid = run_to_equilibrium(np.zeros(10), 100.0, max_cycles=3000, tolerance_k=1e9).grid
    growth = np.diff(run_grid.z)[1:] / np.diff(run_grid.z)[:-1]
    np.testing.assert_allclose(growth, 1.2)
    # Hayne 2017 eq. A6 at 250 K: 34.80 - 192.81 + 147.60 + 685.78 - 3.61
    assert heat_capacity(250.0) == pytest.approx(671.75, abs=0.01)


def test_no_convergence_is_an_error():
    with pytest.raises(LupexError, match="did not converge"):
        run_to_equilibrium(np.full(100, 300.0), 3600.0, tolerance_k=1e-9, max_cycles=2)


@pytest.mark.parametrize("field,value", [("albedo", -0.1), ("h_parameter_m", 0.0), ("emissivity", 1.2)])
def test_unphysical_parameters_are_refused(field, value):
    with pytest.raises(ValueError):
        RegolithParams(**{field: value})
