"""The warm box's lumped thermal model against its closed forms and a fine ODE integration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from lupex.constants import AU_KM, SOLAR_CONSTANT_W_M2
from lupex.rover.model import RoverConfig
from lupex.sim.thermal_box import KELVIN, ThermalBox, box_conductances

ROVER = RoverConfig()
TH = ROVER.thermal
TICK_S = 900.0


def test_the_louvres_are_sized_by_the_rovers_own_figures():
    shut, open_ = box_conductances(ROVER)
    # hibernation (30 W) and heaters (30 W) hold -20 degC against a 100 K sink: 60 / 153.15 W/K
    assert shut == pytest.approx(60.0 / (253.15 - 100.0))
    # awake (60 W), transmitting (45 W), 0.05 m^2 of full Sun at 1 AU hold 40 degC
    assert open_ == pytest.approx((60.0 + 45.0 + 0.05 * SOLAR_CONSTANT_W_M2) / (313.15 - 100.0))


def test_a_hibernating_box_in_shadow_settles_at_its_survival_temperature_on_full_heaters():
    box = ThermalBox(ROVER)
    for _ in range(2000):
        heater = box.step(ROVER.loads.hibernation_w, 0.0, AU_KM, TICK_S)
    assert box.temp_c == pytest.approx(TH.survival_temp_c, abs=1e-9)
    assert heater == pytest.approx(TH.survival_heater_w, rel=1e-6)


def test_an_awake_transmitting_box_in_full_sun_settles_at_its_operating_maximum():
    box = ThermalBox(ROVER)
    for _ in range(2000):
        heater = box.step(ROVER.loads.idle_w + ROVER.comms.transmit_w, 1.0, AU_KM, TICK_S)
    assert heater == 0.0
    assert box.temp_c == pytest.approx(TH.max_operating_temp_c, abs=1e-6)


def test_with_shut_louvres_the_temperature_follows_the_exponential_exactly():
    box = ThermalBox(ROVER, temp_k=TH.louvre_closed_c + KELVIN - 1.0)  # shut; the box only cools from here
    g, _ = box_conductances(ROVER)
    q = 65.0  # electronics [W]: it settles above the survival temperature, with no heaters
    settled = TH.sink_temp_k + q / g
    start = box.temp_k
    for _ in range(96):
        assert box.step(q, 0.0, AU_KM, TICK_S) == 0.0
    expected = settled + (start - settled) * np.exp(-g * 96 * TICK_S / TH.box_heat_capacity_j_k)
    assert box.temp_k == pytest.approx(expected, rel=1e-12)


def test_cooling_into_shadow_matches_a_fine_integration_of_the_ode():
    """From 20 degC, hibernating in shadow: heaters stay off until the box reaches its survival temperature."""
    box = ThermalBox(ROVER)
    temps, heaters = [], []
    for _ in range(4 * 48):
        heaters.append(box.step(ROVER.loads.hibernation_w, 0.0, AU_KM, TICK_S))
        temps.append(box.temp_k)
    floor = TH.survival_temp_c + KELVIN

    def rate(_, t):
        return [(ROVER.loads.hibernation_w - box.conductance_w_k(t[0]) * (t[0] - TH.sink_temp_k))
                / TH.box_heat_capacity_j_k]

    hit = lambda _, t: t[0] - floor  # noqa: E731
    hit.terminal = True
    reference = solve_ivp(rate, (0.0, 48 * 3600.0), [TH.initial_temp_c + KELVIN], events=hit, rtol=1e-10,
                          atol=1e-8, t_eval=np.arange(1, 4 * 48 + 1) * TICK_S)
    reached_s = float(reference.t_events[0][0])
    first_heater_tick = int(np.flatnonzero(np.asarray(heaters) > 0)[0])
    assert first_heater_tick == int(reached_s // TICK_S)  # the heaters start in the tick the floor is reached
    n = reference.y.shape[1]  # ticks before the floor: the tick-wise louvres stay within 0.02 K of the ODE
    assert np.max(np.abs(np.asarray(temps[:n]) - reference.y[0])) < 0.02
    assert min(temps) == pytest.approx(floor, abs=1e-9)
    assert 5.0 < reached_s / 3600.0 < 30.0  # hours of free shadow before the heaters are needed
