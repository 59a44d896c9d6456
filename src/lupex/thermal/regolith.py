"""The 1-D regolith heat-conduction model of Hayne et al. (2017, JGR Planets 122, 2371-2400).

Density and contact conductivity rise with depth on an e-folding scale ``H`` (their eqs. A2,
A4); conductivity grows with temperature by the radiative term ``k = k_c (1 + chi (T/350)^3)``
(eq. A5); heat capacity follows the polynomial fit to Hemingway et al. (1981) and Ledlow
et al. (1992) (eq. A6); albedo rises with the incidence angle as
``A = A0 + a (theta/45)^3 + b (theta/90)^8`` (Keihm 1984; eq. A7). The surface absorbs sunlight
and radiates as a grey body, the bottom receives the geothermal flux.

Numerics: nodes on a grid that is fine at the surface and grows geometrically with depth
(first layer ``z_s / m``, growth ``1 + 1/n``, down to ``b z_s``, ``z_s`` the skin depth of the
forcing period; Hayne et al. 2017, appendix A2); the time stepping (Crank-Nicolson with
properties extrapolated to the half step, the surface balance solved by Newton's method at
the new time) and the accelerated spin-up to a periodic state are in
:mod:`lupex.thermal.solver`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from lupex.errors import LupexError
from lupex.thermal.ice_stability import vapour_table
from lupex.thermal.solver import CYCLE_STATS, equilibrate, initial_profile

__all__ = [
    "STEFAN_BOLTZMANN",
    "Grid",
    "RegolithParams",
    "ThermalRun",
    "albedo",
    "heat_capacity",
    "make_grid",
    "run_to_equilibrium",
]

STEFAN_BOLTZMANN = 5.670374419e-8
"""Stefan-Boltzmann constant [W m^-2 K^-4] (CODATA 2018)."""

HEAT_CAPACITY_COEFFS = (8.9093e-9, -1.234e-5, 2.3616e-3, 2.7431, -3.6125)
"""c_p(T) polynomial, highest power first [J kg^-1 K^-1] (Hayne et al. 2017, eq. A6)."""


class RegolithParams(BaseModel):
    """Thermophysical properties of lunar regolith (Hayne et al. 2017, Table A1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    density_surface: float = Field(1100.0, gt=0, description="Density at the surface [kg m^-3].")
    density_deep: float = Field(1800.0, gt=0, description="Density at depth [kg m^-3].")
    conductivity_surface: float = Field(7.4e-4, gt=0, description="Contact conductivity at the surface [W m^-1 K^-1].")
    conductivity_deep: float = Field(3.4e-3, gt=0, description="Contact conductivity at depth [W m^-1 K^-1].")
    h_parameter_m: float = Field(0.06, gt=0, description="e-folding depth H of density and conductivity [m] "
                                 "(0.06 m global mean, Hayne et al. 2017).")
    chi: float = Field(2.7, ge=0, description="Radiative conductivity parameter at 350 K [-].")
    albedo: float = Field(0.12, ge=0, lt=1, description="Normal bond albedo A0 [-].")
    albedo_a: float = Field(0.06, ge=0, description="Albedo coefficient a of (theta/45)^3 [-] (Keihm 1984).")
    albedo_b: float = Field(0.25, ge=0, description="Albedo coefficient b of (theta/90)^8 [-] (Keihm 1984).")
    emissivity: float = Field(0.95, gt=0, le=1, description="Infrared emissivity [-].")
    geothermal_flux: float = Field(0.018, ge=0, description="Heat flux from below [W m^-2] (Langseth et al. 1976).")
    layers_per_skin: float = Field(10.0, gt=1, description="m: the first layer is z_s / m thick [-].")
    growth_n: float = Field(5.0, gt=0, description="n: each layer is (1 + 1/n) times the one above [-].")
    skins_deep: float = Field(20.0, gt=1, description="b: the grid reaches b skin depths [-].")


def heat_capacity(temperature_k: ArrayLike) -> NDArray:
    """Specific heat capacity of regolith [J kg^-1 K^-1] (Hayne et al. 2017, eq. A6; T >~ 10 K)."""
    return np.polyval(HEAT_CAPACITY_COEFFS, np.asarray(temperature_k, dtype=float))


def albedo(incidence_deg: ArrayLike, params: RegolithParams) -> NDArray:
    """Bond albedo at a solar incidence angle [-] (Keihm 1984; Hayne et al. 2017, eq. A7)."""
    theta = np.asarray(incidence_deg, dtype=float)
    return params.albedo + params.albedo_a * (theta / 45.0) ** 3 + params.albedo_b * (theta / 90.0) ** 8


@dataclass(frozen=True)
class Grid:
    """Depth nodes of the model.

    Attributes
    ----------
    z : ndarray
        Node depths, 0 at the surface [m].
    density : ndarray
        Density at the nodes [kg m^-3].
    contact_conductivity : ndarray
        Contact conductivity at the nodes [W m^-1 K^-1].
    skin_depth_m : float
        Skin depth of the forcing period at the surface [m].
    """

    z: NDArray
    density: NDArray
    contact_conductivity: NDArray
    skin_depth_m: float


def make_grid(params: RegolithParams, period_s: float, min_depth_m: float = 0.0) -> Grid:
    """The geometric grid of Hayne et al. (2017, appendix A2) for a forcing period.

    Parameters
    ----------
    params : RegolithParams
        Regolith properties.
    period_s : float
        Period of the forcing (one lunation for the diurnal cycle) [s].
    min_depth_m : float
        Reach at least this depth [m] (e.g. 1.5 m for ice stability).
    """
    kappa = params.conductivity_surface / (params.density_surface * float(heat_capacity(250.0)))
    skin = float(np.sqrt(kappa * period_s / np.pi))
    bottom = max(params.skins_deep * skin, min_depth_m)
    thickness = skin / params.layers_per_skin
    z = [0.0]
    while z[-1] < bottom:
        z.append(z[-1] + thickness)
        thickness *= 1.0 + 1.0 / params.growth_n
    z = np.array(z)
    decay = np.exp(-z / params.h_parameter_m)
    density = params.density_deep - (params.density_deep - params.density_surface) * decay
    conductivity = params.conductivity_deep - (params.conductivity_deep - params.conductivity_surface) * decay
    return Grid(z, density, conductivity, skin)


@dataclass(frozen=True)
class ThermalRun:
    """Result of a run to equilibrium.

    Attributes
    ----------
    surface_k : ndarray
        Surface temperature at each step of the last cycle [K].
    mean_profile_k : ndarray
        Cycle-mean temperature at every node [K].
    max_profile_k : ndarray
        Cycle-maximum temperature at every node [K].
    final_profile_k : ndarray
        Temperature at every node at the end of the last cycle [K].
    mean_flux_w_m2 : ndarray
        Cycle-mean upward conductive flux between consecutive nodes [W m^-2].
    vapour_mean : ndarray
        Cycle mean of ``p_v(T) / sqrt(T)`` at every node [Pa K^-1/2]
        (:mod:`lupex.thermal.ice_stability`).
    grid : Grid
        The nodes.
    cycles : int
        Cycles run until converged.
    """

    surface_k: NDArray
    mean_profile_k: NDArray
    max_profile_k: NDArray
    final_profile_k: NDArray
    mean_flux_w_m2: NDArray
    vapour_mean: NDArray
    grid: Grid
    cycles: int


def run_to_equilibrium(absorbed_w_m2: ArrayLike, dt_s: float, params: RegolithParams | None = None,
                       period_s: float | None = None, tolerance_k: float = 0.01, max_cycles: int = 200,
                       min_depth_m: float = 0.0) -> ThermalRun:
    """Repeat a cycle of absorbed flux until the regolith's temperatures are periodic.

    Parameters
    ----------
    absorbed_w_m2 : array_like
        Absorbed flux at each step of one cycle [W m^-2] (albedo already applied).
    dt_s : float
        Time step [s].
    params : RegolithParams, optional
        Regolith properties (defaults of Hayne et al. 2017).
    period_s : float, optional
        Period that sets the grid's skin depth [s]; the cycle's length by default.
    tolerance_k : float
        Convergence: largest drift of any node's temperature over the last cycle and largest
        spin-up correction after it [K] (:func:`lupex.thermal.solver.equilibrate`).
    max_cycles : int
        Give up after this many cycles.
    min_depth_m : float
        Reach at least this depth [m].

    Raises
    ------
    LupexError
        When the run has not converged after ``max_cycles``.
    """
    params = params or RegolithParams()
    flux = np.ascontiguousarray(absorbed_w_m2, dtype=float)
    grid = make_grid(params, period_s or flux.size * dt_s, min_depth_m)
    n = grid.z.size
    eps_sigma = params.emissivity * STEFAN_BOLTZMANN
    temp = np.empty(n)
    initial_profile(grid.z, grid.contact_conductivity, eps_sigma, params.geothermal_flux, float(flux.mean()), temp)
    table, table_step = vapour_table()
    stats = np.empty(len(CYCLE_STATS))
    mean, peak, vapour = np.empty(n), np.empty(n), np.empty(n)
    flux_mean, surface = np.empty(n - 1), np.empty(flux.size)
    cycles = equilibrate(temp, grid.z, grid.density, grid.contact_conductivity, params.chi, eps_sigma,
                         params.geothermal_flux, flux, float(dt_s), table, table_step, n, tolerance_k, max_cycles,
                         stats, mean, peak, flux_mean, vapour, surface)
    if cycles < 0:
        raise LupexError(f"the regolith model did not converge to {tolerance_k} K within {max_cycles} cycles")
    return ThermalRun(surface, mean, peak, temp, flux_mean, vapour, grid, cycles)
