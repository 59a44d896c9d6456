"""The rover's thermal state: its warm box (avionics and battery) as one lumped node.

The box gains the heat its electronics dissipate, the sunlight its blankets let through and its
heaters' power, and loses heat through a louvred radiator to a cold sink:

    C dT/dt = Q_electronics + Q_sun + Q_heater - G(T) (T - T_sink)

a single-node model of the kind spacecraft thermal engineers size a design with before a
detailed network (Gilmore 2002, *Spacecraft Thermal Control Handbook*, ch. 2 and 6). The
louvres' conductance G rises linearly from shut to open between two box temperatures
(ch. 6, louvres). Both ends are sized from the rover's own figures, so the model needs no
further assumption:

- shut: hibernation plus the survival heaters hold the box at its survival temperature in
  shadow, ``G_shut = (P_hibernation + P_heaters) / (T_survival - T_sink)``;
- open: awake, transmitting, in full Sun at 1 AU, the box stays at its operating maximum,
  ``G_open = (P_idle + P_transmit + aA S0) / (T_max - T_sink)``.

The heaters are a thermostat: they add what the box needs to stay at its survival temperature,
at most their rated power. Over a tick G is held at its value at the tick's middle (from a
first pass at its start's value) and the linear equation is integrated exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lupex.constants import AU_KM, SOLAR_CONSTANT_W_M2
from lupex.rover.model import RoverConfig

__all__ = ["ThermalBox", "box_conductances"]

KELVIN = 273.15


def box_conductances(rover: RoverConfig) -> tuple[float, float]:
    """The radiator's conductance to the sink with the louvres shut and open [W K^-1]."""
    th, loads = rover.thermal, rover.loads
    shut = (loads.hibernation_w + th.survival_heater_w) / (th.survival_temp_c + KELVIN - th.sink_temp_k)
    hot = loads.idle_w + rover.comms.transmit_w + th.sun_absorbing_area_m2 * SOLAR_CONSTANT_W_M2
    return shut, max(shut, hot / (th.max_operating_temp_c + KELVIN - th.sink_temp_k))


@dataclass
class ThermalBox:
    """The warm box's temperature, stepped tick by tick.

    Attributes
    ----------
    rover : RoverConfig
        The rover (its ``thermal`` and ``loads`` sections).
    temp_k : float
        Box temperature [K].
    """

    rover: RoverConfig
    temp_k: float = float("nan")

    def __post_init__(self) -> None:
        if math.isnan(self.temp_k):
            self.temp_k = self.rover.thermal.initial_temp_c + KELVIN
        self._shut_w_k, self._open_w_k = box_conductances(self.rover)

    @property
    def temp_c(self) -> float:
        """Box temperature [degC]."""
        return self.temp_k - KELVIN

    def conductance_w_k(self, temp_k: float) -> float:
        """The radiator's conductance at box temperature ``temp_k``: louvres between shut and open [W K^-1]."""
        th = self.rover.thermal
        opening = (temp_k - KELVIN - th.louvre_closed_c) / (th.louvre_open_c - th.louvre_closed_c)
        return self._shut_w_k + (self._open_w_k - self._shut_w_k) * min(1.0, max(0.0, opening))

    def step(self, electronics_w: float, sun_fraction: float, sun_distance_km: float, seconds: float) -> float:
        """Advance ``seconds`` [s] and return the heaters' mean power over the step [W].

        Parameters
        ----------
        electronics_w : float
            Power dissipated inside the box [W] (the motors of the wheels and the drill are outside).
        sun_fraction : float
            Visible fraction of the solar disk [-].
        sun_distance_km : float
            Distance to the Sun [km].
        seconds : float
            Step [s].
        """
        th = self.rover.thermal
        capacity = th.box_heat_capacity_j_k
        sun_w = th.sun_absorbing_area_m2 * SOLAR_CONSTANT_W_M2 * (AU_KM / sun_distance_km) ** 2 * sun_fraction

        def after(heater_w: float, g: float) -> float:
            settled = th.sink_temp_k + (electronics_w + sun_w + heater_w) / g
            return settled + (self.temp_k - settled) * math.exp(-g * seconds / capacity)

        start_g = self.conductance_w_k(self.temp_k)
        g = self.conductance_w_k(0.5 * (self.temp_k + after(0.0, start_g)))  # at the step's middle
        decay = math.exp(-g * seconds / capacity)

        floor = th.survival_temp_c + KELVIN
        heater_w = 0.0
        if after(0.0, g) < floor:  # the power that ends the step exactly at the floor, within the rating
            heater_w = min(th.survival_heater_w, (floor - after(0.0, g)) * g / (1.0 - decay))
        self.temp_k = after(heater_w, g)
        return heater_w
