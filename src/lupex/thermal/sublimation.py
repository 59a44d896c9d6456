"""How fast exposed water ice sublimates into vacuum.

Vapour pressure of hexagonal ice: Murphy & Koop (2005, Q. J. R. Meteorol. Soc. 131, eq. 7),
``ln p = 9.550426 - 5723.265/T + 3.53068 ln T - 0.00728332 T`` [Pa] (fitted above 110 K,
extrapolated below, as the lunar literature does). Free sublimation into vacuum follows the
Hertz-Knudsen relation ``E = p sqrt(m / (2 pi k T))`` [kg m^-2 s^-1] (e.g. Schorghofer &
Williams 2020, PSJ 1). Ice counts as stable where it loses less than 1 mm per billion years
(Siegler et al. 2016): about 101 K for bare ice.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

__all__ = ["ICE_DENSITY", "STABILITY_LOSS_M_PER_GYR", "loss_rate_m_per_gyr", "stability_temperature",
           "vapour_pressure_ice"]

BOLTZMANN = 1.380649e-23
"""Boltzmann constant [J K^-1] (SI 2019)."""

WATER_MOLECULE_KG = 18.01528 * 1.66053906660e-27
"""Mass of a water molecule [kg]."""

ICE_DENSITY = 920.0
"""Density of ice Ih at lunar cold-trap temperatures [kg m^-3]."""

SECONDS_PER_GYR = 1e9 * 365.25 * 86400.0
"""Seconds in a billion Julian years [s]."""

STABILITY_LOSS_M_PER_GYR = 1e-3
"""Loss below which ice is stable: 1 mm per billion years (Siegler et al. 2016)."""


def vapour_pressure_ice(temperature_k: ArrayLike) -> NDArray:
    """Saturation vapour pressure over hexagonal ice [Pa] (Murphy & Koop 2005, eq. 7)."""
    t = np.asarray(temperature_k, dtype=float)
    return np.exp(9.550426 - 5723.265 / t + 3.53068 * np.log(t) - 0.00728332 * t)


def loss_rate_m_per_gyr(temperature_k: ArrayLike) -> NDArray:
    """Thickness of exposed ice sublimated per billion years at a temperature [m Gyr^-1]."""
    t = np.asarray(temperature_k, dtype=float)
    flux = vapour_pressure_ice(t) * np.sqrt(WATER_MOLECULE_KG / (2.0 * np.pi * BOLTZMANN * t))
    return flux / ICE_DENSITY * SECONDS_PER_GYR


def stability_temperature(loss_m_per_gyr: float = STABILITY_LOSS_M_PER_GYR) -> float:
    """Temperature at which exposed ice loses exactly ``loss_m_per_gyr`` [K]."""
    return float(optimize.brentq(lambda t: np.log(loss_rate_m_per_gyr(t) / loss_m_per_gyr), 50.0, 200.0))
